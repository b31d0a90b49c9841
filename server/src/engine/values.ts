/**
 * Column values in a portable form. Each database driver hands back its own shapes (SQLite
 * stores datetimes as epoch milliseconds and booleans as 0/1, PostgreSQL returns Date objects
 * and decimals as strings, MariaDB returns JSON as text…). The archive stores the canonical
 * form, so a backup taken on one engine restores exactly on another.
 */

export type Dialect = 'sqlite' | 'postgres' | 'mysql';

/** Column types as Strapi's schema inspector names them. */
export type ColumnType = string;

const isNil = (value: unknown): value is null | undefined => value === null || value === undefined;

const toIsoDateTime = (value: unknown): unknown => {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') return new Date(value).toISOString();
  if (typeof value === 'string') {
    if (/^\d+$/.test(value)) return new Date(Number(value)).toISOString();
    const parsed = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
    return Number.isNaN(parsed.getTime()) ? value : parsed.toISOString();
  }
  return value;
};

const toIsoDate = (value: unknown): unknown => {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'number') return new Date(value).toISOString().slice(0, 10);
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)) return value.slice(0, 10);
  return value;
};

/**
 * Times as HH:MM:SS.fff, at least milliseconds, as Strapi writes them: PostgreSQL drops the
 * trailing zeros of the fraction ('13:45:30.25', '00:00:00'), MariaDB pads to the column's
 * precision ('13:45:30.250'), SQLite keeps whatever text was written.
 */
const toTime = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  const match = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/.exec(value);
  if (!match) return value;
  const [, hours, minutes, seconds = '00', fraction = ''] = match;
  return `${hours}:${minutes}:${seconds}.${fraction.replace(/0+$/, '').padEnd(3, '0')}`;
};

const toNumber = (value: unknown): unknown => {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return value;
};

const toBigInteger = (value: unknown): unknown => {
  const text = typeof value === 'bigint' ? value.toString() : String(value);
  if (!/^-?\d+$/.test(text)) return value;
  const asNumber = Number(text);
  return Number.isSafeInteger(asNumber) ? asNumber : text;
};

const toJson = (value: unknown): unknown => {
  // Strapi has every driver hand back JSON columns as text (MySQL 8's JSON type excepted).
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
};

/**
 * The Strapi column types toCanonical converts (below); a value of any other type is kept as the
 * driver gives it (a Buffer as base64). The bulk reads that build the lines in SQL render each
 * type as toCanonical would.
 */
export const CONVERTED_TYPES: ReadonlySet<ColumnType> = new Set([
  'boolean',
  'datetime',
  'timestamp',
  'date',
  'time',
  'increments',
  'integer',
  'float',
  'double',
  'decimal',
  'real',
  'bigInteger',
  'bigIncrements',
  'json',
  'jsonb',
]);

/** The types toCanonical reads as a JavaScript number (bigints may stay strings). */
export const NUMBER_TYPES: ReadonlySet<ColumnType> = new Set(['increments', 'integer', 'float', 'double', 'decimal', 'real']);

/** The portable form of a value read from `dialect` in a column of `type`. */
export const toCanonical = (value: unknown, type: ColumnType, _dialect: Dialect): unknown => {
  if (isNil(value)) return null;
  switch (type) {
    case 'boolean':
      return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
    case 'datetime':
    case 'timestamp':
      return toIsoDateTime(value);
    case 'date':
      return toIsoDate(value);
    case 'time':
      return toTime(value);
    case 'increments':
    case 'integer':
    case 'float':
    case 'double':
    case 'decimal':
    case 'real':
      return toNumber(value);
    case 'bigInteger':
    case 'bigIncrements':
      return toBigInteger(value);
    case 'json':
    case 'jsonb':
      return toJson(value);
    default:
      return Buffer.isBuffer(value) ? { $base64: value.toString('base64') } : value;
  }
};

/** The value to bind when writing a canonical value into a column of `type` on `dialect`. */
export const fromCanonical = (value: unknown, type: ColumnType, dialect: Dialect): unknown => {
  if (isNil(value)) return null;
  switch (type) {
    case 'boolean':
      // better-sqlite3 binds no booleans; Strapi stores 0/1 there.
      return dialect === 'sqlite' ? (value ? 1 : 0) : Boolean(value);
    case 'datetime':
    case 'timestamp': {
      const time = Date.parse(String(value));
      if (Number.isNaN(time)) return value;
      // Strapi writes epoch milliseconds into SQLite, Date objects elsewhere.
      return dialect === 'sqlite' ? time : new Date(time);
    }
    case 'json':
    case 'jsonb':
      return JSON.stringify(value);
    default:
      if (typeof value === 'object' && value !== null && '$base64' in value) {
        return Buffer.from(String((value as { $base64: string }).$base64), 'base64');
      }
      // JSON that a driver parsed in a column the inspector calls text (MariaDB's JSON is LONGTEXT).
      return typeof value === 'object' && value !== null ? JSON.stringify(value) : value;
  }
};
