import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

import type { Knex } from 'knex';

import { applyRestore, type TablePlan, type TargetSchema } from './apply';
import { crashPoint } from './faults';
import { FileSwap, listUploads } from './journal';
import { openArchive, type OpenedArchive } from './archive';
import { EngineError, type EngineErrorCode } from './errors';
import { localFilesOf } from './media';
import { MEDIA_INDEX_ENTRY, type Manifest, type ManifestTable, type MediaFile, type RowFilter, type SubQuery } from './manifest';
import { fromNdjson } from './ndjson';
import type { Dialect } from './values';

export interface RestoreSelection {
  /** Tables of the archive to restore (the service maps content types to tables). */
  tables: Set<string>;
  /**
   * How each table is replaced in this app (from the app's own scope of the request): a
   * selective restore from a full backup replaces only the rows the filter selects, on both
   * sides. Tables not named keep the archive's mode.
   */
  filters?: Map<string, { mode: ManifestTable['mode']; filter: RowFilter | null; incoming?: { column: string; table: string } }>;
  media: boolean;
  /** A full restore: the uploads folder ends up with exactly the backup's files. */
  exactMedia?: boolean;
  /** Leave out the tables that do not fit this app instead of refusing the restore. */
  skipIncompatible?: boolean;
}

export interface RestoreOptions {
  knex: Knex;
  dialect: Dialect;
  archivePath: string;
  passphrase: string | null;
  schema: TargetSchema;
  selection: (manifest: Manifest) => RestoreSelection;
  publicDir: string;
  /**
   * Called once everything is validated, before anything changes (the safety backup); a full
   * restore names the files under uploads/ that it will remove (the backup does not have them).
   */
  beforeApply?: (manifest: Manifest, context: { extraMedia: string[] }) => Promise<void>;
  onProgress?: (progress: { phase: string; done: number; total: number }) => void;
  /** The commit marker of the file journal (see journal.ts): a row in the plugin's own table. */
  marker?: CommitMarker;
  failAfterTables?: number;
  /** Test hook: fail after the media files were swapped, just before the commit. */
  failBeforeCommit?: boolean;
}

/** Says, after a crash, whether a restore's transaction committed. */
export interface CommitMarker {
  /** Writes the marker in the restore's transaction. */
  mark(trx: Knex.Transaction, id: string): Promise<void>;
  committed(id: string): Promise<boolean>;
  forget(id: string): Promise<void>;
}

export interface Incompatibility {
  table: string;
  owner: string;
  problem: string;
}

/** What stops a table of the archive from going into this database as it is. */
export const checkCompatibility = (tables: ManifestTable[], schema: TargetSchema): Incompatibility[] => {
  const problems: Incompatibility[] = [];
  for (const table of tables) {
    const target = schema.tables.get(table.name);
    if (!target) {
      problems.push({ table: table.name, owner: table.owner, problem: `table ${table.name} does not exist in this app` });
      continue;
    }
    const names = new Set(target.map((c) => c.name));
    for (const column of table.columns) {
      if (!names.has(column.name)) {
        problems.push({ table: table.name, owner: table.owner, problem: `column ${table.name}.${column.name} does not exist in this app` });
      }
    }
    const archived = new Set(table.columns.map((c) => c.name));
    for (const column of target) {
      if (!archived.has(column.name) && !column.nullable && !column.hasDefault) {
        problems.push({ table: table.name, owner: table.owner, problem: `column ${table.name}.${column.name} is required here and not in the backup` });
      }
    }
  }
  return problems;
};

/**
 * Evaluates a RowFilter against the rows of the archive itself (sub-queries read the tables
 * they name from the archive), so the rows taken from a full backup are exactly those the same
 * filter selects in the database.
 */
const archivePredicate = (archive: OpenedArchive, manifest: Manifest) => {
  const cache = new Map<string, Promise<Set<unknown>>>();
  const tables = new Map(manifest.tables.map((t) => [t.name, t]));

  const select = (query: SubQuery): Promise<Set<unknown>> => {
    const key = JSON.stringify(query);
    if (!cache.has(key)) {
      cache.set(
        key,
        (async () => {
          const table = tables.get(query.table);
          const values = new Set<unknown>();
          if (!table) return values;
          const columns = table.columns.map((c) => c.name);
          const test = query.where ? await compile(query.where, columns) : () => true;
          const index = columns.indexOf(query.column);
          for await (const batch of archive.rows(table)) for (const row of batch) if (test(row)) values.add(row[index]);
          return values;
        })()
      );
    }
    return cache.get(key)!;
  };

  const compile = async (filter: RowFilter, columns: string[]): Promise<(row: unknown[]) => boolean> => {
    const alternatives = await Promise.all(
      filter.map(async (conjunction) =>
        Promise.all(
          conjunction.map(async (condition) => {
            const index = columns.indexOf(condition.column);
            if (condition.in) {
              const values = await select(condition.in);
              return (row: unknown[]) => values.has(row[index]);
            }
            return (row: unknown[]) => row[index] === condition.equals;
          })
        )
      )
    );
    return (row) => alternatives.some((tests) => tests.every((test) => test(row)));
  };

  return compile;
};

/**
 * Restores an archive: validates everything first (key, manifest, every checksum, schema
 * compatibility), calls beforeApply (the safety backup), stages the media files, then writes
 * the rows in one transaction; the media files are swapped in inside that transaction and put
 * back if it fails, so a failed restore leaves database and uploads as they were.
 */
export const runRestore = async (options: RestoreOptions) => {
  const { knex, dialect, archivePath, passphrase, schema, publicDir, onProgress } = options;
  const archive = await openArchive(archivePath, { passphrase });
  const { manifest } = archive;

  const selection = options.selection(manifest);
  let tables = manifest.tables.filter((t) => selection.tables.has(t.name));
  const problems = checkCompatibility(tables, schema);
  if (problems.length && !selection.skipIncompatible) {
    throw new EngineError(
      'SCHEMA_MISMATCH',
      `The backup does not fit this app: ${problems.slice(0, 5).map((p) => `${p.problem} (${p.owner})`).join('; ')}`,
      { problems }
    );
  }
  // Admin accounts, roles, API tokens and the config store decide who can do what in this app:
  // they come back only from an archive sealed under this app's key (an encrypted archive opens
  // only with it, and its manifest's MAC is checked). Anyone who can drop a file into the
  // storage folder could otherwise restore their own super admin.
  const privileged = [...new Set(tables.filter((t) => t.group !== 'content').map((t) => t.owner))];
  if (privileged.length && !archive.authenticated) {
    throw new EngineError(
      'UNAUTHENTICATED',
      `Admin users, roles, API tokens and the config store are only restored from an encrypted backup made with this app's key; this backup is not encrypted (${privileged.slice(0, 5).join(', ')}). Restore its content only.`,
      { owners: privileged }
    );
  }
  const skipped = [...new Set(problems.map((p) => p.owner))];
  tables = tables
    .filter((t) => !skipped.includes(t.owner))
    .map((t) => {
      const here = selection.filters?.get(t.name);
      return here ? { ...t, mode: here.mode, filter: here.filter } : t;
    });
  const compile = archivePredicate(archive, manifest);
  const predicates = new Map<string, (row: unknown[]) => boolean>();
  for (const table of tables) {
    if (table.mode !== 'replace' && table.filter) {
      predicates.set(table.name, await compile(table.filter, table.columns.map((c) => c.name)));
    }
  }
  /** The archive's rows of a table that the restore takes, in batches. */
  const rowsOf = async function* (table: ManifestTable) {
    const test = predicates.get(table.name);
    for await (const batch of archive.rows(table)) yield test ? batch.filter(test) : batch;
  };

  // Every entry is read to its end and its size and SHA-256 checked before anything changes. The
  // rows are parsed once, as they are written: each table's are checked against the manifest
  // then (archive.rows), inside the transaction, which a table that is not what the manifest
  // says rolls back whole. Parsing them here too cost about 3 s of a PostgreSQL M restore.
  const timings: Record<string, number> = {};
  let started = Date.now();
  const lap = (name: string) => {
    timings[name] = Date.now() - started;
    started = Date.now();
  };
  onProgress?.({ phase: 'verify', done: 0, total: manifest.entries.length });
  let verified = 0;
  const verification = await archive.verify(() => onProgress?.({ phase: 'verify', done: ++verified, total: manifest.entries.length }), {
    rows: false,
  });
  if (!verification.ok) {
    const bad = verification.entries.find((e) => !e.ok)!;
    throw new EngineError((bad.code as EngineErrorCode) ?? 'CHECKSUM', bad.error ?? `The archive entry ${bad.path} is damaged`, { entry: bad.path });
  }

  lap('verifyMs');

  // Media: a full restore leaves exactly the backup's files (every file of its index; the others
  // are moved away, after the safety backup took them); a partial one brings the files its
  // `files` rows name and removes nothing.
  const restoreMedia = selection.media && manifest.media.included;
  const exact = restoreMedia && Boolean(selection.exactMedia);
  let mediaFiles: MediaFile[] = [];
  let extraFiles: string[] = [];
  if (restoreMedia) {
    const index = archive.open(MEDIA_INDEX_ENTRY);
    for await (const line of fromNdjson(index)) mediaFiles.push(line as unknown as MediaFile);
    if (!exact) {
      // Only the files that the restored `files` rows name.
      const filesTable = tables.find((t) => t.name === 'files');
      const named = new Set<string>();
      if (filesTable) {
        const columns = filesTable.columns.map((c) => c.name);
        const [url, formats, provider] = ['url', 'formats', 'provider'].map((c) => columns.indexOf(c));
        for await (const batch of rowsOf(filesTable)) {
          for (const row of batch) localFilesOf({ url: row[url], formats: row[formats], provider: row[provider] }).forEach((f) => named.add(f));
        }
      }
      mediaFiles = mediaFiles.filter((file) => named.has(file.path));
    } else {
      const kept = new Set(mediaFiles.map((file) => file.path));
      extraFiles = (await listUploads(publicDir)).filter((file) => !kept.has(file));
    }
    const uploads = path.join(publicDir, 'uploads') + path.sep;
    const unsafe = mediaFiles.find((file) => !path.join(publicDir, file.path).startsWith(uploads));
    if (unsafe) throw new EngineError('UNSAFE_PATH', `Unsafe media path ${unsafe.path}`);
  }

  await options.beforeApply?.(manifest, { extraMedia: extraFiles });
  lap('safetyBackupMs');

  // Staged in a work folder of their own, journaled, swapped in just before the commit.
  const swap = restoreMedia ? await FileSwap.create(publicDir) : null;
  const marker = options.marker;
  try {
    if (swap) {
      const staged = new Set<string>();
      let done = 0;
      for (const file of mediaFiles) {
        if (!staged.has(file.sha256)) {
          await pipeline(archive.open(`media/${file.sha256}`), fs.createWriteStream(path.join(swap.staging, file.sha256), { mode: 0o600 }));
          staged.add(file.sha256);
        }
        onProgress?.({ phase: 'media', done: ++done, total: mediaFiles.length });
      }
      const present = async (file: string) => Boolean(await fs.promises.stat(path.join(publicDir, file)).catch(() => null));
      await swap.plan([
        ...(await Promise.all(mediaFiles.map(async (file) => ({ target: file.path, staged: file.sha256, existed: await present(file.path) })))),
        ...extraFiles.map((file) => ({ target: file, staged: null, existed: true })),
      ]);
      crashPoint('restore:journal');
    }
    lap('mediaMs');

    const plans: TablePlan[] = tables.map((table) => {
      const incoming = selection.filters?.get(table.name)?.incoming;
      return {
        name: table.name,
        columns: table.columns,
        // Link tables with incoming links are merged (apply.ts): whole when no row is owned.
        mode: incoming && table.mode === 'replace' ? 'incoming' : table.mode,
        filter: table.filter,
        incoming,
        nextId: table.nextId,
        rows: () => rowsOf(table),
        allRows: () => archive.rows(table),
      };
    });
    const total = tables.reduce((n, t) => n + t.rows, 0);
    let done = 0;
    const applied = await applyRestore(knex, dialect, schema, plans, {
      failAfterTables: options.failAfterTables,
      onProgress: ({ rows }) => onProgress?.({ phase: 'rows', done: (done += rows), total }),
      beforeCommit: swap
        ? async (trx) => {
            // Written in the transaction: present after a crash exactly when the rows committed.
            await marker?.mark(trx, swap.id);
            crashPoint('restore:rows');
            const half = Math.ceil(swap.changes.length / 2);
            await swap.forward((n) => {
              if (n === half) crashPoint('restore:swap');
            });
            if (options.failBeforeCommit) throw new EngineError('RESTORE_FAILED', 'Injected failure after the media files were swapped');
          }
        : undefined,
    });
    crashPoint('restore:committed');
    lap('rowsMs');
    await swap?.settle(marker, { committed: true });
    return {
      manifest,
      outcomes: applied.tables,
      links: applied.links,
      skipped,
      media: { files: mediaFiles.length, removed: extraFiles.length },
      timings,
    };
  } catch (error) {
    await swap?.settle(marker);
    throw error;
  }
};
