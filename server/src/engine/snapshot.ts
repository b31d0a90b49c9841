import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Knex } from 'knex';

import type { RowFilter } from './manifest';
import { hostTag, isPidAlive } from './owner';
import { bulkFor } from './bulk';
import { applyFilter } from './sql';
import { toCanonical, type Dialect } from './values';

/**
 * A point-in-time read of the database: every table of a backup is read from the same
 * consistent state, whatever writes the app does meanwhile.
 *  - PostgreSQL: one connection in a REPEATABLE READ, READ ONLY transaction.
 *  - MariaDB/MySQL: one connection in START TRANSACTION WITH CONSISTENT SNAPSHOT.
 *  - SQLite: the online backup API copies the database file page by page into a temporary
 *    file (Strapi's single connection stays usable meanwhile), and rows are read from that copy.
 *    The copy is the whole database in clear (password and token hashes too), whatever the
 *    archive's encryption: it lives in a private folder of the system's temp folder (0700, the
 *    file 0600 before a byte is copied), never in the storage folder, and is deleted by close();
 *    after a crash, cleanSnapshots() removes it at the next start.
 * Rows come in primary-key order, in batches, so memory stays flat.
 */
export interface SnapshotTable {
  name: string;
  columns: string[];
  filter: RowFilter | null;
}

export interface Snapshot {
  count(table: SnapshotTable): Promise<number>;
  /** The id the next insert into `table` would get (null for a table without a sequence). */
  nextId(table: string): Promise<number | null>;
  /** Rows as value arrays in `table.columns` order, ordered by primary key, as the driver gives them. */
  batches(table: SnapshotTable, size?: number): AsyncGenerator<unknown[][]>;
  /**
   * The same rows in their canonical form (values.ts), `types` in `table.columns` order: through
   * the engine's bulk path where it has one (bulk/), else batches() converted.
   */
  rows(table: SnapshotTable, types: string[]): AsyncGenerator<unknown[][]>;
  /**
   * The same rows as NDJSON lines the database writes itself (bulk/ readLines), their bytes as they
   * come; null when the engine or the table's columns have no such path (then rows()).
   */
  lines(table: SnapshotTable, types: string[]): Promise<AsyncGenerator<Buffer> | null>;
  close(): Promise<void>;
}

const BATCH = 2000;

type Runner = <T = Record<string, unknown>>(builder: Knex.QueryBuilder | Knex.Raw) => Promise<T[]>;

const orderColumns = (table: SnapshotTable) => (table.columns.includes('id') ? ['id'] : table.columns);

const build = (knex: Knex, table: SnapshotTable) => {
  const builder = knex(table.name);
  if (table.filter) applyFilter(knex, builder, table.filter);
  return builder;
};

/** Keyset pagination on id (or offset pagination, ordered by every column, without one). */
async function* paginate(knex: Knex, run: Runner, table: SnapshotTable, size: number) {
  const hasId = table.columns.includes('id');
  const idIndex = table.columns.indexOf('id');
  let last: unknown = null;
  let offset = 0;
  for (;;) {
    const builder = build(knex, table).select(table.columns).orderBy(orderColumns(table)).limit(size);
    if (hasId && last !== null) builder.andWhere('id', '>', last as number);
    if (!hasId) builder.offset(offset);
    const rows = await run(builder);
    if (!rows.length) return;
    const values = rows.map((row) => table.columns.map((column) => row[column]));
    yield values;
    if (rows.length < size) return;
    if (hasId) last = values[values.length - 1][idIndex];
    offset += rows.length;
  }
}

/** The driver's rows of `batches` in canonical form (converted in place: batches hand out fresh arrays). */
async function* canonical(batches: AsyncIterable<unknown[][]>, types: string[], dialect: Dialect) {
  for await (const batch of batches) {
    for (const row of batch) for (let i = 0; i < row.length; i += 1) row[i] = toCanonical(row[i], types[i], dialect);
    yield batch;
  }
}

/** Counting and reading rows are the same on every engine, given how a query runs. */
const readers = (knex: Knex, run: Runner, dialect: Dialect): Pick<Snapshot, 'count' | 'batches' | 'rows' | 'lines'> => ({
  async count(table) {
    const [row] = await run(build(knex, table).count({ count: '*' }));
    return Number(row.count);
  },
  batches: (table, size = BATCH) => paginate(knex, run, table, size),
  rows: (table, types) => canonical(paginate(knex, run, table, BATCH), types, dialect),
  lines: async () => null,
});

const openServerSnapshot = async (knex: Knex, dialect: 'postgres' | 'mysql'): Promise<Snapshot> => {
  const client = knex.client as Knex.Client;
  const connection = await client.acquireConnection();
  const run: Runner = async (builder) => {
    const result = await (builder as Knex.QueryBuilder).connection(connection);
    return result as never;
  };
  const raw = async (sql: string, bindings: readonly Knex.RawBinding[] = []) => {
    const result = await knex.raw(sql, bindings).connection(connection);
    return dialect === 'postgres' ? result.rows : result[0];
  };
  try {
    if (dialect === 'postgres') {
      await raw('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    } else {
      await raw('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await raw('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      // MySQL 8 caches table statistics (AUTO_INCREMENT included); MariaDB has no such setting.
      await raw('SET SESSION information_schema_stats_expiry = 0').catch(() => undefined);
    }
  } catch (error) {
    await client.releaseConnection(connection);
    throw error;
  }

  let closed = false;
  const portable = readers(knex, run, dialect);
  const { read: bulkRead, readLines } = bulkFor(dialect);
  return {
    ...portable,
    rows: (table, types) => (bulkRead ? bulkRead({ knex, connection, table, types }) : portable.rows(table, types)),
    lines: async (table, types) => (readLines ? readLines({ knex, connection, table, types }) : null),
    async nextId(table) {
      if (dialect === 'postgres') {
        const [seq] = await raw('SELECT pg_get_serial_sequence(?, ?) AS name', [table, 'id']).catch(() => [null]);
        if (!seq?.name) return null;
        const [state] = await raw(`SELECT last_value, is_called FROM ${seq.name}`);
        return Number(state.last_value) + (state.is_called ? 1 : 0);
      }
      const [status] = await raw(
        'SELECT AUTO_INCREMENT AS next FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
        [table]
      );
      return status?.next == null ? null : Number(status.next);
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await raw('COMMIT');
      } finally {
        await client.releaseConnection(connection);
      }
    },
  };
};

interface SqliteStatement {
  all(...bindings: unknown[]): Record<string, unknown>[];
  get(...bindings: unknown[]): Record<string, unknown> | undefined;
  raw(on: boolean): { iterate(...bindings: unknown[]): IterableIterator<unknown[]> };
}

interface SqliteDatabase {
  backup(destination: string): Promise<unknown>;
  prepare(sql: string): SqliteStatement;
  close(): void;
}

/** `pacta-snapshot-<host tag>-<pid>-<random>` (mkdtemp): whose folder it is, so a dead process's can be removed. */
const SNAPSHOT_DIR = /^pacta-snapshot-([0-9a-f]{8})-(\d+)-/;

/** The private folders this process has open. */
const openFolders = new Set<string>();

/**
 * A folder only this user can enter (0700), named after this process, for a plaintext copy of
 * a database (the SQLite snapshot, a drill's scratch database). `remove()` deletes it with what
 * it holds; after a crash, cleanSnapshots() does at the next start.
 */
export const privateTempFolder = async (tempRoot = os.tmpdir()) => {
  const folder = await fs.promises.mkdtemp(path.join(tempRoot, `pacta-snapshot-${hostTag()}-${process.pid}-`));
  openFolders.add(folder);
  await fs.promises.chmod(folder, 0o700);
  return {
    path: folder,
    async remove() {
      await fs.promises.rm(folder, { recursive: true, force: true });
      openFolders.delete(folder);
    },
  };
};

/**
 * Removes the snapshot folders of processes of this host that are gone (a backup killed while
 * it read its copy). Those of live processes (a backup running in the CLI) stay.
 */
export const cleanSnapshots = async (tempRoot = os.tmpdir()): Promise<string[]> => {
  const removed: string[] = [];
  const names = await fs.promises.readdir(tempRoot).catch(() => [] as string[]);
  for (const name of names) {
    const owner = SNAPSHOT_DIR.exec(name);
    if (!owner || owner[1] !== hostTag()) continue;
    const pid = Number(owner[2]);
    if (pid === process.pid ? openFolders.has(path.join(tempRoot, name)) : isPidAlive(pid)) continue;
    await fs.promises.rm(path.join(tempRoot, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
};

const openSqliteSnapshot = async (knex: Knex, tempRoot: string): Promise<Snapshot> => {
  const folder = await privateTempFolder(tempRoot);
  const tempFile = path.join(folder.path, 'database.sqlite');
  const removeCopy = () => folder.remove();
  const client = knex.client as Knex.Client;
  let connection: SqliteDatabase;
  try {
    // Created empty and private first: SQLite writes into the existing file and keeps its mode
    // (its journal takes the same mode).
    await (await fs.promises.open(tempFile, 'wx', 0o600)).close();
    connection = (await client.acquireConnection()) as SqliteDatabase;
  } catch (error) {
    await removeCopy();
    throw error;
  }
  try {
    let copying: Promise<unknown>;
    try {
      copying = connection.backup(tempFile);
    } finally {
      // The copy goes on step by step; releasing lets the app use its connection in between.
      await client.releaseConnection(connection);
    }
    await copying;
  } catch (error) {
    await removeCopy();
    throw error;
  }

  const Database = connection.constructor as new (file: string, options: object) => SqliteDatabase;
  let copy: SqliteDatabase;
  try {
    copy = new Database(tempFile, { readonly: true, fileMustExist: true });
  } catch (error) {
    await removeCopy();
    throw error;
  }
  const run: Runner = async (builder) => {
    const { sql, bindings } = builder.toSQL().toNative();
    return copy.prepare(sql).all(...bindings) as never;
  };

  let closed = false;
  const sqliteBatches = async function* (table: SnapshotTable, size = BATCH) {
    const { sql, bindings } = build(knex, table).select(table.columns).orderBy(orderColumns(table)).toSQL().toNative();
    let batch: unknown[][] = [];
    for (const row of copy.prepare(sql).raw(true).iterate(...bindings)) {
      batch.push(row);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  };
  return {
    ...readers(knex, run, 'sqlite'),
    /**
     * The copy is private and read-only: one statement walks the whole table in id order and
     * hands out its rows as arrays (no query per batch, no object per row).
     */
    batches: sqliteBatches,
    rows: (table, types) => canonical(sqliteBatches(table), types, 'sqlite'),
    async nextId(table) {
      const row = copy.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').get(table);
      return row ? Number(row.seq) + 1 : null;
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        copy.close();
      } finally {
        await removeCopy();
      }
    },
  };
};

/** tempRoot: where the private folder of a SQLite copy is made (the system's temp folder). */
export const openSnapshot = (knex: Knex, dialect: Dialect, { tempRoot = os.tmpdir() }: { tempRoot?: string } = {}) =>
  dialect === 'sqlite' ? openSqliteSnapshot(knex, tempRoot) : openServerSnapshot(knex, dialect);
