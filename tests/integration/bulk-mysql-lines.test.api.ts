/**
 * MariaDB's JSON lines (server/src/engine/bulk/mysql-json-read.ts): the backup's rows built by
 * the server against the current path (the streamed SELECT, mysql2's parsers with Strapi's
 * typeCast, toCanonical), on values chosen to trip either, through knex set up as Strapi sets it
 * up (no Strapi boot). Runs with TEST_DB=mysql only (and returns null on MySQL).
 */
import knexFactory, { type Knex } from 'knex';

import type { RowFilter } from '../../server/src/engine/manifest';
import { openSnapshot, type SnapshotTable } from '../../server/src/engine/snapshot';
import { describeOn } from '../helpers/app';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createDatabase } = require('../helpers/databases');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MysqlDialect = require('@strapi/database/dist/dialects/mysql/index.js');

const run = describeOn('mysql');

const COLUMNS: Array<[string, string, string]> = [
  // name, SQL type, Strapi inspector type
  ['id', 'int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY', 'increments'],
  ['s', 'varchar(255)', 'string'],
  ['t', 'longtext', 'text'],
  ['j', 'json', 'text'],
  ['jj', 'json', 'json'],
  ['jt', 'longtext', 'json'],
  ['b', 'tinyint(1)', 'boolean'],
  ['b4', 'tinyint', 'boolean'],
  ['i', 'int', 'integer'],
  ['si', 'smallint', 'specificType'],
  ['bi', 'bigint', 'bigInteger'],
  ['f', 'double', 'double'],
  ['ord', 'double unsigned', 'double'],
  ['fl', 'float', 'specificType'],
  ['d', 'decimal(10,2)', 'decimal'],
  ['d65', 'decimal(65,30)', 'decimal'],
  ['day', 'date', 'date'],
  ['tm', 'time(3)', 'time'],
  ['tm6', 'time(6)', 'time'],
  ['tm0', 'time', 'time'],
  ['dt', 'datetime(6)', 'datetime'],
  ['dt0', 'datetime', 'datetime'],
  ['ts', 'timestamp(3) NULL', 'timestamp'],
  ['bin', 'blob', 'specificType'],
  ['vb', 'varbinary(40)', 'specificType'],
  ['l1', 'varchar(60) CHARACTER SET latin1', 'string'],
  ['bn', 'varchar(60) COLLATE utf8mb4_bin', 'string'],
  ['en', "enum('draft','published','a''b')", 'string'],
];
const NAMES = COLUMNS.map(([name]) => name);
const TYPES = COLUMNS.map(([, , type]) => type);

/** Texts that trip a JSON or SQL escaper. */
const TEXTS = [
  'plain', 'tab\there', 'line\nbreak', 'cr\r\nlf', 'back\\slash\\', '\\N', "it's", '"quoted"', 'NUL \0 inside', 'ctl\x01\x1f\x7f',
  '😀 émoji μ 中文', '', ' \t ', '{"x":"\\n"}', 'a\\tb', '\u2028\u2029', 'lone \ud800 surrogate', '!bang', '[1, 2]', 'x'.repeat(70000),
];
/** JSON texts MariaDB's json_valid takes (a JSON column's check) and JavaScript reads alike. */
const JSON_TEXTS = [
  '{"a": 1, "list": [1, "two", null, true, false]}',
  '{"n": 12345678901234567890, "m": -9007199254740993, "f": 1.5e299, "tiny": 1e-299, "z": 0.0, "neg": -0.5, "e": 1E+2}',
  '{"e": "\\u00e9\\ud83d\\ude00\\u0000\\t\\"\\\\/", "raw": "é😀", "nested": {"deep": {"deeper": [[[{"x": [1]}]]]}}}',
  '  [1, 2, 3]  ',
  '"a string"',
  '"123"',
  '"{\\"inner\\": 1}"',
  '123',
  '-1.25E+3',
  'true',
  'null',
  '[]',
  '{}',
  '{"a": 1, "a": 2}',
  '{"__proto__": {"x": 1}}',
  '{"path": "C:\\\\x\\\\y", "text": "v1.x -a e123"}',
  `{"long": "${'y'.repeat(5000)}"}`,
];
/** Texts in a LONGTEXT column Strapi calls json: toCanonical parses them, or keeps the text. */
const LOOSE_JSON = [...JSON_TEXTS, 'not json', '', 'True', 'nul', '  ', 'hello\nworld', 'tru', '+1', 'x"', '\u00a0[1]'];
const DOUBLES = [
  0.1 + 0.2, 1 / 3, 2 / 3, 1e-300, 5e-324, 1.7976931348623157e308, -1.7976931348623157e308, 98765432109876.53, 9.016801686955297,
  919907182098126.9, -9596.509049581015, 1e21, 1e15, 123456789012345680000, 0, -0, 1, 2.5, -3, 0.000001, 1e-7, 31415926535.89793,
];
const BIGINTS = ['9007199254740991', '-9007199254740991', '9007199254740992', '9007199254740993', '9223372036854775807', '-9223372036854775808', '0', '42'];
const DATETIMES = [
  '2024-07-02 23:59:59.999999', '2024-02-29 12:00:00.5', '1970-01-01 00:00:00', '1969-12-31 23:59:59.999', '0100-01-01 00:00:00.001',
  '0999-12-31 23:59:59.1234', '1000-01-01 00:00:00', '9999-12-31 23:59:59.999999', '2024-03-31 02:30:00.570001', '1900-01-01 00:00:00.001',
];
const TIMES = ['00:00:00', '13:45:30.25', '23:59:59.999', '-01:02:03.5', '838:59:59', '-838:59:59', '99:00:00.1', '100:00:00', '12:00:00.000001'];
const DAYS = ['2024-02-29', '1000-01-01', '9999-12-31', '1970-01-01', '0000-00-00', '0001-01-01'];

const ROWS = 2000;

const row = (i: number) => {
  const pick = <T>(values: T[], k = i) => values[k % values.length];
  const nul = <T>(value: T, every: number) => (i % every === 0 ? null : value);
  return {
    id: i,
    s: nul(pick(TEXTS).slice(0, 200) + i, 11),
    t: nul(pick(TEXTS, i * 7).repeat(1 + (i % 3)), 13),
    j: nul(pick(JSON_TEXTS), 7),
    jj: nul(pick(JSON_TEXTS.filter((text) => !text.startsWith('"')), i * 3), 9),
    jt: nul(pick(LOOSE_JSON, i * 5), 8),
    b: nul(i % 2 === 0, 5),
    b4: nul(i % 4, 6),
    i: nul(i * 37 - 5000, 17),
    si: nul((i % 600) - 300, 10),
    bi: nul(pick(BIGINTS), 19),
    f: nul(pick(DOUBLES), 23),
    ord: nul(i % 3 === 0 ? i / 7 : i % 5, 4),
    fl: nul(i % 2 ? 0.1 * i : 16777217 * i, 12),
    d: nul(((i * 1234.56) % 99999.99).toFixed(2), 14),
    d65: nul(i % 3 ? `${i}.123456789012345678901234567890` : '-0.000000000000000000000000000001', 15),
    day: nul(pick(DAYS), 16),
    tm: nul(pick(TIMES), 18),
    tm6: nul(pick(TIMES, i * 5), 20),
    tm0: nul(pick(['00:00:00', '13:45:30', '-01:02:03', '838:59:59', '100:00:00'], i + 3), 21),
    dt: nul(pick(DATETIMES), 22),
    dt0: nul(pick(DATETIMES, i * 3).slice(0, 19), 24),
    ts: nul(`2024-0${(i % 9) + 1}-1${i % 10} 0${i % 10}:3${i % 10}:00.${String(i % 1000).padStart(3, '0')}`, 25),
    bin: nul(i % 10 === 3 ? Buffer.alloc(0) : Buffer.from(Array.from({ length: 1 + ((i * 13) % 300) }, (_, k) => (i + k * 7) % 256)), 26),
    vb: nul(Buffer.from([0, 10, 13, 92, 39, 34, i % 256]), 27),
    l1: nul(`é à ü ${pick(['plain', "it's", 'back\\slash', 'tab\t'])} ${i}`, 28),
    bn: nul(pick(TEXTS, i * 11).slice(0, 60), 29),
    en: nul(pick(['draft', 'published', "a'b"]), 30),
  };
};

run('MariaDB JSON lines (SELECT CONCAT … per row)', () => {
  let database: { name: string; env: Record<string, string>; drop(): Promise<void> };
  let knex: Knex;

  beforeAll(async () => {
    database = await createDatabase('mysql');
    const { env } = database;
    const connection: Record<string, unknown> = {
      host: env.DATABASE_HOST,
      port: Number(env.DATABASE_PORT),
      user: env.DATABASE_USERNAME,
      password: env.DATABASE_PASSWORD,
      database: env.DATABASE_NAME,
    };
    // Strapi's own settings of the mysql2 connection (typeCast, big numbers).
    MysqlDialect.prototype.configure.call({ db: { config: { connection: { connection } } } }, connection);
    knex = knexFactory({ client: 'mysql2', connection, pool: { min: 0, max: 3 } });

    await knex.raw(`CREATE TABLE kinds (${COLUMNS.map(([name, type]) => `\`${name}\` ${type}`).join(', ')}) DEFAULT CHARSET utf8mb4`);
    for (let i = 1; i <= ROWS; i += 250) {
      await knex('kinds').insert(Array.from({ length: Math.min(250, ROWS - i + 1) }, (_, k) => row(i + k)));
    }
    // A TINYINT(1) holding neither 0 nor 1 (Strapi reads it false).
    await knex.raw('UPDATE kinds SET b = 2 WHERE id = 3');
    await knex.raw('CREATE TABLE links (kind_id int NOT NULL, label varchar(255), `rank` double)');
    await knex('links').insert(
      Array.from({ length: 700 }, (_, k) => ({ kind_id: 1 + (k % 70), label: k % 5 ? TEXTS[k % TEXTS.length].slice(0, 200) : null, rank: k % 4 ? k / 7 : null }))
    );
    await knex.raw('CREATE TABLE bits (id int PRIMARY KEY, flags bit(8))');
    await knex.raw("INSERT INTO bits VALUES (1, b'101')");
    await knex.raw('CREATE TABLE loose (id int, label varchar(20))');
    await knex.raw("INSERT INTO loose VALUES (2, 'b'), (1, 'a')");
    // Values only the current path reads as it does, amid values the server renders.
    await knex.raw('CREATE TABLE odd (id int PRIMARY KEY, at datetime(3), doc longtext)');
    await knex('odd').insert(
      Array.from({ length: 300 }, (_, k) => ({ id: k + 1, at: `2024-01-01 00:00:${String(k % 60).padStart(2, '0')}.5`, doc: `{"k": ${k}}` }))
    );
    await knex.raw('CREATE TABLE odd_doc (id int PRIMARY KEY, doc longtext)');
    await knex('odd_doc').insert(Array.from({ length: 50 }, (_, k) => ({ id: k + 1, doc: `{"k": ${k}}` })));
    await knex.raw('CREATE TABLE odd_links (a int, doc longtext)');
    await knex('odd_links').insert(Array.from({ length: 50 }, (_, k) => ({ a: k, doc: `{"k": ${k}}` })));
    await knex.raw('CREATE TABLE zero (id int PRIMARY KEY, at datetime)');
  });

  afterAll(async () => {
    await knex?.destroy();
    await database?.drop();
  });

  const table = (name: string, columns: string[], filter: RowFilter | null = null): SnapshotTable => ({ name, columns, filter });

  /** Both paths in one snapshot: the server's lines, and the archive values of the current path. */
  const bothPaths = async (subject: SnapshotTable, types: string[]) => {
    const snapshot = await openSnapshot(knex, 'mysql');
    try {
      const chunks = await snapshot.lines(subject, types);
      if (!chunks) return null;
      const parts: Buffer[] = [];
      for await (const chunk of chunks) {
        expect(chunk[chunk.length - 1]).toBe(10);
        parts.push(chunk);
      }
      const text = Buffer.concat(parts).toString('utf8');
      const current: unknown[][] = [];
      for await (const batch of snapshot.rows(subject, types)) current.push(...batch);
      // The connection is free again: the snapshot goes on.
      expect(await snapshot.count(subject)).toBe(current.length);
      return { text, lines: text ? text.slice(0, -1).split('\n') : [], current: JSON.parse(JSON.stringify(current)) as unknown[][] };
    } finally {
      await snapshot.close();
    }
  };

  /** Value by value, naming the first that differs (a row of 28 columns is hard to read whole). */
  const expectSame = (lines: string[], current: unknown[][], names: string[]) => {
    expect(lines).toHaveLength(current.length);
    lines.forEach((line, r) => {
      const values = JSON.parse(line) as unknown[];
      expect(values).toHaveLength(names.length);
      values.forEach((value, c) => {
        if (!Object.is(JSON.stringify(value), JSON.stringify(current[r][c]))) {
          expect({ row: r, column: names[c], value }).toEqual({ row: r, column: names[c], value: current[r][c] });
        }
      });
    });
    expect(lines.map((line) => JSON.parse(line))).toEqual(current);
  };

  it("writes each row as a line whose values are the current path's, for every column type", async () => {
    const read = (await bothPaths(table('kinds', NAMES), TYPES))!;
    expect(read).not.toBeNull();
    expect(read.text.endsWith('\n')).toBe(true);
    expectSame(read.lines, read.current, NAMES);
    expect(read.lines).toHaveLength(ROWS);
    // Every row rendered by the server (its JSON column text as stored, spaces and all): none
    // went the current way.
    expect(read.lines.filter((line) => line.includes('{"a": 1, "list": [1, "two"')).length).toBeGreaterThan(ROWS / 20);
    expect(read.lines.every((line) => !line.startsWith('!'))).toBe(true);
    // Values the current path reads in its own way, read the same.
    const at = (id: number, column: string) => (JSON.parse(read.lines[id - 1]) as unknown[])[NAMES.indexOf(column)];
    expect(at(3, 'b')).toBe(false);
    expect(read.lines.some((line) => (JSON.parse(line) as unknown[])[NAMES.indexOf('f')] === 98765432109876.52)).toBe(true);
    expect(read.lines.some((line) => (JSON.parse(line) as unknown[])[NAMES.indexOf('dt')] === '0999-12-31T23:59:59.123Z')).toBe(true);
  });

  it('writes a table without id, ordered by all its columns, as the current path', async () => {
    const read = (await bothPaths(table('links', ['kind_id', 'label', 'rank']), ['integer', 'text', 'double']))!;
    expect(read).not.toBeNull();
    expect(read.lines).toHaveLength(700);
    expectSame(read.lines, read.current, ['kind_id', 'label', 'rank']);
  });

  it('writes the rows of a filtered read (a selective backup) as the current path, the bindings written in', async () => {
    const filter: RowFilter = [
      [{ column: 's', equals: "it's7" }],
      [{ column: 'i', equals: 37 * 20 - 5000 }],
      [{ column: 'id', in: { table: 'links', column: 'kind_id', where: [[{ column: 'label', equals: 'back\\slash\\' }]] } }],
      [{ column: 't', equals: "a\\tb'; DROP TABLE kinds; --?" }],
      [{ column: 's', equals: 'what? ?? `x`' }],
    ];
    const read = (await bothPaths(table('kinds', NAMES, filter), TYPES))!;
    expect(read).not.toBeNull();
    expect(read.lines.length).toBeGreaterThanOrEqual(3);
    expectSame(read.lines, read.current, NAMES);
  });

  it('goes the current way from a row the server cannot vouch for on, the lines before it standing', async () => {
    // A year before 100 (mysql2 parses it as a string), a JSON text MariaDB takes and JavaScript
    // reads otherwise (a lone surrogate: MariaDB refuses it), a number JSON.stringify writes null.
    await knex.raw("UPDATE odd SET at = '0050-06-01 12:00:00.25' WHERE id = 120");
    await knex.raw('UPDATE odd SET doc = ? WHERE id = 200', ['["\\ud800", 1e400]']);
    const read = (await bothPaths(table('odd', ['id', 'at', 'doc']), ['increments', 'datetime', 'json']))!;
    expect(read).not.toBeNull();
    expectSame(read.lines, read.current, ['id', 'at', 'doc']);
    // The server's text before that row ({"k": 1}), JSON.stringify's from it on ({"k":1}).
    expect(read.lines.slice(0, 119).every((line) => line.includes('{"k": '))).toBe(true);
    expect(read.lines.slice(119).every((line) => !line.includes('{"k": '))).toBe(true);
    expect(read.lines.slice(119).filter((line) => line.includes('{"k":'))).toHaveLength(180);

    // Some JavaScript reads as MariaDB does, but the checks cannot tell: sent the current way too.
    for (const doc of ['  [1,\t2,\n 3]\r\n', '{"text": "v1.x, -a, [1. ]"}', '[2e--3]', '{"a": "b\\c"}', '{"a":', '[1,]', "{'a': 1}", '[1.]', '{"a": "\\x"}', '[-0]', '{"big": 1e400}', '[1, 2, 1.0e-400]', `${'['.repeat(40)}${']'.repeat(40)}`, '"\\ud83d"']) {
      await knex.raw('UPDATE odd_doc SET doc = ? WHERE id = 25', [doc]);
      const odd = (await bothPaths(table('odd_doc', ['id', 'doc']), ['increments', 'json']))!;
      expectSame(odd.lines, odd.current, ['id', 'doc']);
      expect(odd.lines.slice(0, 24).every((line) => line.includes('{"k": '))).toBe(true);
    }
  });

  it('leaves a table without id to the current path when one of its rows cannot be rendered', async () => {
    const subject = table('odd_links', ['a', 'doc']);
    expect(await bothPaths(subject, ['integer', 'json'])).not.toBeNull();
    await knex.raw('UPDATE odd_links SET doc = ? WHERE a = 30', ['[1.]']);
    expect(await bothPaths(subject, ['integer', 'json'])).toBeNull();
  });

  it('fails where the current path fails (a zero date), never writing another value', async () => {
    await knex.raw("INSERT INTO zero VALUES (1, '2024-01-01 00:00:00'), (2, '0000-00-00 00:00:00')");
    const snapshot = await openSnapshot(knex, 'mysql');
    try {
      const subject = table('zero', ['id', 'at']);
      const read = async (chunks: AsyncIterable<unknown>) => {
        for await (const _ of chunks) void _;
      };
      await expect(read(snapshot.rows(subject, ['increments', 'datetime']))).rejects.toThrow(RangeError);
      const lines = await snapshot.lines(subject, ['increments', 'datetime']);
      expect(lines).not.toBeNull();
      await expect(read(lines!)).rejects.toThrow(RangeError);
      expect(await snapshot.count(subject)).toBe(2);
    } finally {
      await snapshot.close();
    }
  });

  it('leaves a table to the current path where a column has no expression or the id is not the key', async () => {
    expect(await bothPaths(table('bits', ['id', 'flags']), ['integer', 'specificType'])).toBeNull();
    expect(await bothPaths(table('loose', ['id', 'label']), ['integer', 'string'])).toBeNull();
    // A column type toCanonical converts from a wire type it is not written for.
    expect(await bothPaths(table('kinds', ['id', 'day']), ['increments', 'datetime'])).toBeNull();
    expect(await bothPaths(table('kinds', ['id', 's']), ['increments', 'integer'])).toBeNull();
  });

  it('stops early and leaves the snapshot connection usable', async () => {
    const snapshot = await openSnapshot(knex, 'mysql');
    try {
      const lines = (await snapshot.lines(table('kinds', NAMES), TYPES))!;
      for await (const chunk of lines) {
        expect(chunk.length).toBeGreaterThan(0);
        break;
      }
      expect(await snapshot.count(table('links', ['kind_id']))).toBe(700);
    } finally {
      await snapshot.close();
    }
  });
});
