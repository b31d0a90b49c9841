import type { Knex } from 'knex';

import { applyFilter } from '../sql';
import { CONVERTED_TYPES, NUMBER_TYPES, toCanonical } from '../values';

import type { BulkReadContext } from './index';
import { databaseError, run, type MysqlConnection } from './mysql-driver';
import { nodeZoneIsUtc } from './postgres-json-read';
import { streamQuery, streamSelect } from './mysql-read';

/**
 * A backup's rows built by MariaDB itself: one streamed `SELECT CONCAT('[', …, ']') … ORDER BY id`
 * per table whose every row is the table's row as a JSON array, the archive's NDJSON line,
 * gathered into chunks and passed on to the compressor without being parsed in Node.
 *
 * The bar is the current path (the streamed SELECT of mysql-read.ts, mysql2's text parsers with
 * the typeCast Strapi installs, toCanonical): JSON.parse of a line must give the archive values
 * that path gives (JSON.parse of JSON.stringify of its canonical row). Each column's expression
 * below is written for one wire type, the way mysql2 and Strapi's typeCast read it (probed,
 * where it is a setting) and the Strapi column types it serves; any other column sends its table
 * through the current path.
 *
 * Some values only the current path reads as it does: a DATETIME the driver cannot make a Date
 * of (a zero date, a year before 100), a JSON text MariaDB and JavaScript do not judge alike
 * (MariaDB takes `\x`, `1.` or `[-]`, refuses `"\ud800"` and depth beyond 32), a JSON column
 * holding a JSON string (the driver parses it, toCanonical again). Such a row is not rendered:
 * its line is `!` and its id, and from that row on the table is read the current way (the
 * lines before it stand: the same snapshot, in id order). A table without an id cannot resume
 * in the middle: one query first looks for such a row, and if there is one, the whole table
 * takes the current path.
 *
 * The lines are the same values, not the same bytes, as JSON.stringify writes (MariaDB's `1e21`
 * for a double, a JSON column's text as stored, JSON_QUOTE's escapes): the drill compares values.
 */

/** The part of a mysql2 column definition read here (a result's `fields`). */
export interface MysqlField {
  name: string;
  columnType: number;
  columnLength: number;
  characterSet: number;
  /** MariaDB's extended metadata: 'json' for a column declared JSON (LONGTEXT with a json_valid check). */
  extendedFormat?: string;
  extendedTypeName?: string;
}

/** The settings of a mysql2 connection that decide what a SELECT hands back. */
export interface MysqlConfig {
  typeCast?: unknown;
  supportBigNumbers?: boolean;
  bigNumberStrings?: boolean;
  dateStrings?: boolean | string[];
  timezone?: string;
  jsonStrings?: boolean;
}

/** mysql2's wire types (constants/types.js). */
const T = {
  DECIMAL: 0x00,
  TINY: 0x01,
  SHORT: 0x02,
  LONG: 0x03,
  FLOAT: 0x04,
  DOUBLE: 0x05,
  TIMESTAMP: 0x07,
  LONGLONG: 0x08,
  INT24: 0x09,
  DATE: 0x0a,
  TIME: 0x0b,
  DATETIME: 0x0c,
  YEAR: 0x0d,
  VARCHAR: 0x0f,
  NEWDECIMAL: 0xf6,
  ENUM: 0xf7,
  SET: 0xf8,
  TINY_BLOB: 0xf9,
  MEDIUM_BLOB: 0xfa,
  LONG_BLOB: 0xfb,
  BLOB: 0xfc,
  VAR_STRING: 0xfd,
  STRING: 0xfe,
} as const;

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(T).map(([name, code]) => [code, name]));

/** The binary pseudo character set: mysql2 hands such a column back as a Buffer. */
const BINARY = 63;

const INTEGERS = new Set<number>([T.TINY, T.SHORT, T.LONG, T.INT24, T.YEAR]);
const TEXTS = new Set<number>([T.VARCHAR, T.VAR_STRING, T.STRING, T.ENUM, T.SET, T.TINY_BLOB, T.MEDIUM_BLOB, T.LONG_BLOB, T.BLOB]);

const kept = (type: string) => !CONVERTED_TYPES.has(type);
const numeric = (type: string) => NUMBER_TYPES.has(type) || kept(type);

/** What Strapi's typeCast (dialects/mysql) does with a value, through a stand-in for mysql2's field. */
const NEXT = Symbol('next');
const cast = (typeCast: unknown, type: string, length: number, text: string | null): unknown => {
  const field = { type, length, name: 'probe', string: () => text, buffer: () => (text === null ? null : Buffer.from(text)) };
  try {
    return (typeCast as (field: unknown, next: () => unknown) => unknown)(field, () => NEXT);
  } catch {
    return Symbol('throws');
  }
};

/**
 * Whether the connection's typeCast is Strapi's: DECIMAL as Number(text), TINYINT(1) as
 * `text === '1'`, DATE as its text, every other type left to mysql2.
 */
export const isStrapiTypeCast = (typeCast: unknown): boolean => {
  if (typeof typeCast !== 'function') return false;
  const decimal = ['12.50', '-0.01', '123456789012345678901234567890.5'].every(
    (text) => cast(typeCast, 'NEWDECIMAL', 12, text) === Number(text) && cast(typeCast, 'DECIMAL', 12, text) === Number(text)
  );
  const boolean =
    cast(typeCast, 'TINY', 1, '1') === true && cast(typeCast, 'TINY', 1, '0') === false && cast(typeCast, 'TINY', 1, '2') === false;
  const date = cast(typeCast, 'DATE', 10, '2024-01-02') === '2024-01-02' && cast(typeCast, 'DATE', 10, '0000-00-00') === '0000-00-00';
  const left = ['LONG', 'LONGLONG', 'DOUBLE', 'FLOAT', 'DATETIME', 'TIMESTAMP', 'TIME', 'VAR_STRING', 'BLOB', 'STRING'].every(
    (type) => cast(typeCast, type, 20, '1') === NEXT
  );
  return decimal && boolean && date && left && cast(typeCast, 'TINY', 4, '1') === NEXT;
};

/**
 * Whether mysql2 reads a JSON text with big integers as strings (its reviver, where JSON.parse
 * gives revivers the source text): then a JSON value with 16 digits in a row is the current path's.
 */
const jsonSourceAccess = (() => {
  let supported = false;
  JSON.parse('0', (_key, value, context?: { source?: unknown }) => {
    supported = typeof context?.source === 'string';
    return value;
  });
  return supported;
})();

export interface RenderOptions {
  /** mysql2 reads DATETIME and TIMESTAMP text as UTC (timezone Z or +00:00, or local in a UTC process). */
  utc: boolean;
  /** BIGINT comes as its digits (supportBigNumbers with bigNumberStrings), or a number where it is safe. */
  bigints: 'strings' | 'safe' | 'lossy';
  /** JSON columns flagged as such in MariaDB's metadata are parsed by mysql2 (not jsonStrings). */
  parsesJson: boolean;
  /** mysql2 turns a JSON text's unsafe integers into strings (see jsonSourceAccess). */
  bigJsonIntegers: boolean;
  /** A column's text is not utf8mb4 (latin1…): converted first, as the server converts it for the wire. */
  convert?: boolean;
}

/** A column's JSON text (`render`), given it is not NULL, and whether each value can be rendered (`certain`). */
export interface ColumnPlan {
  render: string;
  certain?: string;
}

/** A string literal (backslash escapes: the session has no NO_BACKSLASH_ESCAPES, checked). */
const literal = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\0/g, '\\0')}'`;

/** A backtick-quoted identifier. */
export const quoteId = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/**
 * JSON texts JavaScript's JSON.parse reads as MariaDB's JSON_VALID judged them valid, and to a
 * value JSON.stringify writes back alike (found by comparing the two on random texts). MariaDB
 * also takes: an escape JSON has not (an odd run of backslashes before another character), a raw
 * control character in a string, a number ending in `.` or `-`, an exponent without digits or
 * with more signs (`1.`, `0.e1`, `2e+`, `2e--3`, `-`).
 * JSON.parse reads a number beyond a double as Infinity (written null) and -0 or a negative
 * underflow as -0 (written 0): an exponent of 300 or more, hundreds of digits in a row, `-0`.
 * These are looked for wherever they may be (a number is followed by `,`, `]`, `}` or the end):
 * inside a string they only send a row to the current path. Case-sensitive whatever the
 * column's collation. One pattern, one pass over the text (possessive where a long run of
 * backslashes or zeros would otherwise be tried again from each of its characters).
 */
const NOT_FOR_JS = [
  '(?<!\\\\)(?:\\\\\\\\)*+\\\\(?:[^"\\\\/bfnrtu]|u(?![0-9a-fA-F]{4}))',
  '[\\x00-\\x1f]',
  '[0-9]\\.[ ]*(?:[,\\]}eE]|$)',
  '[0-9.][eE](?![+-]?[0-9])',
  '-[ ]*(?:[,\\]}]|$)',
  '[0-9.][eE][+-]?0*+(?:[3-9][0-9]{2}|[1-9][0-9]{3})',
  '[0-9]{300}',
  '-0(?:\\.0*+)?+(?![.0-9])',
];
const NOT_FOR_JS_PATTERN = `(?-i)${NOT_FOR_JS.join('|')}`;
/** A text JSON.parse may take (what it does not start with, it refuses). */
const JSON_START = '(?-i)^[ \\t\\n\\r]*(?:[-0-9\\[{"]|true|false|null)';

const jsonValidForJs = (c: string) => `(JSON_VALID(${c}) AND ${c} NOT REGEXP ${literal(NOT_FOR_JS_PATTERN)})`;
const jsonInvalidForJs = (c: string) => `(NOT JSON_VALID(${c}) AND ${c} NOT REGEXP ${literal(JSON_START)})`;

/**
 * The double mysql2 reads from a FLOAT or DOUBLE's text: Number.parseFloat where the text is
 * longer than 17 characters or has an exponent, else its digits accumulated as a double and
 * divided by a power of ten. With 16 or more digits the accumulation rounds, and the result can
 * be a neighbour of the double the text names (98765432109876.53 is read 98765432109876.52):
 * the same arithmetic is done here in doubles (MariaDB's are IEEE doubles too). Shorter texts
 * are exact either way. MariaDB writes a double in the shortest text that reads back to it.
 */
const double = (c: string) => {
  const text = `CAST(${c} AS CHAR)`;
  const digits = `REPLACE(REPLACE(${text}, '-', ''), '.', '')`;
  const scale = `IF(LOCATE('.', ${text}) = 0, 0, LENGTH(${text}) - LOCATE('.', ${text}))`;
  return (
    `CASE WHEN ${c} = 0 THEN '0' ` +
    // Whole numbers below 1e15 (a link table's order): written in at most 15 digits, exact.
    `WHEN ${c} = FLOOR(${c}) AND ABS(${c}) < 1e15 THEN ${text} ` +
    `WHEN LENGTH(${text}) BETWEEN 16 AND 17 AND LOCATE('e', ${text}) = 0 ` +
    `THEN CAST(IF(${c} < 0, -1e0, 1e0) * (CAST(${digits} AS DOUBLE) / POW(10, ${scale})) AS CHAR) ELSE ${text} END`
  );
};

/**
 * A DATETIME or TIMESTAMP (the session's time zone, as on the wire) as toISOString writes the
 * Date mysql2 makes of it at UTC: milliseconds cut from the fraction, not rounded. A date mysql2
 * reads otherwise (a zero month or day, a day past the month's end: Invalid Date or another
 * day; a year before 100: parsed as a string) is not rendered.
 */
const instant = (c: string): ColumnPlan => ({
  render: `CONCAT(LEFT(DATE_FORMAT(${c}, '"%Y-%m-%dT%H:%i:%s.%f'), 24), 'Z"')`,
  certain: `(${c} >= '0100-01-01' AND MONTH(${c}) > 0 AND DAYOFMONTH(${c}) BETWEEN 1 AND DAYOFMONTH(LAST_DAY(${c})))`,
});

/**
 * toTime (values.ts): HH:MM:SS and the fraction without its trailing zeros, padded to three
 * digits; a TIME outside 00:00:00 to 99:59:59 (negative, hundreds of hours) stays as it is.
 */
const time = (c: string): string => {
  const text = `CAST(${c} AS CHAR)`;
  const fraction = `TRIM(TRAILING '0' FROM SUBSTRING(${text}, 10))`;
  return (
    `CASE WHEN ${c} >= '00:00:00' AND ${c} < '100:00:00' ` +
    `THEN CONCAT('"', LEFT(${text}, 8), '.', IF(LENGTH(${fraction}) >= 3, ${fraction}, RPAD(${fraction}, 3, '0')), '"') ` +
    `ELSE JSON_QUOTE(${text}) END`
  );
};

/**
 * The JSON text of one column's value for the current path's canonical value, or null when the
 * table must take the current path. `column` is the column's name; NULL is handled by the caller.
 */
export const columnPlan = (column: string, field: MysqlField, type: string, options: RenderOptions): ColumnPlan | null => {
  const c = quoteId(column);
  const wire = field.columnType;
  // MariaDB's UUID, INET4, INET6…: their own types behind a string's wire type.
  if (field.extendedTypeName) return null;
  if (wire === T.TINY && field.columnLength === 1) {
    // Strapi's typeCast: true for '1', false for any other; toCanonical keeps booleans (toNumber too).
    return type === 'boolean' || numeric(type) ? { render: `IF(${c} = 1, 'true', 'false')` } : null;
  }
  if (INTEGERS.has(wire)) {
    if (type === 'boolean') return { render: `IF(${c} = 1, 'true', 'false')` };
    return numeric(type) || type === 'bigInteger' || type === 'bigIncrements' ? { render: `CAST(${c} AS CHAR)` } : null;
  }
  switch (wire) {
    case T.LONGLONG:
      if (type === 'boolean') return { render: `IF(${c} = 1, 'true', 'false')` };
      // Digits, or a number where toBigInteger makes one (a safe integer).
      if (type === 'bigInteger' || type === 'bigIncrements' || (kept(type) && options.bigints === 'safe')) {
        return options.bigints === 'lossy'
          ? null
          : { render: `IF(${c} BETWEEN -9007199254740991 AND 9007199254740991, CAST(${c} AS CHAR), CONCAT('"', ${c}, '"'))` };
      }
      // toNumber parses the digits, JSON.parse the same digits (both to the nearest double).
      if (NUMBER_TYPES.has(type)) return options.bigints === 'lossy' ? null : { render: `CAST(${c} AS CHAR)` };
      if (kept(type)) return options.bigints === 'strings' ? { render: `CONCAT('"', ${c}, '"')` } : null;
      return null;
    case T.DECIMAL:
    case T.NEWDECIMAL:
      // Number(text), the nearest double, which JSON.parse of the same text gives; -0 is written 0.
      return numeric(type) ? { render: `IF(${c} = 0, '0', CAST(${c} AS CHAR))` } : null;
    case T.FLOAT:
    case T.DOUBLE:
      return numeric(type) ? { render: double(c) } : null;
    case T.DATETIME:
    case T.TIMESTAMP:
      // A Date: toIsoDateTime, or JSON.stringify's toJSON for a kept one (the same text).
      return options.utc && (type === 'datetime' || type === 'timestamp' || kept(type)) ? instant(c) : null;
    case T.DATE:
      // Strapi's typeCast hands the text back: 'YYYY-MM-DD', which toIsoDate keeps.
      return type === 'date' || kept(type) ? { render: `CONCAT('"', ${c}, '"')` } : null;
    case T.TIME:
      if (type === 'time') return { render: time(c) };
      return kept(type) ? { render: `JSON_QUOTE(CAST(${c} AS CHAR))` } : null;
    default:
      break;
  }
  if (!TEXTS.has(wire)) return null;
  if (field.characterSet === BINARY) {
    // A Buffer, kept as { $base64 } (TO_BASE64 breaks its lines every 76 characters).
    return kept(type) ? { render: `CONCAT('{"$base64":"', REPLACE(TO_BASE64(${c}), CHAR(10), ''), '"}')` } : null;
  }
  const text = options.convert ? `CONVERT(${c} USING utf8mb4)` : c;
  const json = type === 'json' || type === 'jsonb';
  if (field.extendedFormat === 'json' && options.parsesJson) {
    // mysql2 parses it (and throws where JSON.parse does); toCanonical parses a string it gave again.
    if (!json && !kept(type)) return null;
    const conditions = [jsonValidForJs(text)];
    if (json) conditions.push(`JSON_TYPE(${text}) <> 'STRING'`);
    if (options.bigJsonIntegers) conditions.push(`${text} NOT REGEXP '[0-9]{16}'`);
    return { render: text, certain: `(${conditions.join(' AND ')})` };
  }
  if (json) {
    // toJson: the text parsed, or the string as it is where JSON.parse refuses it.
    return {
      render: `IF(JSON_VALID(${text}), ${text}, JSON_QUOTE(${text}))`,
      certain: `(${jsonValidForJs(text)} OR ${jsonInvalidForJs(text)})`,
    };
  }
  return kept(type) ? { render: `JSON_QUOTE(${text})` } : null;
};

/**
 * The expression building a table's lines (a row the server cannot vouch for is `!` and its id),
 * and whether some rows may be such; or the reason the table takes the current path.
 */
export const planLines = (
  columns: string[],
  types: string[],
  fields: MysqlField[],
  options: RenderOptions,
  converted: ReadonlySet<string> = new Set()
): { expression: string; certain: string | null } | { reason: string } => {
  const parts: string[] = [];
  const certain: string[] = [];
  for (let i = 0; i < columns.length; i += 1) {
    const field = fields[i];
    const plan = field ? columnPlan(columns[i], field, types[i], { ...options, convert: converted.has(columns[i]) }) : null;
    if (plan === null) {
      return { reason: `column ${columns[i]} (${TYPE_NAMES[field?.columnType ?? -1] ?? `wire type ${field?.columnType}`}, ${types[i]})` };
    }
    const c = quoteId(columns[i]);
    parts.push(`CASE WHEN ${c} IS NULL THEN 'null' ELSE ${plan.render} END`);
    if (plan.certain) certain.push(`(${c} IS NULL OR ${plan.certain})`);
  }
  const line = `CONCAT('[', ${parts.join(", ',', ")}, ']')`;
  if (!certain.length) return { expression: line, certain: null };
  const all = certain.join(' AND ');
  const marker = columns.includes('id') ? `CONCAT('!', ${quoteId('id')})` : `'!'`;
  // CASE takes a NULL condition for false: a value the checks cannot judge is not rendered.
  return { expression: `CASE WHEN ${all} THEN ${line} ELSE ${marker} END`, certain: all };
};

/** Per connection: the server's facts that decide whether this path can be taken at all. */
const serverFacts = new WeakMap<MysqlConnection, { usable: boolean }>();

const usableServer = async (connection: MysqlConnection) => {
  let facts = serverFacts.get(connection);
  if (!facts) {
    const [row] = await run<Array<{ version: string; results: string | null; mode: string }>>(
      connection,
      'SELECT VERSION() AS version, @@character_set_results AS results, @@sql_mode AS mode'
    );
    // MariaDB only (MySQL's JSON functions and types differ); results in UTF-8; string
    // literals with backslash escapes (what the literals above are written for).
    facts = {
      usable:
        /mariadb/i.test(String(row?.version)) && /^utf8(mb4|mb3)?$/i.test(String(row?.results)) && !/NO_BACKSLASH_ESCAPES/i.test(String(row?.mode)),
    };
    serverFacts.set(connection, facts);
  }
  return facts.usable;
};

/** mysql2's query with the result's column definitions (the callback's third argument). */
interface FieldsQuery {
  query(sql: string, callback: (error: Error | null, rows: unknown, fields?: MysqlField[]) => void): unknown;
}

/** The result's column definitions of a statement (LIMIT 0: no rows). */
const fieldsOf = (connection: MysqlConnection, sql: string) =>
  new Promise<MysqlField[]>((resolve, reject) => {
    (connection as unknown as FieldsQuery).query(sql, (error, _rows, fields) => (error ? reject(databaseError(error)) : resolve(fields ?? [])));
  });

/** How the connection's settings read values (see RenderOptions), or null where unsure. */
export const renderOptionsOf = (config: MysqlConfig): RenderOptions | null => {
  if (!isStrapiTypeCast(config.typeCast)) return null;
  if (config.dateStrings) return null;
  const zone = config.timezone ?? 'local';
  const utc = zone === 'Z' || zone === '+00:00' || zone === '-00:00' || (zone === 'local' && nodeZoneIsUtc());
  return {
    utc,
    bigints: !config.supportBigNumbers ? 'lossy' : config.bigNumberStrings ? 'strings' : 'safe',
    parsesJson: !config.jsonStrings,
    bigJsonIntegers: jsonSourceAccess && Boolean(config.supportBigNumbers),
  };
};

/** A statement `SELECT <expression> FROM table [filter] [ORDER BY …]`, its bindings written in. */
const selectOf = (knex: Knex, builder: Knex.QueryBuilder, expression: string) => {
  // The expression holds `?` (in its patterns): knex and mysql2 would take them for bindings.
  const base = builder.toQuery();
  const head = 'select 1 from ';
  if (!base.startsWith(head)) throw new Error(`Unexpected query text from knex: ${base.slice(0, 40)}`);
  return `SELECT ${expression} FROM ${base.slice(head.length)}`;
};

/** Bytes of lines per chunk handed on. */
const CHUNK = 1 << 18;
const NEWLINE = Buffer.from('\n');

/**
 * A table's NDJSON lines as MariaDB writes them, or null when the table takes the current path
 * (not MariaDB, a column type or setting this does not render exactly, an id that is not the
 * integer primary key). On the snapshot's connection, inside its transaction.
 */
export const mysqlJsonLines = async ({ knex, connection, table, types }: BulkReadContext): Promise<AsyncGenerator<Buffer> | null> => {
  const conn = connection as MysqlConnection;
  if (!table.columns.length) return null;
  if (!(await usableServer(conn))) return null;
  const options = renderOptionsOf(conn.config as MysqlConfig);
  if (!options) return null;
  const hasId = table.columns.includes('id');

  const columns = await run<Array<{ name: string; charset: string | null; key: string; dataType: string }>>(conn, {
    sql:
      'SELECT COLUMN_NAME AS name, CHARACTER_SET_NAME AS charset, COLUMN_KEY AS `key`, DATA_TYPE AS dataType ' +
      'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
    values: [table.name],
  });
  if (hasId) {
    // The id alone is the primary key, an integer: the lines come in the order the archive requires.
    const keys = await run<Array<{ name: string }>>(conn, {
      sql:
        'SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE ' +
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'",
      values: [table.name],
    });
    const id = columns.find((column) => column.name === 'id');
    if (keys.length !== 1 || keys[0].name !== 'id' || !/^(tinyint|smallint|mediumint|int|bigint)$/i.test(String(id?.dataType))) return null;
  }
  const converted = new Set(columns.filter((column) => column.charset && !/^utf8mb4$/i.test(column.charset)).map((column) => column.name));

  const fields = await fieldsOf(conn, `SELECT ${table.columns.map(quoteId).join(', ')} FROM ${quoteId(table.name)} LIMIT 0`);
  if (fields.length !== table.columns.length) return null;
  const plan = planLines(table.columns, types, fields, options, converted);
  if ('reason' in plan) return null;

  const ordered = (builder: Knex.QueryBuilder) => {
    if (table.filter) applyFilter(knex, builder, table.filter);
    return builder.orderBy(hasId ? ['id'] : table.columns);
  };
  if (!hasId && plan.certain) {
    // No id to resume from: a row the server cannot vouch for sends the whole table the current way.
    const builder = knex(table.name).select(knex.raw('1'));
    if (table.filter) applyFilter(knex, builder, table.filter);
    const inner = selectOf(knex, builder, `(${plan.certain}) AS pacta_certain`);
    const found = await run<unknown[]>(conn, `SELECT 1 FROM (${inner}) AS pacta_rows WHERE pacta_certain IS NOT TRUE LIMIT 1`);
    if (found.length) return null;
  }
  const sql = selectOf(knex, ordered(knex(table.name).select(knex.raw('1'))), plan.expression);

  /** The current path from the row with this id on: its canonical rows as lines. */
  async function* currentPath(fromId: string): AsyncGenerator<Buffer> {
    const builder = knex(table.name).select(table.columns);
    if (table.filter) applyFilter(knex, builder, table.filter);
    builder.andWhere('id', '>=', fromId).orderBy('id');
    const { sql: select, bindings } = builder.toSQL().toNative();
    for await (const batch of streamSelect(conn, select, bindings, { size: 2000 })) {
      let text = '';
      for (const row of batch) {
        for (let i = 0; i < row.length; i += 1) row[i] = toCanonical(row[i], types[i], 'mysql');
        text += `${JSON.stringify(row)}\n`;
      }
      yield Buffer.from(text);
    }
  }

  return (async function* lines() {
    let resumeAt: string | null = null;
    for await (const chunk of streamLines(conn, sql)) {
      if (typeof chunk === 'string') {
        if (!hasId) throw new Error(`A row of ${table.name} could not be read as JSON lines after it was checked in the same snapshot`);
        resumeAt = chunk;
        break;
      }
      yield chunk;
    }
    if (resumeAt !== null) yield* currentPath(resumeAt);
  })();
};

/**
 * The lines of the statement in chunks of about CHUNK bytes, each line as the server wrote it
 * (the typeCast hands back its bytes; Strapi's is for the current path). A marker row ends the
 * lines with its id (a string), handed on once the rest of the result was read and dropped: the
 * connection must be free for the current path that follows.
 */
function streamLines(connection: MysqlConnection, sql: string): AsyncGenerator<Buffer | string> {
  let parts: Buffer[] = [];
  let size = 0;
  const flush = (emit: (item: Buffer) => void) => {
    if (parts.length) emit(Buffer.concat(parts, size));
    parts = [];
    size = 0;
  };
  // A typeCast of its own: the line's bytes as they come, neither decoded nor parsed.
  const options = { sql, typeCast: (field: { buffer(): Buffer | null }) => field.buffer() };
  return streamQuery<Buffer | string>(connection, options, {
    take(row, emit, stop) {
      const line = row[0] as Buffer | null;
      if (!line || line[0] === 0x21) {
        // '!': a row rendered the current way from here on.
        flush(emit);
        emit(line ? line.toString('latin1', 1) : '');
        stop();
        return;
      }
      parts.push(line, NEWLINE);
      size += line.length + 1;
      if (size >= CHUNK) flush(emit);
    },
    end: flush,
  });
}
