import { Readable } from 'node:stream';

import type { Knex } from 'knex';

import { applyFilter } from '../sql';
import { toCanonical } from '../values';
import { plainLoad, type BulkDialect, type Inserter, type InserterOptions } from './index';
import { databaseError, run, type MysqlConnection, type MysqlResult } from './mysql-driver';
import { insertTuple, LoadTextWriter } from './mysql-encode';
import { mysqlJsonLines } from './mysql-json-read';
import { streamSelect } from './mysql-read';

/** Rows per batch a backup reads (as the portable path). */
const BATCH = 2000;

/** Characters of row text per statement (a UTF-16 unit is at most 3 bytes of UTF-8). */
const CHUNK_CHARS = 1 << 20;

/** Bytes per packet of a LOAD DATA stream (below any max_allowed_packet). */
const PACKET = 1 << 20;

/**
 * Column types LOAD DATA stores exactly as an INSERT of the driver's literal does (Strapi's
 * schema inspector names). Not double and float: an INSERT reads the driver's `0.1428…` as a
 * DECIMAL literal and converts that to binary, LOAD DATA parses the text straight to binary,
 * and the two differ in the last bit for some values (but see FLOATING).
 */
const LOADABLE = new Set([
  'increments',
  'integer',
  'bigInteger',
  'bigIncrements',
  'decimal',
  'string',
  'text',
  'boolean',
  'datetime',
  'timestamp',
  'date',
  'time',
  'json',
  'jsonb',
]);

/**
 * Floating-point columns: loadable while their values are integers (below 2^53 an integer is the
 * same double whichever way its digits are read), and the table goes on as INSERTs from the first
 * row with any other value (LoadTextWriter gives that row up).
 */
const FLOATING = new Set(['float', 'double', 'real']);

/** Per connection: the server's max_allowed_packet, and whether it refused LOAD DATA LOCAL. */
const serverFacts = new WeakMap<MysqlConnection, { maxPacket: number; noLocalInfile?: boolean }>();

const factsOf = async (connection: MysqlConnection) => {
  let facts = serverFacts.get(connection);
  if (!facts) {
    const [row] = await run<Array<{ maxPacket: number }>>(connection, 'SELECT @@max_allowed_packet AS maxPacket');
    facts = { maxPacket: Number(row?.maxPacket) || 1 << 22 };
    serverFacts.set(connection, facts);
  }
  return facts;
};

/** The server does not take LOAD DATA LOCAL (local_infile off, or the capability refused). */
const refusesLocalInfile = (error: unknown) => {
  const { errno, code } = error as { errno?: number; code?: string };
  return errno === 1148 || errno === 3948 || errno === 4166 || code === 'ER_NOT_ALLOWED_COMMAND' || code === 'ER_CLIENT_LOCAL_FILES_DISABLED';
};

const slices = (buffer: Buffer) => {
  const parts: Buffer[] = [];
  for (let at = 0; at < buffer.length; at += PACKET) parts.push(buffer.subarray(at, at + PACKET));
  return parts;
};

/**
 * MariaDB / MySQL (mysql2, through knex).
 *  - Backup: one streamed SELECT per table in primary-key order on the snapshot's connection
 *    (as mariadb-dump reads), instead of a query per page.
 *  - Restore: the rows of a table go in as LOAD DATA LOCAL INFILE statements of about a
 *    megabyte of text each, fed from memory (the server parses no SQL per row), or as extended
 *    INSERTs of the same size where the server refuses LOAD DATA LOCAL. Either way the text of
 *    each value is the driver's own (the connection's escape, its time zone), so values are
 *    stored exactly as a knex INSERT binding them stores them.
 */
export const mysql: BulkDialect = {
  readLines: mysqlJsonLines,
  async *read({ knex, connection, table, types }) {
    const builder = knex(table.name).select(table.columns);
    if (table.filter) applyFilter(knex, builder, table.filter);
    builder.orderBy(table.columns.includes('id') ? ['id'] : table.columns);
    const { sql, bindings } = builder.toSQL().toNative();
    for await (const batch of streamSelect(connection as MysqlConnection, sql, bindings, { size: BATCH })) {
      for (const row of batch) for (let i = 0; i < row.length; i += 1) row[i] = toCanonical(row[i], types[i], 'mysql');
      yield batch;
    }
  },

  async inserter(trx, table, columns, onInserted, options) {
    return mysqlInserter(trx, table, columns, onInserted, options);
  },

  /**
   * Empties the tables nothing outside the emptied set points at, with foreign_key_checks off
   * for that one DELETE (MariaDB's SET STATEMENT: nothing stays set on the connection). Such a
   * DELETE has nothing to cascade to or refuse: every row pointing at the table is in a table
   * this restore empties too. With the checks on, InnoDB looks up every deleted row in the
   * index of each table pointing at it. The other tables are deleted by the caller, checks on,
   * so their cascades and SET NULLs happen as always.
   */
  async prepareLoad(trx, { emptied }) {
    const load = plainLoad();
    if (!emptied.length) return load;
    const connection = (await trx.client.acquireConnection()) as MysqlConnection;
    const [server] = await run<Array<{ version: string }>>(connection, 'SELECT VERSION() AS version');
    if (!/mariadb/i.test(String(server?.version))) return load;
    // Every foreign key pointing into this database, whatever column it references and from
    // whichever schema (one from another schema keeps its table's checks on).
    const keys = await run<Array<{ child: string; parent: string; here: number | string }>>(
      connection,
      'SELECT TABLE_NAME AS child, REFERENCED_TABLE_NAME AS parent, CONSTRAINT_SCHEMA = DATABASE() AS here ' +
        'FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE UNIQUE_CONSTRAINT_SCHEMA = DATABASE()'
    );
    const emptiedSet = new Set(emptied);
    const alone = (table: string) => keys.every((key) => key.parent !== table || (Number(key.here) === 1 && emptiedSet.has(key.child)));
    for (const table of emptied) {
      if (!alone(table)) continue;
      const result = await run<MysqlResult>(connection, `SET STATEMENT foreign_key_checks = 0 FOR DELETE FROM ${connection.escapeId(table)}`);
      load.deleted.set(table, result.affectedRows);
    }
    return load;
  },
};

const mysqlInserter = async (
  trx: Knex.Transaction,
  table: string,
  columns: Array<{ name: string; type: string }>,
  onInserted: (rows: number) => void,
  { alone = false }: InserterOptions = {}
): Promise<Inserter> => {
  const connection = (await trx.client.acquireConnection()) as MysqlConnection;
  const facts = await factsOf(connection);
  const escape = (value: unknown) => connection.escape(value);
  const names = columns.map((c) => connection.escapeId(c.name)).join(', ');
  const insertHead = `INSERT INTO ${connection.escapeId(table)} (${names}) VALUES `;
  const loadSql =
    `LOAD DATA LOCAL INFILE 'pacta-rows' INTO TABLE ${connection.escapeId(table)} CHARACTER SET utf8mb4 ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${names})`;
  // One statement's text stays well below max_allowed_packet.
  const limit = Math.max(1, Math.min(CHUNK_CHARS, Math.floor((facts.maxPacket - 4096 - insertHead.length) / 3)));
  let loading = !facts.noLocalInfile && columns.every((c) => LOADABLE.has(c.type) || FLOATING.has(c.type));

  /**
   * The statement being built: LOAD lines (in the writer) with their rows (for a fallback to
   * INSERT), or INSERT tuples.
   */
  const lines = new LoadTextWriter(escape, limit, columns.map((c) => FLOATING.has(c.type)));
  let rows: Array<readonly unknown[]> = [];
  let parts: string[] = [];
  let size = 0;
  /** Whether the statement being built is a LOAD (fixed at its first row). */
  let asLoad = loading;
  /** The statement sent and not yet checked. */
  let inflight: Promise<void> | null = null;

  const insert = async (tuples: string[]) => {
    await run(connection, insertHead + tuples.join(','));
    onInserted(tuples.length);
  };

  /** Rows that were meant for LOAD DATA, as INSERTs (split again: their INSERT text is a little longer). */
  const insertRows = async (values: ReadonlyArray<readonly unknown[]>) => {
    let tuples: string[] = [];
    let length = 0;
    for (const row of values) {
      const tuple = insertTuple(row, escape);
      if (tuples.length && length + tuple.length > limit) {
        await insert(tuples);
        tuples = [];
        length = 0;
      }
      tuples.push(tuple);
      length += tuple.length + 1;
    }
    if (tuples.length) await insert(tuples);
  };

  const load = async (data: Buffer, values: ReadonlyArray<readonly unknown[]>) => {
    // A savepoint first: should the server skip or change a row (LOCAL turns duplicate keys and
    // bad values into warnings), the statement is undone and its rows go in as INSERTs, which
    // fail or warn exactly as they always did.
    // Both queued in the same tick: no other statement on the connection comes in between.
    const savepoint = run(connection, 'SAVEPOINT pacta_load');
    const statement = run<MysqlResult>(connection, { sql: loadSql, infileStreamFactory: () => Readable.from(slices(data)) });
    statement.catch(() => undefined);
    await savepoint;
    let result: MysqlResult;
    try {
      result = await statement;
    } catch (error) {
      if (!refusesLocalInfile(error)) throw error;
      facts.noLocalInfile = true;
      loading = false;
      await insertRows(values);
      return;
    }
    if (result.affectedRows === values.length && !result.warningStatus) {
      onInserted(values.length);
      return;
    }
    await run(connection, 'ROLLBACK TO SAVEPOINT pacta_load');
    await insertRows(values);
  };

  const flush = async () => {
    if (!parts.length && !rows.length) return;
    const text = parts;
    const values = rows;
    const data = rows.length ? lines.take() : null;
    parts = [];
    rows = [];
    size = 0;
    if (inflight) await inflight;
    inflight = null;
    try {
      if (data && loading && alone) {
        // Loaded while the next statement is built: nothing else runs on the connection until
        // the next flush or end() waits for it, so a ROLLBACK TO SAVEPOINT undoes this one only.
        const loadingRows = load(data, values).catch((error: unknown) => {
          throw databaseError(error);
        });
        loadingRows.catch(() => undefined);
        inflight = loadingRows;
        return;
      }
      if (data) {
        // Finished before the caller goes on: a ROLLBACK TO SAVEPOINT must undo this statement
        // only, never one the caller ran meanwhile (an upsert's UPDATE). The statement before
        // may have found that the server refuses LOAD DATA LOCAL.
        await (loading ? load(data, values) : insertRows(values));
        return;
      }
    } catch (error) {
      throw databaseError(error);
    }
    // An INSERT runs while the next one is built; checked by the next flush or by end().
    const sending = insert(text).catch((error: unknown) => {
      throw databaseError(error);
    });
    sending.catch(() => undefined);
    inflight = sending;
  };

  const add = async (values: unknown[]): Promise<void> => {
    if (!parts.length && !rows.length) asLoad = loading;
    if (asLoad) {
      if (lines.row(values)) {
        rows.push(values);
        if (lines.bytes >= limit) await flush();
        return;
      }
      // A value LOAD DATA has no text for (a Buffer): the table goes on as INSERTs.
      await flush();
      loading = false;
      asLoad = false;
    }
    const text = insertTuple(values, escape);
    if (parts.length && size + text.length > limit) await flush();
    parts.push(text);
    size += text.length + 1;
  };

  return {
    add,
    async end() {
      await flush();
      const last = inflight;
      inflight = null;
      if (last) await last;
    },
  };
};
