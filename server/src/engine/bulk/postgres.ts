import type { Readable } from 'node:stream';

import type { Knex } from 'knex';
import { from as copyFrom } from 'pg-copy-streams';

import { applyFilter } from '../sql';
import { toCanonical } from '../values';

import type { BulkDialect, Inserter, LoadPlan } from './index';
import { drain, inline, nextChunk, prepareValueOf, quote } from './postgres-copy';
import { copyOut } from './postgres-copy-out';
import { readLines } from './postgres-json-read';
import { CopyTextDecoder, CopyTextWriter } from './postgres-text';

/** Rows per batch handed to the backup (as the portable path's pages). */
const BATCH = 2000;

/** Bytes of COPY text per COPY FROM statement of a restore. */
const CHUNK = 1 << 20;

/** The node-postgres client knex hands out (the part used here). */
interface PgClient {
  query(query: unknown): unknown;
  getTypeParser?(oid: number, format: 'text'): (text: string) => unknown;
}

interface PgDriver {
  types: { getTypeParser(oid: number, format: 'text'): (text: string) => unknown };
}

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

    const stream = client.query(copyOut(`COPY (${select}) TO STDOUT`)) as Readable;
    // Kept for the whole read: an error while the rows are with the consumer is not thrown unheard.
    let failure: Error | null = null;
    stream.on('error', (error) => {
      failure ??= error;
    });
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
        const chunk = await nextChunk(stream, () => failure);
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
      // A COPY the server failed is over: copyOut emits the error without ending the
      // stream, and its error event has passed, so waiting for either would never return.
      if (!failure) await drain(stream);
    }
  },

  readLines,

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
    const writer = new CopyTextWriter(prepareValueOf(trx.client.driver), CHUNK);
    const statement = `COPY ${quote(table)} (${columns.map((c) => quote(c.name)).join(', ')}) FROM STDIN`;
    let rows = 0;
    let failure: unknown = null;
    /** The statement the server is reading, if any. */
    let inFlight: Promise<void> | null = null;

    const send = () => {
      if (!rows) return;
      const data = writer.take();
      const count = rows;
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
      inFlight = done;
    };
    const settle = async () => {
      await inFlight;
      inFlight = null;
      if (failure) throw failure;
    };

    const inserter: Inserter = {
      // A promise only when a statement goes out: no await per row.
      add(values) {
        if (failure) return Promise.reject(failure);
        writer.row(values);
        rows += 1;
        if (writer.bytes < CHUNK) return undefined;
        // One statement at a time on the connection (node-postgres deprecates queueing them): the
        // previous one is waited for, this one goes out, and the next chunk is encoded meanwhile.
        return settle().then(send);
      },
      async end() {
        await settle();
        send();
        await settle();
      },
    };
    return inserter;
  },

  /**
   * What pg_restore does, inside the restore's transaction. The tables emptied whole are
   * TRUNCATEd in one statement where the database allows it (every table with a foreign key to
   * one of them is emptied too: TRUNCATE refuses otherwise, and the caller's DELETE takes the
   * others). Of those this role owns, the secondary indexes and the unique constraints no
   * foreign key relies on are dropped and built again once the table's rows are in, and the
   * foreign keys between them dropped and added back (each checked once, over the whole table)
   * once every table is written: several times faster than keeping them up to date row by row.
   * All of it is transactional in PostgreSQL: a rollback brings back the rows, indexes and
   * constraints as they were; a row they refuse fails the CREATE INDEX / ADD CONSTRAINT, which
   * rolls back like any other error.
   *
   * Locks: TRUNCATE takes the emptied tables whole (ACCESS EXCLUSIVE) in that one statement, at
   * the start; the app's reads of them wait for the commit instead of seeing the old rows. The
   * DDL afterwards touches only those tables: a foreign key to a table outside them (created_by
   * to admin_users) stays as it is, since dropping it would lock that table too, which the app
   * reads on every request (a deadlock with a request, seen in the tests).
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
    const oids = found.map((table) => table.oid);
    const oidOf = new Map(found.map((table) => [table.name, table.oid]));
    const keys = await rowsOf<{ name: string; child: number; parent: number; definition: string; table: string }>(
      `SELECT conname AS name, conrelid::int AS child, confrelid::int AS parent, pg_get_constraintdef(oid) AS definition,
              conrelid::regclass::text AS table
       FROM pg_constraint WHERE contype = 'f' AND (conrelid = ANY(?::oid[]) OR confrelid = ANY(?::oid[]))
       ORDER BY oid`,
      [oids, oids]
    );

    // TRUNCATE needs every table that references one it empties in the same statement: the
    // catalog's foreign keys (all of them, from any table), and those the caller knows of.
    const truncated = new Set(found.filter((table) => table.truncate).map((table) => table.oid));
    const references = [
      ...keys.map((key) => ({ child: key.child as number | undefined, parent: key.parent as number | undefined })),
      ...foreignKeys.map((key) => ({ child: oidOf.get(key.table), parent: oidOf.get(key.refTable) })),
    ];
    for (let changed = true; changed; ) {
      changed = false;
      for (const { child, parent } of references) {
        if (parent !== undefined && truncated.has(parent) && (child === undefined || !truncated.has(child))) {
          truncated.delete(parent);
          changed = true;
        }
      }
    }
    if (!truncated.size) return plan;

    const tables = found.filter((table) => truncated.has(table.oid));
    const [counts] = await rowsOf<Record<string, string>>(
      `SELECT ${tables.map((table, i) => `(SELECT count(*) FROM ${quote(table.name)}) AS c${i}`).join(', ')}`
    );
    tables.forEach((table, i) => plan.deleted.set(table.name, Number(counts[`c${i}`])));
    await trx.raw(`TRUNCATE ${tables.map((table) => quote(table.name)).join(', ')}`);

    // Indexes and constraints: DDL, on the tables this role owns.
    const owned = tables.filter((table) => table.owner);
    if (!owned.length) return plan;
    const ownedOids = owned.map((table) => table.oid);
    const nameOf = new Map(owned.map((table) => [table.oid, table.name]));
    /** Per table, what comes back after its rows: unique constraints, then indexes. */
    const aside = new Map<string, string[]>();
    const setAside = (oid: number, statement: string) => {
      const table = nameOf.get(oid)!;
      aside.set(table, [...(aside.get(table) ?? []), statement]);
    };

    const uniques = await rowsOf<{ table: string; oid: number; name: string; definition: string }>(
      `SELECT conrelid::regclass::text AS table, conrelid::int AS oid, conname AS name, pg_get_constraintdef(oid) AS definition
       FROM pg_constraint u
       WHERE contype = 'u' AND conrelid = ANY(?::oid[])
         AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = u.conindid)
       ORDER BY oid`,
      [ownedOids]
    );
    for (const unique of uniques) {
      await trx.raw(`ALTER TABLE ${unique.table} DROP CONSTRAINT ${quote(unique.name)}`);
      setAside(unique.oid, `ALTER TABLE ${unique.table} ADD CONSTRAINT ${quote(unique.name)} ${unique.definition}`);
    }

    const indexes = await rowsOf<{ name: string; definition: string; oid: number }>(
      `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition, i.indrelid::int AS oid
       FROM pg_index i
       WHERE i.indrelid = ANY(?::oid[]) AND NOT i.indisprimary AND NOT i.indisunique
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
       ORDER BY i.indexrelid`,
      [ownedOids]
    );
    if (indexes.length) await trx.raw(`DROP INDEX ${indexes.map((index) => index.name).join(', ')}`);
    for (const index of indexes) setAside(index.oid, index.definition);

    const inside = new Set(ownedOids);
    const dropped = keys.filter((key) => inside.has(key.child) && truncated.has(key.parent));
    for (const key of dropped) await trx.raw(`ALTER TABLE ${key.table} DROP CONSTRAINT ${quote(key.name)}`);

    plan.rebuild = async (table) => {
      const statements = aside.get(table);
      aside.delete(table);
      for (const statement of statements ?? []) await trx.raw(statement);
    };
    plan.finish = async () => {
      for (const table of [...aside.keys()]) await plan.rebuild(table);
      for (const key of dropped) await trx.raw(`ALTER TABLE ${key.table} ADD CONSTRAINT ${quote(key.name)} ${key.definition}`);
    };
    return plan;
  },
};
