import path from 'node:path';
import type { Readable } from 'node:stream';

import type { Knex } from 'knex';

/**
 * What both PostgreSQL paths (bulk/postgres.ts, bulk/postgres-json-read.ts) need around COPY:
 * identifiers and literals as knex's PostgreSQL client writes them, node-postgres's own
 * prepareValue, a query with its bindings written in (COPY takes no parameters), and pulling
 * or draining a COPY TO stream.
 */

export const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A string literal, as knex's PostgreSQL client writes one (E'' when it holds backslashes). */
const literal = (text: string) => {
  const quoted = `'${text.replace(/'/g, "''").replace(/\\/g, '\\\\')}'`;
  return text.includes('\\') ? `E${quoted}` : quoted;
};

/** The prepareValue of each copy of pg that knex drives (by its module). */
const prepareValues = new WeakMap<object, (value: unknown) => unknown>();

/**
 * node-postgres's own `prepareValue` (how it turns a bound value into the text it sends: Dates
 * in the process's time zone unless `defaults.parseInputDatesAsUTC`, booleans as true/false,
 * objects as JSON…), from the very copy of `pg` knex drives, so its defaults are the ones in use.
 */
export const prepareValueOf = (driver: unknown): ((value: unknown) => unknown) => {
  // Looked up once per driver: the search of require.cache took 100 ms over a restore's tables.
  const known = typeof driver === 'object' && driver !== null ? prepareValues.get(driver) : undefined;
  if (known) return known;
  const entry = Object.values(require.cache).find((module) => module?.exports === driver)?.filename;
  const utils = entry
    ? // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(path.join(path.dirname(entry), 'utils.js'))
    : // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('pg/lib/utils');
  if (typeof driver === 'object' && driver !== null) prepareValues.set(driver, utils.prepareValue);
  return utils.prepareValue;
};

/**
 * A query's SQL with its bindings written in as literals (COPY takes no parameters). Each one
 * becomes a quoted literal of the text node-postgres would send for it: an untyped literal is
 * read like an untyped parameter, so `WHERE "id" = '5'` means what `WHERE "id" = $1` did.
 */
export const inline = (query: Knex.Sql, prepareValue: (value: unknown) => unknown) => {
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
export const nextChunk = (stream: Readable, failed: () => Error | null) =>
  new Promise<Buffer | null>((resolve, reject) => {
    if (failed()) return reject(failed());
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
export const drain = (stream: Readable) =>
  new Promise<void>((resolve) => {
    if (stream.readableEnded || stream.destroyed) return resolve();
    stream.on('end', resolve);
    stream.on('error', () => resolve());
    stream.on('data', () => undefined);
    stream.resume();
  });
