/**
 * SQLite's reading thread (server/src/engine/workers/sqlite-read.ts, bulk/sqlite-reader.ts): a
 * snapshot's lines read by the worker are the very bytes the in-process path writes (toCanonical,
 * JSON.stringify), on values of every storage class a column may hold; a filtered read; a read
 * left half-way; a table whose ids are not in order. knex on a private database file, no Strapi
 * (the whole-app backups of the other suites go through it on SQLite). The worker is the
 * build's (dist/workers): `npm run build` comes first, as in CI.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import knexFactory, { type Knex } from 'knex';

import type { RowFilter } from '../../server/src/engine/manifest';
import { openSnapshot, type SnapshotTable } from '../../server/src/engine/snapshot';

const onSqlite = (process.env.TEST_DB ?? 'sqlite') === 'sqlite' ? describe : describe.skip;

const COLUMNS: Array<[string, string, string]> = [
  // name, SQL type, Strapi inspector type
  ['id', 'integer primary key autoincrement', 'increments'],
  ['s', 'varchar(255)', 'string'],
  ['t', 'text', 'text'],
  ['j', 'json', 'jsonb'],
  ['b', 'boolean', 'boolean'],
  ['i', 'integer', 'integer'],
  ['bi', 'bigint', 'bigInteger'],
  ['f', 'float', 'float'],
  ['d', 'decimal(10,2)', 'decimal'],
  ['day', 'date', 'date'],
  ['tm', 'time', 'time'],
  ['ts', 'datetime', 'datetime'],
  ['bin', 'blob', 'specificType'],
];
const NAMES = COLUMNS.map(([name]) => name);
const TYPES = COLUMNS.map(([, , type]) => type);

const TEXTS = ['plain', 'tab\there', 'line\nbreak', 'back\\slash\\', '"quoted"', '😀 émoji μ', '', 'ctl\x01\x1f', '\u2028\u2029', 'nul\u0000inside', 'x'.repeat(3000)];
const VALUES: Record<string, unknown[]> = {
  j: ['{"n": 1, "list": [1, "two", null, true]}', '"123"', 'null', '1.50', '12345678901234567890', '[]', 'plain words', '{"deep": {"e": 1e400}}'],
  b: [0, 1, 2],
  i: [0, -5000, 2147483647, Number.MAX_SAFE_INTEGER],
  bi: [0, 42, -Number.MAX_SAFE_INTEGER],
  f: [0.1 + 0.2, -1e-300, 1e21, -0, 3, 1 / 3],
  d: [12345678.91, -0.01, 0],
  day: ['2024-02-29', '2024-02-29T10:11:12.000Z', 'not a date', 1700000000123],
  tm: ['00:00', '13:45:30.25', '01:02:03.123456', 'junk'],
  ts: [0, 1700000000123, -1, '2024-01-01 10:00:00', 1700000000123.5],
  bin: [Buffer.from([0, 1, 2, 255]), Buffer.alloc(0)],
};

const row = (i: number) => {
  const pick = <T>(values: T[]) => values[i % values.length];
  const nul = (value: unknown, every: number) => (i % every === 0 ? null : value);
  const of = (column: string, every: number) => nul(pick(VALUES[column]), every);
  return {
    id: i,
    s: nul(pick(TEXTS) + i, 11),
    t: nul(pick(TEXTS).repeat(1 + (i % 3)), 13),
    j: of('j', 7),
    b: of('b', 5),
    i: of('i', 17),
    bi: of('bi', 19),
    f: of('f', 23),
    d: of('d', 31),
    day: of('day', 37),
    tm: of('tm', 41),
    ts: of('ts', 43),
    bin: of('bin', 3),
  };
};

/** Enough rows for several chunks of a megabyte. */
const ROWS = 6000;

onSqlite('SQLite snapshot lines read by a worker thread', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-sqlite-reader-'));
  let knex: Knex;

  /** Through better-sqlite3 itself: each value keeps the storage class it is given. */
  const insert = (table: string, rows: Array<Record<string, unknown>>) =>
    knex.transaction(async (trx) => {
      const connection = (await trx.client.acquireConnection()) as { prepare(sql: string): { run(...values: unknown[]): unknown } };
      const columns = Object.keys(rows[0]);
      const statement = connection.prepare(`INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      for (const values of rows) statement.run(...columns.map((c) => values[c]));
    });

  beforeAll(async () => {
    knex = knexFactory({ client: 'better-sqlite3', connection: { filename: path.join(folder, 'data.db') }, useNullAsDefault: true });
    await knex.raw(`CREATE TABLE kinds (${COLUMNS.map(([name, type]) => `"${name}" ${type}`).join(', ')})`);
    await insert('kinds', Array.from({ length: ROWS }, (_, k) => row(k + 1)));
    await knex.raw('CREATE TABLE links (kind_id integer NOT NULL, label text)');
    await insert('links', Array.from({ length: 700 }, (_, k) => ({ kind_id: 1 + (k % 70), label: k % 5 ? TEXTS[k % TEXTS.length] : null })));
    // Ids that are not integers: the archive's id order could not hold.
    await knex.raw('CREATE TABLE loose (id text primary key, label text)');
    await knex.raw("INSERT INTO loose VALUES ('b', 'x'), ('a', 'y')");
  });

  afterAll(async () => {
    await knex?.destroy();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  const table = (name: string, columns: string[], filter: RowFilter | null = null): SnapshotTable => ({ name, columns, filter });

  const collect = async (chunks: AsyncIterable<Buffer>) => {
    const parts: Buffer[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    return Buffer.concat(parts).toString('utf8');
  };
  const inProcess = async (snapshot: Awaited<ReturnType<typeof openSnapshot>>, subject: SnapshotTable, types: string[]) => {
    let text = '';
    for await (const batch of snapshot.rows(subject, types)) for (const values of batch) text += `${JSON.stringify(values)}\n`;
    return text;
  };

  it('gives the bytes the in-process path writes, table after table, on one thread', async () => {
    const snapshot = await openSnapshot(knex, 'sqlite');
    try {
      const subjects: Array<[SnapshotTable, string[]]> = [
        [table('kinds', NAMES), TYPES],
        [table('links', ['kind_id', 'label']), ['integer', 'text']],
        [table('kinds', ['id', 's'], [[{ column: 'i', equals: 2147483647 }], [{ column: 'id', in: { table: 'links', column: 'kind_id', where: [[{ column: 'label', equals: 'plain' }]] } }]]), ['increments', 'string']],
      ];
      for (const [subject, types] of subjects) {
        const chunks = await snapshot.lines(subject, types);
        expect(chunks).not.toBeNull();
        const text = await collect(chunks!);
        expect(text).toBe(await inProcess(snapshot, subject, types));
      }
      const all = await collect((await snapshot.lines(table('kinds', NAMES), TYPES))!);
      expect(all.split('\n')).toHaveLength(ROWS + 1);
      expect(all).toContain('{"$base64":"AAEC/w=="}');
    } finally {
      await snapshot.close();
    }
  });

  it('reads on after a table left half-way, and fails a table whose ids are not integers in order', async () => {
    const snapshot = await openSnapshot(knex, 'sqlite');
    try {
      const first = (await snapshot.lines(table('kinds', NAMES), TYPES))!;
      const { value } = await first.next();
      expect(Buffer.isBuffer(value)).toBe(true);
      await first.return(undefined);
      const again = await collect((await snapshot.lines(table('links', ['kind_id', 'label']), ['integer', 'text']))!);
      expect(again).toBe(await inProcess(snapshot, table('links', ['kind_id', 'label']), ['integer', 'text']));
      await expect(collect((await snapshot.lines(table('loose', ['id', 'label']), ['increments', 'text']))!)).rejects.toThrow(
        /loose did not read back as counted: an id that is not an integer/
      );
      // And the thread is still there for the next table.
      expect(await collect((await snapshot.lines(table('links', ['kind_id']), ['integer']))!)).toHaveLength(
        (await inProcess(snapshot, table('links', ['kind_id']), ['integer'])).length
      );
    } finally {
      await snapshot.close();
    }
  });
});
