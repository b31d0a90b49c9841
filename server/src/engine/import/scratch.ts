import fs from 'node:fs';

import type { Knex } from 'knex';

import type { OpenedArchive } from '../archive';
import { EngineError } from '../errors';
import type { ManifestTable } from '../manifest';
import { ndjsonBatches } from '../ndjson';
import { toCanonical } from '../values';
import type { CellReader } from './reader';

/**
 * An archive's tables in a scratch SQLite file, so that its documents can be read with the
 * same queries as the app's own database: a preview compares documents without holding either
 * side in memory. Columns are untyped (no SQLite affinity); values are stored as the archive
 * gives them (objects as JSON text) and read back in canonical form.
 */

export interface ScratchDatabase {
  prepare(sql: string): { run(...values: unknown[]): unknown; get(...values: unknown[]): unknown; all(...values: unknown[]): unknown[]; iterate(...values: unknown[]): IterableIterator<unknown> };
  exec(sql: string): void;
  pragma(sql: string): unknown;
  transaction<T extends (...args: never[]) => unknown>(fn: T): T;
  close(): void;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** better-sqlite3, from the app (an optional peer dependency of the plugin, as for drills). */
export const openSqlite = (file: string): ScratchDatabase => {
  let Database: new (file: string) => ScratchDatabase;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    Database = require('better-sqlite3');
  } catch {
    throw new EngineError('DRILL_UNAVAILABLE', 'An import needs the better-sqlite3 package: npm install better-sqlite3');
  }
  const db = new Database(file);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  return db;
};

const toCell = (value: unknown) => {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'object') {
    if ('$base64' in (value as object)) return Buffer.from(String((value as { $base64: string }).$base64), 'base64');
    return JSON.stringify(value);
  }
  return value;
};

export interface LoadedTables {
  /** Table → column → the archive's column type. */
  types: Map<string, Map<string, string>>;
  cell: CellReader;
}

/** Loads the given tables of an opened (and verified) archive into the scratch database. */
export const loadTables = async (
  archive: OpenedArchive,
  db: ScratchDatabase,
  tables: ManifestTable[],
  onTable?: (done: number, total: number) => void
): Promise<LoadedTables> => {
  const types = new Map<string, Map<string, string>>();
  const objects = new Set<string>();
  let done = 0;
  for (const table of tables) {
    const columns = table.columns.map((c) => c.name);
    types.set(table.name, new Map(table.columns.map((c) => [c.name, c.type])));
    db.exec(`CREATE TABLE ${quote(table.name)} (${columns.map((c) => (c === 'id' ? `${quote(c)} INTEGER PRIMARY KEY` : quote(c))).join(', ')})`);
    const insert = db.prepare(`INSERT INTO ${quote(table.name)} (${columns.map(quote).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
    const insertBatch = db.transaction((batch: unknown[][]) => {
      for (const row of batch) {
        row.forEach((value, i) => {
          if (value !== null && typeof value === 'object' && !('$base64' in (value as object))) objects.add(`${table.name}.${columns[i]}`);
        });
        insert.run(...row.map(toCell));
      }
    });
    for await (const batch of ndjsonBatches(archive.open(table.entry))) insertBatch(batch as never);
    for (const column of ['document_id', 'entity_id', 'related_id']) {
      if (columns.includes(column)) db.exec(`CREATE INDEX ${quote(`${table.name}_${column}_i`)} ON ${quote(table.name)} (${quote(column)})`);
    }
    // Link tables: an index on each id column.
    for (const column of columns.filter((c) => c.endsWith('_id') && !['document_id', 'entity_id', 'related_id', 'created_by_id', 'updated_by_id'].includes(c))) {
      db.exec(`CREATE INDEX ${quote(`${table.name}_${column}_i`)} ON ${quote(table.name)} (${quote(column)})`);
    }
    onTable?.(++done, tables.length);
  }
  // Remembered in the file, for whoever opens it again (the apply after the preview).
  db.exec(`CREATE TABLE IF NOT EXISTS "_pacta_json" (name TEXT PRIMARY KEY)`);
  const remember = db.prepare(`INSERT OR IGNORE INTO "_pacta_json" (name) VALUES (?)`);
  for (const name of objects) remember.run(name);
  return { types, cell: cellReader(types, objects) };
};

/** Canonical values of a scratch file's cells: objects stored as JSON text come back parsed. */
export const cellReader = (types: Map<string, Map<string, string>>, objects: Set<string>): CellReader => {
  const cell: CellReader = (table, column, raw) => {
    const type = types.get(table)?.get(column) ?? 'string';
    const out = toCanonical(raw, type, 'sqlite');
    if (typeof out === 'string' && objects.has(`${table}.${column}`)) {
      try {
        return JSON.parse(out) as unknown;
      } catch {
        return out;
      }
    }
    return out;
  };
  return cell;
};

/** The cell reader of a scratch file loaded earlier from `tables`. */
export const reopenTables = async (knex: Knex, tables: ManifestTable[]): Promise<LoadedTables> => {
  const types = new Map(tables.map((t) => [t.name, new Map(t.columns.map((c) => [c.name, c.type]))]));
  const rows = (await knex('_pacta_json').select('name')) as Array<{ name: string }>;
  return { types, cell: cellReader(types, new Set(rows.map((r) => r.name))) };
};

/** A knex over a scratch SQLite file (knex as Strapi's own database layer resolves it). */
export const scratchKnex = (file: string): Knex => {
  const knexPath = require.resolve('knex', { paths: [require.resolve('@strapi/database')] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const createKnex = require(knexPath) as (config: Knex.Config) => Knex;
  return createKnex({ client: 'better-sqlite3', connection: { filename: file }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
};

export const removeFile = (file: string) => fs.promises.rm(file, { force: true });
