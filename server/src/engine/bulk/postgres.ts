import path from 'node:path';
import type { Readable } from 'node:stream';

import type { Knex } from 'knex';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

import { applyFilter } from '../sql';
import { toCanonical } from '../values';

import type { BulkDialect, Inserter, LoadPlan } from './index';
import { CopyTextDecoder, encodeField } from './postgres-text';

/** Rows per batch handed to the backup (as the portable path's pages). */
const BATCH = 2000;

/** Characters of COPY text per COPY FROM statement of a restore. */
const CHUNK = 1 << 20;

/** COPY statements sent and not yet acknowledged: the next chunk is encoded while the server reads one. */
const IN_FLIGHT = 2;

/** The node-postgres client knex hands out (the part used here). */
interface PgClient {
  query(query: unknown): unknown;
  getTypeParser?(oid: number, format: 'text'): (text: string) => unknown;
}

interface PgDriver {
  types: { getTypeParser(oid: number, format: 'text'): (text: string) => unknown };
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A string literal, as knex's PostgreSQL client writes one (E'' when it holds backslashes). */
const literal = (text: string) => {
  const quoted = `'${text.replace(/'/g, "''").replace(/\\/g, '\\\\')}'`;
  return text.includes('\\') ? `E${quoted}` : quoted;
};

/**
 * node-postgres's own `prepareValue` (how it turns a bound value into the text it sends: Dates
 * in the process's time zone unless `defaults.parseInputDatesAsUTC`, booleans as true/false,
 * objects as JSON…), from the very copy of `pg` knex drives, so its defaults are the ones in use.
 */
const prepareValueOf = (driver: unknown): ((value: unknown) => unknown) => {
  const entry = Object.values(require.cache).find((module) => module?.exports === driver)?.filename;
  const utils = entry
    ? // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(path.join(path.dirname(entry), 'utils.js'))
    : // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('pg/lib/utils');
  return utils.prepareValue;
};

/**
 * A query's SQL with its bindings written in as literals (COPY takes no parameters). Each one
 * becomes a quoted literal of the text node-postgres would send for it: an untyped literal is
 * read like an untyped parameter, so `WHERE "id" = '5'` means what `WHERE "id" = $1` did.
 */
const inline = (query: Knex.Sql, prepareValue: (value: unknown) => unknown) => {
  let position = 0;
  // Placeholders as knex's own PostgreSQL client finds them (an odd number of backslashes escapes one).
  return query.sql.replace(/(\\*)(\?)/g, (match: string, escapes: string) => {
    if (escapes.length % 2) return `${escapes.slice(1)}?`;
    const value = prepareValue(query.bindings[position++]);
    if (value === null) return `${escapes}NULL`;
    if (Buffer.isBuffer(value)) return `${escapes}'\\x${value.toString('hex')}'::bytea`;
    return `${escapes}${literal(String(value))}`;
  });
};

/** The next chunk of a readable stream (null at its end), pulled: the server waits while we work. */
const nextChunk = (stream: Readable) =>
  new Promise<Buffer | null>((resolve, reject) => {
    const chunk = stream.read() as Buffer | null;
    if (chunk !== null) return resolve(chunk);
    if (stream.readableEnded) return resolve(null);
    const settle = (error?: Error) => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', settle);
      if (error) reject(error);
    };
    const onReadable = () => {
      const next = stream.read() as Buffer | null;
      if (next === null) return;
      settle();
      resolve(next);
    };
    const onEnd = () => {
      settle();
      resolve(null);
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', settle);
  });

/** Reads what is left of a COPY TO nobody wants any more: the connection is free again after it. */
const drain = (stream: Readable) =>
  new Promise<void>((resolve) => {
    if (stream.readableEnded || stream.destroyed) return resolve();
    stream.on('end', resolve);
    stream.on('error', () => resolve());
    stream.on('data', () => undefined);
    stream.resume();
  });

export const postgres: BulkDialect = {
  /**
   * COPY (SELECT … ORDER BY id) TO STDOUT on the snapshot's own connection (inside its
   * REPEATABLE READ transaction, so it sees the same snapshot): one statement per table, the
   * rows streamed in the text format, pulled as the archive takes them. Each field goes through
   * the parser node-postgres would apply to that column's type on a SELECT (Strapi replaces
   * some: DATE, JSONB, NUMERIC) and then toCanonical: the same canonical rows as the portable path.
   */
  async *read({ knex, connection, table, types }) {
    const client = connection as PgClient;
    const driver = knex.client.driver as PgDriver;
    const columns = table.columns.map(quote).join(', ');
    const probe = (await client.query(`SELECT ${columns} FROM ${quote(table.name)} LIMIT 0`)) as { fields: Array<{ dataTypeID: number }> };
    const parsers = probe.fields.map((field) =>
      client.getTypeParser ? client.getTypeParser(field.dataTypeID, 'text') : driver.types.getTypeParser(field.dataTypeID, 'text')
    );

    const builder = knex(table.name).select(table.columns);
    if (table.filter) applyFilter(knex, builder, table.filter);
    builder.orderBy(table.columns.includes('id') ? ['id'] : table.columns);
    const select = inline(builder.toSQL(), prepareValueOf(knex.client.driver));

    const stream = client.query(copyTo(`COPY (${select}) TO STDOUT`)) as Readable;
    const decoder = new CopyTextDecoder();
    const width = table.columns.length;
    let batch: unknown[][] = [];
    /** The decoder's fresh array of texts becomes the row (no second array per row). */
    const convert = (fields: unknown[]) => {
      if (fields.length !== width) throw new Error(`COPY of table ${table.name} gave ${fields.length} fields for ${width} columns`);
      for (let i = 0; i < width; i += 1) {
        const text = fields[i] as string | null;
        fields[i] = toCanonical(text === null ? null : parsers[i](text), types[i], 'postgres');
      }
      return fields;
    };
    try {
      for (;;) {
        const chunk = await nextChunk(stream);
        const rows = chunk === null ? decoder.end() : decoder.push(chunk);
        for (const fields of rows) {
          batch.push(convert(fields));
          if (batch.length >= BATCH) {
            yield batch;
            batch = [];
          }
        }
        if (chunk === null) {
          if (batch.length) yield batch;
          return;
        }
      }
    } finally {
      await drain(stream);
    }
  },

  /**
   * COPY … FROM STDIN on the transaction's connection, in statements of about a megabyte of
   * text: each value is the text node-postgres would have sent for it as a parameter of an
   * INSERT (prepareValue), so the column's input function stores the same value. While the
   * server reads one statement the next is encoded; a refused row rejects the next add() or end().
   * Statements rather than one stream: the caller may run its own queries between rows (an
   * upsert updates the rows already there), which queue behind a finished COPY, never inside one.
   */
  async inserter(trx, table, columns, onInserted) {
    const client = (await trx.client.acquireConnection()) as PgClient;
    const prepareValue = prepareValueOf(trx.client.driver);
    const statement = `COPY ${quote(table)} (${columns.map((c) => quote(c.name)).join(', ')}) FROM STDIN`;
    const width = columns.length;
    let text = '';
    let rows = 0;
    let failure: unknown = null;
    const inFlight: Promise<void>[] = [];

    const send = () => {
      if (!rows) return;
      const data = text;
      const count = rows;
      text = '';
      rows = 0;
      const copy = client.query(copyFrom(statement)) as NodeJS.WritableStream & { on(event: string, listener: (error?: Error) => void): void };
      const done = new Promise<void>((resolve) => {
        copy.on('finish', () => {
          onInserted(count);
          resolve();
        });
        copy.on('error', (error) => {
          failure ??= error;
          resolve();
        });
      });
      copy.end(data);
      inFlight.push(done);
    };
    const settle = async (keep: number) => {
      while (inFlight.length > keep) await inFlight.shift();
      if (failure) throw failure;
    };

    const inserter: Inserter = {
      // A promise only when a statement goes out: no await per row.
      add(values) {
        if (failure) return Promise.reject(failure);
        let line = '';
        for (let i = 0; i < width; i += 1) line += (i ? '\t' : '') + encodeField(prepareValue(values[i]));
        text += `${line}\n`;
        rows += 1;
        if (text.length < CHUNK) return undefined;
        send();
        return settle(IN_FLIGHT - 1);
      },
      async end() {
        send();
        await settle(0);
      },
    };
    return inserter;
  },

  /**
   * What pg_restore does, inside the restore's transaction: the tables emptied whole are
   * TRUNCATEd in one statement where the database allows it (every table with a foreign key
   * to one of them is emptied too: TRUNCATE refuses otherwise, and the caller's DELETE takes
   * the others), their secondary indexes are dropped and built again once their rows are in,
   * and their foreign keys dropped and added back (checked once, over the whole table) after
   * every table is written. All of it is transactional in PostgreSQL: a rollback brings back
   * the rows, indexes and constraints as they were; a row the constraints refuse fails the
   * ADD CONSTRAINT, which rolls back like any other error.
   */
  async prepareLoad(trx, { emptied, foreignKeys }) {
    const plan: LoadPlan = { deleted: new Map(), rebuild: async () => undefined, finish: async () => undefined };
    if (!emptied.length) return plan;
    const rowsOf = async <T>(sql: string, bindings: readonly Knex.RawBinding[] = []) => ((await trx.raw(sql, bindings)) as { rows: T[] }).rows;

    const found = await rowsOf<{ name: string; oid: number; truncate: boolean; owner: boolean }>(
      `SELECT t.name, c.oid::int AS oid, has_table_privilege(c.oid, 'TRUNCATE') AS truncate, pg_has_role(c.relowner, 'USAGE') AS owner
       FROM unnest(?::text[]) AS t(name) JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name))`,
      [emptied]
    );
    const byOid = new Map(found.map((table) => [table.oid, table]));
    const keys = await rowsOf<{ name: string; child: number; parent: number; definition: string; table: string }>(
      `SELECT conname AS name, conrelid::int AS child, confrelid::int AS parent, pg_get_constraintdef(oid) AS definition,
              conrelid::regclass::text AS table
       FROM pg_constraint WHERE contype = 'f' AND (conrelid = ANY(?::oid[]) OR confrelid = ANY(?::oid[]))`,
      [found.map((t) => t.oid), found.map((t) => t.oid)]
    );

    // TRUNCATE needs every table that references one it empties in the same statement.
    const truncated = new Set(found.filter((table) => table.truncate).map((table) => table.oid));
    const name = (oid: number) => byOid.get(oid)?.name;
    for (let changed = true; changed; ) {
      changed = false;
      const referenced = [
        ...keys.filter((key) => !truncated.has(key.child)).map((key) => key.parent),
        ...foreignKeys.filter((key) => !found.some((t) => t.name === key.table && truncated.has(t.oid))).map((key) =>
          found.find((t) => t.name === key.refTable)?.oid
        ),
      ];
      for (const oid of referenced) {
        if (oid !== undefined && truncated.has(oid)) {
          truncated.delete(oid);
          changed = true;
        }
      }
    }
    if (!truncated.size) return plan;

    const tables = emptied.map((table) => found.find((t) => t.name === table)).filter((t) => t && truncated.has(t.oid)) as typeof found;
    const [counts] = await rowsOf<Record<string, string>>(
      `SELECT ${tables.map((table, i) => `(SELECT count(*) FROM ${quote(table.name)}) AS c${i}`).join(', ')}`
    );
    tables.forEach((table, i) => plan.deleted.set(table.name, Number(counts[`c${i}`])));
    await trx.raw(`TRUNCATE ${tables.map((table) => quote(table.name)).join(', ')}`);

    // Indexes and foreign keys: DDL, for the tables this role owns.
    const owned = tables.filter((table) => table.owner);
    const indexes = new Map<string, string[]>();
    if (owned.length && process.env.PACTA_PG_INDEXES !== '0') {
      const secondary = await rowsOf<{ name: string; definition: string; table: number }>(
        `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition, i.indrelid::int AS table
         FROM pg_index i
         WHERE i.indrelid = ANY(?::oid[]) AND NOT i.indisprimary ${process.env.PACTA_PG_UNIQUE === '1' ? '' : 'AND NOT i.indisunique'}
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
         ORDER BY i.indexrelid`,
        [owned.map((table) => table.oid)]
      );
      if (secondary.length) await trx.raw(`DROP INDEX ${secondary.map((index) => index.name).join(', ')}`);
      for (const index of secondary) {
        const table = name(index.table)!;
        indexes.set(table, [...(indexes.get(table) ?? []), index.definition]);
      }
    }
    const ownedOids = new Set(owned.map((table) => table.oid));
    const dropped = process.env.PACTA_PG_FKS === '0' ? [] : keys.filter((key) => ownedOids.has(key.child));
    for (const key of dropped) await trx.raw(`ALTER TABLE ${key.table} DROP CONSTRAINT ${quote(key.name)}`);

    let memory = false;
    plan.rebuild = async (table) => {
      const statements = indexes.get(table);
      if (!statements?.length) return;
      if (!memory && process.env.PACTA_PG_MWM) {
        await trx.raw(`SET LOCAL maintenance_work_mem = '${process.env.PACTA_PG_MWM}'`);
        memory = true;
      }
      for (const statement of statements) await trx.raw(statement);
      indexes.delete(table);
    };
    plan.finish = async () => {
      for (const table of [...indexes.keys()]) await plan.rebuild(table);
      for (const key of dropped) await trx.raw(`ALTER TABLE ${key.table} ADD CONSTRAINT ${quote(key.name)} ${key.definition}`);
    };
    return plan;
  },
};
