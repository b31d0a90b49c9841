import type { Knex } from 'knex';

import type { ForeignKey } from '../apply';
import type { SnapshotTable } from '../snapshot';
import type { Dialect } from '../values';

import { mysql } from './mysql';
import { postgres } from './postgres';
import { sqlite } from './sqlite';

/**
 * Each engine's bulk paths: how a backup reads a table and how a restore writes one, beside the
 * portable defaults (keyset-paginated SELECTs through knex, multi-row INSERTs). The engine's
 * own tools move rows this way (pg_dump's COPY, mariadb-dump's streamed SELECT and the
 * extended INSERTs or LOAD DATA of a restore); the archive format is the same whichever path
 * wrote it.
 */

export interface BulkReadContext {
  knex: Knex;
  /** The snapshot's own connection (driver-level), inside its consistent-read transaction. */
  connection: unknown;
  table: SnapshotTable;
  /** Column types as Strapi's schema inspector names them, in `table.columns` order. */
  types: string[];
}

export interface Inserter {
  /** Returns nothing when the row is written synchronously (SQLite). */
  add(values: unknown[]): Promise<void> | void;
  end(): Promise<void>;
}

export interface InserterOptions {
  /**
   * The caller runs no statement of its own on the transaction between the first add() and
   * end(): a statement of rows may still be running while the next is built, even one that
   * could have to be undone back to its savepoint (MariaDB's LOAD DATA).
   */
  alone?: boolean;
}

export interface LoadPlan {
  /** Tables this plan emptied itself (e.g. TRUNCATE), with the rows each held; the others are deleted by the caller. */
  deleted: Map<string, number>;
  /** After a table's rows are written: what the plan set aside for it comes back (indexes). */
  rebuild(table: string): Promise<void>;
  /** Once every table is written, before the caller's own last steps and the commit. */
  finish(): Promise<void>;
}

export interface LoadContext {
  /** Tables the restore empties whole (mode replace), children first. */
  emptied: string[];
  /** Every table the restore writes. */
  restored: string[];
  /** Foreign keys between all the database's tables (refColumn id). */
  foreignKeys: ForeignKey[];
}

export interface BulkDialect {
  /** Canonical rows (values.ts) of a table, in primary-key order, in batches. */
  read?(context: BulkReadContext): AsyncGenerator<unknown[][]>;
  /**
   * The same rows as the archive's NDJSON lines, built by the database (their bytes as they come,
   * in primary-key order, each line's values those `read` gives): passed on without parsing.
   * Null when the table cannot go this way (a column type it does not render exactly): `read`.
   */
  readLines?(context: BulkReadContext): Promise<AsyncGenerator<Buffer> | null>;
  /** Writes rows given as value arrays (already converted by fromCanonical) in `columns` order. */
  inserter?(
    trx: Knex.Transaction,
    table: string,
    columns: Array<{ name: string; type: string }>,
    onInserted: (rows: number) => void,
    options?: InserterOptions
  ): Promise<Inserter>;
  /** Called inside the restore's transaction before any row is deleted. */
  prepareLoad?(trx: Knex.Transaction, context: LoadContext): Promise<LoadPlan>;
}

const DIALECTS: Record<Dialect, BulkDialect> = { sqlite, postgres, mysql };

export const bulkFor = (dialect: Dialect): BulkDialect => DIALECTS[dialect];

/** A load plan that sets nothing aside. */
export const plainLoad = (): LoadPlan => ({ deleted: new Map(), rebuild: async () => undefined, finish: async () => undefined });
