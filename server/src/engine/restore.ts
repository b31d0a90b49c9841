import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

import type { Knex } from 'knex';

import { applyRestore, type TablePlan, type TargetSchema } from './apply';
import { openArchive, type OpenedArchive } from './archive';
import { EngineError, type EngineErrorCode } from './errors';
import { localFilesOf } from './media';
import { MEDIA_INDEX_ENTRY, type Manifest, type ManifestTable, type MediaFile, type RowFilter, type SubQuery } from './manifest';
import { fromNdjson, ndjsonBatches } from './ndjson';
import type { Dialect } from './values';

export interface RestoreSelection {
  /** Tables of the archive to restore (the service maps content types to tables). */
  tables: Set<string>;
  /**
   * How each table is replaced in this app (from the app's own scope of the request): a
   * selective restore from a full backup replaces only the rows the filter selects, on both
   * sides. Tables not named keep the archive's mode.
   */
  filters?: Map<string, { mode: ManifestTable['mode']; filter: RowFilter | null }>;
  media: boolean;
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
  /** Called once everything is validated, before anything changes (the safety backup). */
  beforeApply?: (manifest: Manifest) => Promise<void>;
  onProgress?: (progress: { phase: string; done: number; total: number }) => void;
  failAfterTables?: number;
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
          for await (const row of fromNdjson(archive.open(table.entry))) if (test(row)) values.add(row[index]);
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
    for await (const batch of ndjsonBatches(archive.open(table.entry))) yield test ? batch.filter(test) : batch;
  };

  // Every entry is read and checked before anything changes.
  const timings: Record<string, number> = {};
  let started = Date.now();
  const lap = (name: string) => {
    timings[name] = Date.now() - started;
    started = Date.now();
  };
  onProgress?.({ phase: 'verify', done: 0, total: manifest.entries.length });
  let verified = 0;
  const verification = await archive.verify(() => onProgress?.({ phase: 'verify', done: ++verified, total: manifest.entries.length }));
  if (!verification.ok) {
    const bad = verification.entries.find((e) => !e.ok)!;
    throw new EngineError((bad.code as EngineErrorCode) ?? 'CHECKSUM', bad.error ?? `The archive entry ${bad.path} is damaged`, { entry: bad.path });
  }

  lap('verifyMs');
  await options.beforeApply?.(manifest);
  lap('safetyBackupMs');

  // Media: staged next to the uploads, swapped in before the commit.
  const restoreMedia = selection.media && manifest.media.included;
  const uploads = path.join(publicDir, 'uploads');
  const stamp = `${process.pid}-${Date.now()}`;
  const staging = path.join(uploads, `.pacta-staging-${stamp}`);
  const trash = path.join(uploads, `.pacta-trash-${stamp}`);
  const swapped: Array<{ target: string; previous: string | null }> = [];
  let mediaFiles: MediaFile[] = [];
  if (restoreMedia) {
    const index = archive.open(MEDIA_INDEX_ENTRY);
    for await (const line of fromNdjson(index)) mediaFiles.push(line as unknown as MediaFile);
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
    await fs.promises.mkdir(staging, { recursive: true });
    const staged = new Set<string>();
    let done = 0;
    for (const file of mediaFiles) {
      if (!staged.has(file.sha256)) {
        await pipeline(archive.open(`media/${file.sha256}`), fs.createWriteStream(path.join(staging, file.sha256)));
        staged.add(file.sha256);
      }
      onProgress?.({ phase: 'media', done: ++done, total: mediaFiles.length });
    }
  }

  const swapMedia = async () => {
    await fs.promises.mkdir(trash, { recursive: true });
    for (const file of mediaFiles) {
      const target = path.join(publicDir, file.path);
      if (!target.startsWith(uploads + path.sep)) throw new EngineError('UNSAFE_PATH', `Unsafe media path ${file.path}`);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      const exists = await fs.promises.stat(target).catch(() => null);
      let previous: string | null = null;
      if (exists) {
        previous = path.join(trash, `${swapped.length}`);
        await fs.promises.rename(target, previous);
      }
      swapped.push({ target, previous });
      await fs.promises.copyFile(path.join(staging, file.sha256), target);
    }
  };

  lap('mediaMs');
  const plans: TablePlan[] = tables.map((table) => ({
    name: table.name,
    columns: table.columns,
    mode: table.mode,
    filter: table.filter,
    nextId: table.nextId,
    rows: () => rowsOf(table),
  }));
  const total = tables.reduce((n, t) => n + t.rows, 0);
  let done = 0;
  try {
    const outcomes = await applyRestore(knex, dialect, schema, plans, {
      failAfterTables: options.failAfterTables,
      onProgress: ({ rows }) => onProgress?.({ phase: 'rows', done: (done += rows), total }),
      beforeCommit: restoreMedia ? swapMedia : undefined,
    });
    lap('rowsMs');
    return { manifest, outcomes, skipped, media: { files: mediaFiles.length }, timings };
  } catch (error) {
    for (const { target, previous } of swapped.reverse()) {
      await fs.promises.rm(target, { force: true });
      if (previous) await fs.promises.rename(previous, target);
    }
    throw error;
  } finally {
    await fs.promises.rm(staging, { recursive: true, force: true });
    await fs.promises.rm(trash, { recursive: true, force: true });
  }
};
