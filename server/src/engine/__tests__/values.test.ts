import { CONVERTED_TYPES, NUMBER_TYPES, fromCanonical, toCanonical, type Dialect } from '../values';

/**
 * The driver values below are what each driver hands back for the same row when it is set up
 * as Strapi sets it up (PostgreSQL: DATE and JSONB as text, NUMERIC through parseFloat; MariaDB:
 * DECIMAL as Number, TINYINT(1) as boolean, DATE as text, big numbers as strings), read from
 * tables made with Strapi's column types on better-sqlite3 12, PostgreSQL 15 and MariaDB 10.11.
 * The expected values are written out: the test dump canonicalises with toCanonical too, so a
 * mistake here would otherwise hide on both sides of every comparison.
 */
interface Case {
  type: string;
  /** The same stored value as each driver returns it. */
  read: Record<Dialect, unknown>;
  canonical: unknown;
}

const CASES: Record<string, Case> = {
  'boolean true': { type: 'boolean', read: { sqlite: 1, postgres: true, mysql: true }, canonical: true },
  'boolean false': { type: 'boolean', read: { sqlite: 0, postgres: false, mysql: false }, canonical: false },
  datetime: {
    type: 'datetime',
    read: { sqlite: 1709251198123, postgres: new Date('2024-02-29T23:59:58.123Z'), mysql: new Date('2024-02-29T23:59:58.123Z') },
    canonical: '2024-02-29T23:59:58.123Z',
  },
  'datetime at the epoch': {
    type: 'datetime',
    read: { sqlite: 0, postgres: new Date(0), mysql: new Date(0) },
    canonical: '1970-01-01T00:00:00.000Z',
  },
  date: { type: 'date', read: { sqlite: '2024-02-29', postgres: '2024-02-29', mysql: '2024-02-29' }, canonical: '2024-02-29' },
  time: { type: 'time', read: { sqlite: '13:45:30.250', postgres: '13:45:30.25', mysql: '13:45:30.250' }, canonical: '13:45:30.250' },
  midnight: { type: 'time', read: { sqlite: '00:00:00', postgres: '00:00:00', mysql: '00:00:00.000' }, canonical: '00:00:00.000' },
  decimal: { type: 'decimal', read: { sqlite: 1234.5, postgres: 1234.5, mysql: 1234.5 }, canonical: 1234.5 },
  'decimal below one': { type: 'decimal', read: { sqlite: 0.1, postgres: 0.1, mysql: 0.1 }, canonical: 0.1 },
  double: { type: 'double', read: { sqlite: 1e21, postgres: 1e21, mysql: 1e21 }, canonical: 1e21 },
  integer: { type: 'integer', read: { sqlite: -7, postgres: -7, mysql: -7 }, canonical: -7 },
  'small bigInteger': { type: 'bigInteger', read: { sqlite: 42, postgres: '42', mysql: '42' }, canonical: 42 },
  // better-sqlite3 gives a bigint here only with safeIntegers on; as a number it is 2^53 already.
  'bigInteger above 2^53': {
    type: 'bigInteger',
    read: { sqlite: BigInt('9007199254740993'), postgres: '9007199254740993', mysql: '9007199254740993' },
    canonical: '9007199254740993',
  },
  'json object': {
    type: 'jsonb',
    read: { sqlite: '{"a":[1,"x"],"n":null}', postgres: '{"a": [1, "x"], "n": null}', mysql: { a: [1, 'x'], n: null } },
    canonical: { a: [1, 'x'], n: null },
  },
  'json array': { type: 'jsonb', read: { sqlite: '[1,2]', postgres: '[1, 2]', mysql: [1, 2] }, canonical: [1, 2] },
  // mysql2 parses JSON columns itself: a JSON string comes as the string, a number as the number.
  'json string': { type: 'jsonb', read: { sqlite: '"text"', postgres: '"text"', mysql: 'text' }, canonical: 'text' },
  'json number': { type: 'jsonb', read: { sqlite: '42', postgres: '42', mysql: 42 }, canonical: 42 },
  text: { type: 'text', read: { sqlite: 'héllo', postgres: 'héllo', mysql: 'héllo' }, canonical: 'héllo' },
  'empty string': { type: 'string', read: { sqlite: '', postgres: '', mysql: '' }, canonical: '' },
  null: { type: 'datetime', read: { sqlite: null, postgres: null, mysql: null }, canonical: null },
};

const DIALECTS: Dialect[] = ['sqlite', 'postgres', 'mysql'];

describe('column values in their portable form', () => {
  describe.each(DIALECTS)('read from %s', (dialect) => {
    it.each(Object.keys(CASES))('%s', (name) => {
      const { type, read, canonical } = CASES[name];
      expect(toCanonical(read[dialect], type, dialect)).toEqual(canonical);
    });

    it('null and undefined are null whatever the column', () => {
      for (const type of ['boolean', 'datetime', 'date', 'time', 'decimal', 'bigInteger', 'jsonb', 'text']) {
        expect([type, toCanonical(null, type, dialect), toCanonical(undefined, type, dialect)]).toEqual([type, null, null]);
      }
    });
  });

  it('reads every boolean spelling a driver or an old archive may give', () => {
    expect([1, '1', 't', 'true', true].map((v) => toCanonical(v, 'boolean', 'sqlite'))).toEqual([true, true, true, true, true]);
    expect([0, '0', 'f', 'false', false].map((v) => toCanonical(v, 'boolean', 'sqlite'))).toEqual([false, false, false, false, false]);
  });

  it('reads datetimes written as text, with or without an offset, as UTC', () => {
    expect(toCanonical('2024-02-29 23:59:58', 'datetime', 'sqlite')).toBe('2024-02-29T23:59:58.000Z');
    expect(toCanonical('2024-02-29T23:59:58.123Z', 'datetime', 'sqlite')).toBe('2024-02-29T23:59:58.123Z');
    expect(toCanonical('2024-03-01T00:59:58.123+01:00', 'datetime', 'postgres')).toBe('2024-02-29T23:59:58.123Z');
    expect(toCanonical('1709251198123', 'timestamp', 'sqlite')).toBe('2024-02-29T23:59:58.123Z');
    expect(toCanonical('not a date', 'datetime', 'sqlite')).toBe('not a date');
  });

  it('reads dates given as Date objects or datetimes as the calendar day', () => {
    expect(toCanonical(new Date('2024-02-29T00:00:00.000Z'), 'date', 'mysql')).toBe('2024-02-29');
    expect(toCanonical('2024-02-29T00:00:00.000Z', 'date', 'postgres')).toBe('2024-02-29');
    expect(toCanonical(1709164800000, 'date', 'sqlite')).toBe('2024-02-29');
  });

  it('keeps the digits of a time beyond milliseconds and what is not a time', () => {
    expect(toCanonical('13:45:30.123456', 'time', 'postgres')).toBe('13:45:30.123456');
    expect(toCanonical('13:45:30.120000', 'time', 'mysql')).toBe('13:45:30.120');
    expect(toCanonical('13:45', 'time', 'sqlite')).toBe('13:45:00.000');
    expect(toCanonical('later', 'time', 'sqlite')).toBe('later');
  });

  it('reads numbers given as strings or bigints, and leaves what is not a number', () => {
    expect(toCanonical('1234.50', 'decimal', 'postgres')).toBe(1234.5);
    expect(toCanonical(BigInt(12), 'integer', 'sqlite')).toBe(12);
    expect(toCanonical('', 'decimal', 'mysql')).toBe('');
    expect(toCanonical('NaN', 'float', 'sqlite')).toBe('NaN');
    expect(toCanonical(BigInt('-9007199254740993'), 'bigIncrements', 'postgres')).toBe('-9007199254740993');
    expect(toCanonical('12.5', 'bigInteger', 'mysql')).toBe('12.5');
    // What better-sqlite3 hands back for 2^53 + 1 without safeIntegers: kept as the exact text of what was read.
    expect(toCanonical(9007199254740992, 'bigInteger', 'sqlite')).toBe('9007199254740992');
  });

  it('leaves text that is not JSON in a JSON column as it is', () => {
    expect(toCanonical('{broken', 'json', 'sqlite')).toBe('{broken');
  });

  it('keeps JSON a MariaDB driver parsed in a column the inspector calls text', () => {
    // MariaDB's JSON is LONGTEXT with a json_valid check: the inspector names it text.
    expect(toCanonical({ a: [1, 'x'], n: null }, 'text', 'mysql')).toEqual({ a: [1, 'x'], n: null });
  });

  it('stores binary values as base64', () => {
    expect(toCanonical(Buffer.from([0, 1, 2, 255]), 'binary', 'postgres')).toEqual({ $base64: 'AAEC/w==' });
    expect(toCanonical(Buffer.alloc(0), 'specificType', 'mysql')).toEqual({ $base64: '' });
  });
});

describe('values bound when a canonical value is written', () => {
  it('binds booleans as 0/1 on SQLite and as booleans elsewhere', () => {
    expect(DIALECTS.map((d) => [fromCanonical(true, 'boolean', d), fromCanonical(false, 'boolean', d)])).toEqual([
      [1, 0],
      [true, false],
      [true, false],
    ]);
  });

  it('binds datetimes as epoch milliseconds on SQLite and as Date objects elsewhere', () => {
    expect(fromCanonical('2024-02-29T23:59:58.123Z', 'datetime', 'sqlite')).toBe(1709251198123);
    for (const dialect of ['postgres', 'mysql'] as const) {
      const bound = fromCanonical('2024-02-29T23:59:58.123Z', 'timestamp', dialect);
      expect(bound).toBeInstanceOf(Date);
      expect((bound as Date).toISOString()).toBe('2024-02-29T23:59:58.123Z');
    }
    expect(fromCanonical('not a date', 'datetime', 'postgres')).toBe('not a date');
  });

  it('binds JSON as its text on every engine, a JSON string included', () => {
    for (const dialect of DIALECTS) {
      expect(fromCanonical({ a: [1, 'x'], n: null }, 'jsonb', dialect)).toBe('{"a":[1,"x"],"n":null}');
      expect(fromCanonical('text', 'json', dialect)).toBe('"text"');
      expect(fromCanonical(42, 'jsonb', dialect)).toBe('42');
      expect(fromCanonical(false, 'jsonb', dialect)).toBe('false');
    }
  });

  it('binds dates, times, numbers and text as they are', () => {
    for (const dialect of DIALECTS) {
      expect(fromCanonical('2024-02-29', 'date', dialect)).toBe('2024-02-29');
      expect(fromCanonical('13:45:30.250', 'time', dialect)).toBe('13:45:30.250');
      expect(fromCanonical(1234.5, 'decimal', dialect)).toBe(1234.5);
      expect(fromCanonical('9007199254740993', 'bigInteger', dialect)).toBe('9007199254740993');
      expect(fromCanonical('héllo', 'text', dialect)).toBe('héllo');
      expect(fromCanonical(null, 'text', dialect)).toBeNull();
      expect(fromCanonical(undefined, 'jsonb', dialect)).toBeNull();
    }
  });

  it('binds an object in a text column as JSON (MariaDB JSON), and base64 as a Buffer', () => {
    expect(fromCanonical({ a: 1 }, 'text', 'mysql')).toBe('{"a":1}');
    expect(fromCanonical([1, 2], 'text', 'mysql')).toBe('[1,2]');
    expect(fromCanonical({ $base64: 'AAEC/w==' }, 'binary', 'postgres')).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('reads back what it binds: canonical → bound → read is the same canonical value', () => {
    // The bound value is what the driver returns for these columns on the same engine.
    for (const dialect of DIALECTS) {
      for (const name of ['boolean true', 'boolean false', 'datetime', 'date', 'time', 'decimal', 'small bigInteger', 'bigInteger above 2^53', 'text']) {
        const { type, canonical } = CASES[name];
        expect([dialect, name, toCanonical(fromCanonical(canonical, type, dialect), type, dialect)]).toEqual([dialect, name, canonical]);
      }
    }
  });
});

describe('the types toCanonical converts (what the SQL-built lines must render alike)', () => {
  it('converts exactly the types CONVERTED_TYPES names, and reads NUMBER_TYPES as numbers', () => {
    const types = [...CONVERTED_TYPES, 'string', 'text', 'uuid', 'enum', 'specificType', 'richtext', 'biginteger'];
    for (const type of types) {
      // Values every converter changes one of: '12' (a number, a JSON text), 1 (a boolean, an
      // instant), a datetime's text (a date) and a short time.
      const converted = ['12', 1, '2024-01-02 03:04:05', '13:45'].some((value) => toCanonical(value, type, 'postgres') !== value);
      expect([type, converted]).toEqual([type, CONVERTED_TYPES.has(type)]);
    }
    for (const type of NUMBER_TYPES) expect([type, toCanonical('12.5', type, 'mysql')]).toEqual([type, 12.5]);
  });
});
