import type { Readable } from 'node:stream';

import { applyFilter } from '../sql';
import { CONVERTED_TYPES, NUMBER_TYPES } from '../values';

import type { BulkReadContext } from './index';
import { drain, inline, nextChunk, prepareValueOf, quote } from './postgres-copy';
import { copyOut } from './postgres-copy-out';

/**
 * A backup's rows built by PostgreSQL itself: one `COPY (SELECT '[' || … || ']' … ORDER BY id)`
 * per table whose every line is the row as a JSON array, the archive's NDJSON line, passed on
 * to the compressor without being parsed in Node. CSV mode with quote and delimiter characters
 * (\x01, \x02) that JSON text never holds raw (PostgreSQL escapes control characters as
 * \u0001) writes each line unchanged.
 *
 * The bar is the current path (COPY text, node-postgres's parser for the type, toCanonical):
 * JSON.parse of a line must give the archive values that path gives (JSON.parse of
 * JSON.stringify of its canonical row). Each column's expression below is written for one
 * PostgreSQL type, one behaviour of the parser node-postgres has for it (probed, since Strapi
 * replaces some) and the Strapi column types it serves; any other column sends its table
 * through the current path. A value the expression cannot render exactly fails the COPY with
 * an error naming it, never a different value: a timestamp a Date cannot hold (infinity; the
 * current path throws too), and where the current path did not: a numeric from 1e308 to 1e309
 * or below 1e-307 (not zero).
 *
 * The lines are the same values, not the same bytes, as JSON.stringify writes (", " between
 * a jsonb's members, PostgreSQL's float format such as 1e+15): the drill compares values. One
 * value parses differently and serialises the same: a number beyond a double inside a jsonb
 * (1e400) is Infinity parsed from the server's text, null from JSON.stringify's; a restore
 * serialises it again (null) either way.
 */

/** The node-postgres client knex hands out (the part used here). */
interface PgClient {
  query(query: unknown): unknown;
  getTypeParser?(oid: number, format: 'text'): (text: string) => unknown;
}

interface PgDriver {
  types: { getTypeParser(oid: number, format: 'text'): (text: string) => unknown };
}

type Parser = (text: string) => unknown;

const OID = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  json: 114,
  float4: 700,
  float8: 701,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

const kept = (type: string) => !CONVERTED_TYPES.has(type);


/** A string literal holding `text` (standard_conforming_strings: no backslash escapes). */
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** An IANA zone that is UTC at every date (Europe/London is not: summer time). */
export const isUtcZone = (zone: string) => /^(Etc\/)?(UTC|UCT|GMT([+-]?0)?|Universal|Zulu|Greenwich)$/.test(zone);

/** Whether Node's own time zone is UTC: node-postgres reads a `timestamp` as local time. */
export const nodeZoneIsUtc = () =>
  isUtcZone(Intl.DateTimeFormat().resolvedOptions().timeZone ?? '') &&
  new Date(2024, 6, 1).getTimezoneOffset() === 0 &&
  new Date(2024, 0, 1).getTimezoneOffset() === 0;

/** What a parser does with a probe, without letting a throwing parser through. */
const tryParse = (parser: Parser, text: string): unknown => {
  try {
    return parser(text);
  } catch {
    return Symbol('throws');
  }
};
const isIdentity = (parser: Parser) => ['"1"', '{"a": [1, 2]}', '2024-01-02', '13:45:30.25'].every((text) => tryParse(parser, text) === text);
const isJsonParse = (parser: Parser) => {
  const parsed = tryParse(parser, '{"a": [1, "x"]}') as { a?: unknown[] };
  return tryParse(parser, '"1"') === '1' && Array.isArray(parsed?.a) && parsed.a[1] === 'x';
};
const isFloat = (parser: Parser) => tryParse(parser, '12.50') === 12.5 && Number.isNaN(tryParse(parser, 'NaN')) && tryParse(parser, '1e+21') === 1e21;
const isInteger = (parser: Parser) => tryParse(parser, '-5000') === -5000 && tryParse(parser, '2147483647') === 2147483647;
const isBigText = (parser: Parser) => tryParse(parser, '9007199254740993') === '9007199254740993';
const isBoolean = (parser: Parser) => tryParse(parser, 't') === true && tryParse(parser, 'f') === false;
const isBuffer = (parser: Parser) => {
  const value = tryParse(parser, '\\x00ff0a');
  return Buffer.isBuffer(value) && value.equals(Buffer.from([0, 0xff, 0x0a]));
};
const isInstant = (parser: Parser, samples: Array<[string, number]>) =>
  samples.every(([text, time]) => {
    const value = tryParse(parser, text);
    return value instanceof Date && value.getTime() === time;
  });
const LOCAL_SAMPLES: Array<[string, number]> = [
  ['2024-01-02 03:04:05.678999', Date.UTC(2024, 0, 2, 3, 4, 5, 678)],
  ['2024-07-02 23:59:59.57', Date.UTC(2024, 6, 2, 23, 59, 59, 570)],
  ['0050-03-04 00:00:00', new Date('0050-03-04T00:00:00Z').getTime()],
];
const UTC_SAMPLES: Array<[string, number]> = [
  ['2024-01-02 03:04:05.678999+00', Date.UTC(2024, 0, 2, 3, 4, 5, 678)],
  ['2024-07-02 23:59:59.57+00', Date.UTC(2024, 6, 2, 23, 59, 59, 570)],
];

export interface RenderOptions {
  /** Node's time zone is UTC (a `timestamp` without zone is read as local time). */
  utc: boolean;
  /** The server writes a float8 in the shortest text that reads back to it. */
  shortest: boolean;
}

/**
 * An error raised by the server for one value (a cast that fails, naming it): a constant would be
 * folded when the statement is planned, this depends on the row.
 */
const refuse = (column: string, value: string) =>
  `(${literal(`pacta-backup: the value of column ${column} cannot be read exactly as JSON: `)} || ${value})::int::text`;

/**
 * A timestamp (without zone, or already at UTC) as toISOString writes it: the year in four digits
 * from 1 to 9999, else signed in six (year 0 is 1 BC, which node-postgres reads as such); beyond
 * what a Date holds (infinity, after +275760-09-13) toISOString throws, and the server too.
 */
const instant = (column: string, value: string) => {
  const year =
    `CASE WHEN ${value} >= '0001-01-01' AND ${value} < '10000-01-01' THEN to_char(${value}, 'YYYY') ` +
    `WHEN ${value} >= '10000-01-01' THEN '+' || lpad(extract(year FROM ${value})::bigint::text, 6, '0') ` +
    `WHEN extract(year FROM ${value}) = -1 THEN '0000' ` +
    `ELSE '-' || lpad((-1 - extract(year FROM ${value})::bigint)::text, 6, '0') END`;
  return (
    `CASE WHEN isfinite(${value}) AND ${value} <= '275760-09-13 00:00:00' ` +
    `THEN '"' || ${year} || to_char(${value}, '-MM-DD"T"HH24:MI:SS.MS"Z"') || '"' ELSE ${refuse(column, `${value}::text`)} END`
  );
};

/**
 * The JSON text of one column's value for the current path's canonical value, or null when the
 * table must take the current path. `c` is the quoted column; NULL is handled by the caller.
 */
export const columnExpression = (
  column: string,
  oid: number,
  type: string,
  parser: Parser,
  { utc, shortest }: RenderOptions
): string | null => {
  const c = quote(column);
  switch (oid) {
    case OID.int2:
    case OID.int4:
      return isInteger(parser) && (NUMBER_TYPES.has(type) || type === 'bigInteger' || type === 'bigIncrements' || kept(type)) ? `${c}::text` : null;
    case OID.int8:
      // node-postgres gives the digits; toBigInteger makes a number of them where it is safe.
      return isBigText(parser) && (type === 'bigInteger' || type === 'bigIncrements')
        ? `CASE WHEN ${c} BETWEEN -9007199254740991 AND 9007199254740991 THEN ${c}::text ELSE '"' || ${c}::text || '"' END`
        : null;
    case OID.float4:
    case OID.float8:
      // parseFloat of the server's text, which is a JSON number but for NaN and the infinities
      // (JSON.stringify writes null) and -0 (written 0).
      return isFloat(parser) && (NUMBER_TYPES.has(type) || kept(type))
        ? `CASE WHEN ${c} = 'NaN' OR ${c} = 'Infinity' OR ${c} = '-Infinity' THEN 'null' WHEN ${c} = 0 THEN '0' ELSE ${c}::text END`
        : null;
    case OID.numeric:
      // Strapi parses NUMERIC with parseFloat: the double nearest the decimal, which a cast to
      // float8 gives too (strtod), written in the shortest form that reads back to it (PostgreSQL
      // 12 and later with extra_float_digits above 0, its default).
      return shortest && isFloat(parser) && (NUMBER_TYPES.has(type) || kept(type))
        ? `CASE WHEN ${c} = 'NaN' OR abs(${c}) >= 1e309 THEN 'null' WHEN ${c} = 0 THEN '0' ` +
            `WHEN abs(${c}) >= 1e-307 AND abs(${c}) < 1e308 THEN ${c}::float8::text ELSE ${refuse(column, `${c}::text`)} END`
        : null;
    case OID.bool:
      return isBoolean(parser) && (type === 'boolean' || kept(type)) ? `CASE WHEN ${c} THEN 'true' ELSE 'false' END` : null;
    case OID.text:
    case OID.varchar:
    case OID.uuid:
      return isIdentity(parser) && kept(type) ? `to_json(${c})::text` : null;
    case OID.bytea:
      return isBuffer(parser) && kept(type) ? `'{"$base64":"' || translate(encode(${c}, 'base64'), chr(10), '') || '"}'` : null;
    case OID.jsonb:
      // Strapi hands jsonb back as text and toCanonical parses it: the text itself, which
      // never holds a raw line break (jsonb writes its strings escaped).
      if ((isIdentity(parser) && (type === 'json' || type === 'jsonb')) || (isJsonParse(parser) && kept(type))) return `${c}::text`;
      return isIdentity(parser) && kept(type) ? `to_json(${c}::text)::text` : null;
    case OID.json:
      // json keeps the text as written: a line break there is whitespace between tokens (never
      // inside a string, where JSON escapes it), a space does as well.
      if ((isIdentity(parser) && (type === 'json' || type === 'jsonb')) || (isJsonParse(parser) && kept(type))) {
        return `translate(${c}::text, chr(10) || chr(13), '  ')`;
      }
      return null;
    case OID.date:
      if (!isIdentity(parser)) return null;
      // toIsoDate keeps the first ten characters of a YYYY-MM-DD… text, any other as it is.
      if (type === 'date') return `to_json(CASE WHEN ${c}::text ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}' THEN left(${c}::text, 10) ELSE ${c}::text END)::text`;
      return kept(type) ? `to_json(${c}::text)::text` : null;
    case OID.time: {
      if (!isIdentity(parser)) return null;
      if (kept(type)) return `to_json(${c}::text)::text`;
      if (type !== 'time') return null;
      // toTime: HH:MM:SS and the fraction without its trailing zeros, padded to three digits.
      const fraction = `rtrim(split_part(${c}::text, '.', 2), '0')`;
      return `'"' || split_part(${c}::text, '.', 1) || '.' || CASE WHEN length(${fraction}) >= 3 THEN ${fraction} ELSE rpad(${fraction}, 3, '0') END || '"'`;
    }
    case OID.timestamp:
      // node-postgres reads it as Node's local time: exact in SQL only when that is UTC.
      return utc && isInstant(parser, LOCAL_SAMPLES) && (type === 'datetime' || type === 'timestamp') ? instant(column, c) : null;
    case OID.timestamptz:
      return isInstant(parser, UTC_SAMPLES) && (type === 'datetime' || type === 'timestamp') ? instant(column, `(${c} AT TIME ZONE 'UTC')`) : null;
    default:
      return null;
  }
};

/**
 * The SELECT building a table's lines, or the reason it takes the current path. `fields` are the
 * columns' type oids; `parserOf` node-postgres's parser for each.
 */
export const planLines = (
  columns: string[],
  types: string[],
  oids: number[],
  parserOf: (oid: number) => Parser,
  options: RenderOptions
): { expression: string } | { reason: string } => {
  const parts: string[] = [];
  for (let i = 0; i < columns.length; i += 1) {
    const expression = columnExpression(columns[i], oids[i], types[i], parserOf(oids[i]), options);
    if (expression === null) return { reason: `column ${columns[i]} (type oid ${oids[i]}, ${types[i]})` };
    parts.push(`CASE WHEN ${quote(columns[i])} IS NULL THEN 'null' ELSE ${expression} END`);
  }
  return { expression: `'[' || ${parts.join(` || ',' || `)} || ']'` };
};


/**
 * Whether the order the lines come in is the one the archive requires: a table with an id has it
 * as its primary key alone, of an integer type (ids ascending, each an integer, by construction);
 * the current path checks each row instead.
 */
const idIsKey = async (client: PgClient, table: string) => {
  const result = (await client.query({
    text: `SELECT count(*)::int AS n FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
           WHERE i.indrelid = to_regclass($1) AND i.indisprimary AND i.indnkeyatts = 1 AND a.attname = 'id'
             AND a.atttypid IN (20, 21, 23)`,
    values: [quote(table)],
  })) as { rows: Array<{ n: number }> };
  return result.rows[0]?.n === 1;
};

/**
 * A table's NDJSON lines as PostgreSQL writes them (their bytes as they come), or null when the
 * table takes the current path (a column type or parser this does not render exactly, an id
 * that is not the primary key). On the snapshot's connection, inside its transaction.
 */
export const readLines = async ({ knex, connection, table, types }: BulkReadContext): Promise<AsyncGenerator<Buffer> | null> => {
  const client = connection as PgClient;
  const driver = knex.client.driver as PgDriver;
  if (!table.columns.length) return null;
  if (table.columns.includes('id') && !(await idIsKey(client, table.name))) return null;
  const probe = (await client.query(`SELECT ${table.columns.map(quote).join(', ')} FROM ${quote(table.name)} LIMIT 0`)) as {
    fields: Array<{ dataTypeID: number }>;
  };
  const settings = (await client.query(
    "SELECT current_setting('server_version_num')::int >= 120000 AND current_setting('extra_float_digits')::int > 0 AS shortest"
  )) as { rows: Array<{ shortest: boolean }> };
  const parserOf = (oid: number) => (client.getTypeParser ? client.getTypeParser(oid, 'text') : driver.types.getTypeParser(oid, 'text'));
  const plan = planLines(
    table.columns,
    types,
    probe.fields.map((field) => field.dataTypeID),
    parserOf,
    { utc: nodeZoneIsUtc(), shortest: settings.rows[0]?.shortest === true }
  );
  if ('reason' in plan) return null;

  const builder = knex(table.name).select(knex.raw(plan.expression));
  if (table.filter) applyFilter(knex, builder, table.filter);
  builder.orderBy(table.columns.includes('id') ? ['id'] : table.columns);
  // COPY takes no parameters: the bindings written in as the current path does.
  return copyLines(client, inline(builder.toSQL(), prepareValueOf(knex.client.driver)));
};

async function* copyLines(client: PgClient, select: string): AsyncGenerator<Buffer> {
  const stream = client.query(copyOut(`COPY (${select}) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')`)) as Readable;
  let failure: Error | null = null;
  stream.on('error', (error) => {
    failure ??= error;
  });
  try {
    for (;;) {
      const chunk = await nextChunk(stream, () => failure);
      if (chunk === null) return;
      // CSV mode quotes a field holding the quote character or a line break: never JSON text.
      if (chunk.includes(1)) throw new Error('COPY quoted a JSON line: it holds a raw control character');
      yield chunk;
    }
  } finally {
    // A COPY the server failed is over (copyOut emits the error without ending the stream).
    if (!failure) await drain(stream);
  }
}
