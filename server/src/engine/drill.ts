import { createHash } from 'node:crypto';
import fs from 'node:fs';

import { openArchive } from './archive';
import { EngineError } from './errors';
import { ndjsonBatches } from './ndjson';
import { fromCanonical, toCanonical } from './values';

export interface DrillTableResult {
  table: string;
  expectedRows: number;
  rows: number;
  checksumOk: boolean;
}

export interface DrillResult {
  ok: boolean;
  tables: DrillTableResult[];
  rows: number;
  durationMs: number;
  /** The first problems found, in words. */
  problems: string[];
}

interface ScratchDatabase {
  prepare(sql: string): { run(...values: unknown[]): unknown; get(...values: unknown[]): unknown; iterate(...values: unknown[]): IterableIterator<unknown[]>; raw(on?: boolean): ScratchStatement };
  exec(sql: string): void;
  pragma(sql: string): unknown;
  close(): void;
}
type ScratchStatement = { iterate(...values: unknown[]): IterableIterator<unknown[]> };

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** better-sqlite3, from the app (an optional peer dependency of the plugin). */
const openScratch = (file: string): ScratchDatabase => {
  let Database: new (file: string) => ScratchDatabase;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    Database = require('better-sqlite3');
  } catch {
    throw new EngineError('DRILL_UNAVAILABLE', 'A restore drill needs the better-sqlite3 package: npm install better-sqlite3');
  }
  return new Database(file);
};

/**
 * A restore drill: restores every table of an archive into a scratch SQLite database (outside
 * the app's own, deleted afterwards), then reads each table back in id order, converts it to
 * the archive's canonical form and compares its row count with the manifest and its SHA-256 with
 * that of the archive's rows (parsed, serialised the same way; the entry's own bytes are checked
 * against the manifest's SHA-256 as it is read). A
 * pass proves that the archive decrypts, decompresses and parses, and that every row goes into
 * a real database and comes back value for value. Columns are declared without types (no SQLite
 * affinity) so values are stored exactly as bound.
 */
export const runDrill = async ({
  archivePath,
  passphrase,
  scratchFile,
  onProgress,
}: {
  archivePath: string;
  passphrase: string | null;
  scratchFile: string;
  onProgress?: (progress: { done: number; total: number; table: string }) => void;
}): Promise<DrillResult> => {
  const started = Date.now();
  const archive = await openArchive(archivePath, { passphrase });
  const { manifest } = archive;
  await fs.promises.rm(scratchFile, { force: true });
  const db = openScratch(scratchFile);
  const results: DrillTableResult[] = [];
  const problems: string[] = [];
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    let done = 0;
    for (const table of manifest.tables) {
      const columns = table.columns.map((c) => c.name);
      const types = table.columns.map((c) => c.type);
      const hasId = columns.includes('id');
      db.exec(`CREATE TABLE ${quote(table.name)} (${columns.map((c) => (c === 'id' ? `${quote(c)} PRIMARY KEY` : quote(c))).join(', ')})`);
      const insert = db.prepare(`INSERT INTO ${quote(table.name)} (${columns.map(quote).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      // Columns the source's inspector calls text but whose driver hands back parsed JSON
      // (MariaDB's JSON is LONGTEXT): stored as JSON text, read back parsed, as on MariaDB.
      const jsonText = columns.map(() => false);
      db.exec('BEGIN');
      // The archive's rows as values, serialised as the read-back is: a line PostgreSQL wrote
      // (bulk/postgres-json-read.ts) holds the same values in other bytes (", ", 1e+15). The
      // bytes themselves are checked against the manifest's SHA-256 as the entry is read.
      const archived = createHash('sha256');
      for await (const batch of ndjsonBatches(archive.open(table.entry))) {
        for (const row of batch) {
          archived.update(`${JSON.stringify(row)}\n`);
          row.forEach((value, i) => {
            if (value !== null && typeof value === 'object' && !('$base64' in value)) jsonText[i] = true;
          });
          insert.run(...row.map((value, i) => fromCanonical(value, types[i], 'sqlite')));
        }
      }
      db.exec('COMMIT');
      const canonical = (row: unknown[]) =>
        row.map((value, i) => {
          const out = toCanonical(value, types[i], 'sqlite');
          if (!jsonText[i] || typeof out !== 'string') return out;
          try {
            return JSON.parse(out) as unknown;
          } catch {
            return out;
          }
        });

      const count = Number((db.prepare(`SELECT COUNT(*) AS n FROM ${quote(table.name)}`).get() as { n: number }).n);
      const hash = createHash('sha256');
      const read = db.prepare(`SELECT ${columns.map(quote).join(', ')} FROM ${quote(table.name)} ORDER BY ${hasId ? quote('id') : 'rowid'}`).raw(true);
      for (const row of read.iterate()) hash.update(`${JSON.stringify(canonical(row))}\n`);
      const checksumOk = hash.digest('hex') === archived.digest('hex');
      /** Where the rows read back first differ from the archive's, in words. */
      const firstDifference = async () => {
        const back = read.iterate();
        try {
          return await differenceIn(back);
        } finally {
          back.return?.();
        }
      };
      const differenceIn = async (back: IterableIterator<unknown[]>) => {
        let index = 0;
        for await (const batch of ndjsonBatches(archive.open(table.entry))) {
          for (const row of batch) {
            const next = back.next();
            if (next.done) return `: row ${index + 1} is missing`;
            const restored = canonical(next.value);
            const column = columns.findIndex((_, i) => JSON.stringify(restored[i]) !== JSON.stringify(row[i]));
            if (column >= 0) {
              return `: first at row ${index + 1}, column ${columns[column]} (${types[column]}): ${JSON.stringify(row[column]).slice(0, 80)} became ${JSON.stringify(restored[column]).slice(0, 80)}`;
            }
            index += 1;
          }
        }
        return '';
      };
      results.push({ table: table.name, expectedRows: table.rows, rows: count, checksumOk });
      if (count !== table.rows) problems.push(`${table.name}: ${count} rows restored, the manifest says ${table.rows}`);
      if (!checksumOk) problems.push(`${table.name}: the rows read back differ from the archive (checksum)${await firstDifference()}`);
      onProgress?.({ done: ++done, total: manifest.tables.length, table: table.name });
    }
  } finally {
    db.close();
    await fs.promises.rm(scratchFile, { force: true });
  }
  return {
    ok: problems.length === 0,
    tables: results,
    rows: results.reduce((n, t) => n + t.rows, 0),
    durationMs: Date.now() - started,
    problems: problems.slice(0, 10),
  };
};
