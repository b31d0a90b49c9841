/**
 * PostgreSQL's JSON lines (server/src/engine/bulk/postgres-json-read.ts): the backup's rows built
 * by the server against the current path (COPY text, node-postgres's parsers, toCanonical), on
 * values chosen to trip either; then a whole backup of the example app through it, restored
 * into PostgreSQL and into SQLite, and drilled. Runs with TEST_DB=postgres only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import knexFactory, { type Knex } from 'knex';

import { openArchive } from '../../server/src/engine/archive';
import type { RowFilter } from '../../server/src/engine/manifest';
import { openSnapshot, type SnapshotTable } from '../../server/src/engine/snapshot';
import { loginAsSuperAdmin } from '../helpers/agent';
import { describeOn, startApp } from '../helpers/app';
import { dumpDatabase, hashUploads } from '../helpers/dump';
import { runJob, waitForJob } from '../helpers/jobs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createDatabase } = require('../helpers/databases') as {
  createDatabase: (client: string) => Promise<{ name: string; env: Record<string, string>; drop: () => Promise<void> }>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

const onPostgres = describeOn('postgres');

const COLUMNS: Array<[string, string, string]> = [
  // name, SQL type, Strapi inspector type
  ['id', 'serial primary key', 'integer'],
  ['s', 'varchar(255)', 'string'],
  ['t', 'text', 'text'],
  ['j', 'jsonb', 'jsonb'],
  ['js', 'json', 'specificType'],
  ['b', 'boolean', 'boolean'],
  ['i', 'integer', 'integer'],
  ['bi', 'bigint', 'bigInteger'],
  ['f', 'double precision', 'double'],
  ['r', 'real', 'double'],
  ['d', 'numeric(10,2)', 'decimal'],
  ['n', 'numeric', 'decimal'],
  ['day', 'date', 'date'],
  ['tm', 'time(3)', 'time'],
  ['tm6', 'time(6)', 'time'],
  ['ts', 'timestamp(6)', 'datetime'],
  ['tstz', 'timestamptz', 'datetime'],
  ['bin', 'bytea', 'specificType'],
  ['u', 'uuid', 'specificType'],
];
const NAMES = COLUMNS.map(([name]) => name);
const TYPES = COLUMNS.map(([, , type]) => type);

/** Texts that trip a text format, CSV with \x01 and \x02, and JSON. */
const TEXTS = [
  'plain', 'tab\there', 'line\nbreak', 'cr\r\nlf', 'back\\slash\\', '\\N', '\\.', "it's", '😀 émoji μ', '', ' \t ', '{"x":"\\n"}', 'a\\tb',
  '\x01quote\x01', 'del\x02im', 'ctl\x03\x1f\x7f', '\u2028\u2029', '"quoted"', 'comma, colon: ', '[1, 2]',
];
const VALUES: Record<string, unknown[]> = {
  j: ['{"n": 1, "list": [1, "two", null, true]}', '"123"', 'null', '1.50', '12345678901234567890', '{"b": 1, "a": [1.0, "x\\u0001"]}', '[]', '"\\u2028"', 'true', '{"deep": {"e": 1e400}}'],
  js: ['{\n  "a" : 1,\r\n "a": 2 }', '"123"', 'null', '  [1,\t2]  ', '{"b": 1, "a": 1.50}', '"x\\u0002"'],
  bi: ['9007199254740991', '-9007199254740991', '9007199254740992', '9223372036854775807', '-9223372036854775808', '0', '42'],
  f: [0.1 + 0.2, -1e-300, 12345.6789, 1e21, 1e15, 1e-5, 5e-324, 1.7976931348623157e308, 'NaN', 'Infinity', '-Infinity', '-0', 3, 1.5],
  r: [1.5, 3.4028235e38, -0.25, 'NaN', '-0', 1e-7],
  d: ['12345678.91', '-0.01', '0.00', '42.50'],
  n: ['NaN', '12.50', '123456789012345678901234567890.123', '0.000000000000000000001', '-0.5', 'Infinity', '-Infinity', '1e300', '0'],
  day: ['2024-02-29', '0050-01-01', '9999-12-31', 'infinity', '0044-03-15 BC', '1970-01-01'],
  tm: ['00:00:00', '13:45:30.25', '23:59:59.999', '24:00:00'],
  tm6: ['01:02:03.123456', '01:02:03.1', '00:00:00', '12:00:00.000001'],
  ts: ['2024-07-02 23:59:59.999999', '0050-03-04 00:00:00', '1969-12-31 23:59:59.5', '9999-12-31 23:59:59.999', '2024-03-10 02:30:00.570001', '1900-01-01 00:00:00.001',
    '10000-01-01 00:00:00', '0044-03-15 12:00:00.25 BC', '0001-12-31 23:59:59.999 BC', '275760-09-13 00:00:00', '4713-01-01 00:00:00 BC'],
  tstz: ['2024-07-02 23:59:59.999999+02', '1999-12-31 23:59:59.1-05', '1969-12-31 23:59:59.5+00', '0100-01-01 00:00:00+00', '12345-06-07 08:09:10.11+00', '0100-01-01 00:00:00+00 BC'],
};

/** Deterministic rows: the i-th value of each column, with NULLs in every column now and then. */
const row = (i: number) => {
  const pick = <T>(values: T[]) => values[i % values.length];
  const nul = (value: unknown, every: number) => (i % every === 0 ? null : value);
  const of = (column: string, every: number) => nul(pick(VALUES[column]), every);
  return {
    id: i,
    s: nul(pick(TEXTS) + i, 11),
    t: nul(pick(TEXTS).repeat(1 + (i % 3)), 13),
    j: of('j', 7),
    js: of('js', 9),
    b: nul(i % 2 === 0, 5),
    i: nul(i * 37 - 5000, 17),
    bi: of('bi', 19),
    f: of('f', 23),
    r: of('r', 29),
    d: of('d', 31),
    n: of('n', 12),
    day: of('day', 37),
    tm: of('tm', 41),
    tm6: of('tm6', 8),
    ts: of('ts', 43),
    tstz: of('tstz', 47),
    bin: nul(i % 10 === 3 ? Buffer.alloc(0) : Buffer.from(Array.from({ length: 1 + ((i * 13) % 120) }, (_, k) => (i + k * 7) % 256)), 53),
    u: nul(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, 59),
  };
};

const ROWS = 3000;

onPostgres('PostgreSQL JSON lines (COPY … json rows)', () => {
  let database: { name: string; env: Record<string, string>; drop(): Promise<void> };
  let knex: Knex;

  beforeAll(async () => {
    database = await createDatabase('postgres');
    knex = knexFactory({
      client: 'pg',
      connection: {
        host: database.env.DATABASE_HOST,
        port: Number(database.env.DATABASE_PORT),
        user: database.env.DATABASE_USERNAME,
        password: database.env.DATABASE_PASSWORD,
        database: database.env.DATABASE_NAME,
      },
      pool: { min: 0, max: 3 },
    });
    // As Strapi's PostgreSQL dialect does when it starts.
    const types = knex.client.driver.types;
    types.setTypeParser(types.builtins.DATE, 'text', (v: string) => v);
    types.setTypeParser(types.builtins.JSONB, 'text', (v: string) => v);
    types.setTypeParser(types.builtins.NUMERIC, 'text', parseFloat);

    await knex.raw(`CREATE TABLE kinds (${COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ')})`);
    for (let i = 1; i <= ROWS; i += 500) {
      await knex('kinds').insert(Array.from({ length: Math.min(500, ROWS - i + 1) }, (_, k) => row(i + k)));
    }
    await knex.raw('CREATE TABLE links (kind_id integer NOT NULL, label text, rank double precision)');
    await knex('links').insert(Array.from({ length: 700 }, (_, k) => ({ kind_id: 1 + (k % 70), label: k % 5 ? TEXTS[k % TEXTS.length] : null, rank: k % 4 ? k / 7 : null })));
    await knex.raw('CREATE TABLE spans (id serial primary key, span interval)');
    await knex.raw("INSERT INTO spans (span) VALUES ('1 day')");
    await knex.raw('CREATE TABLE loose (id integer, label text)');
    await knex.raw("INSERT INTO loose VALUES (2, 'b'), (1, 'a')");
    await knex.raw('CREATE TABLE endless (id serial primary key, at timestamp)');
    await knex.raw("INSERT INTO endless (at) VALUES ('2024-01-01'), ('infinity'), ('275760-09-13 00:00:00.001')");
  });

  afterAll(async () => {
    await knex?.destroy();
    await database?.drop();
  });

  const table = (name: string, columns: string[]): SnapshotTable => ({ name, columns, filter: null });

  /** Both paths in one snapshot: the server's lines, and the archive values of the current path. */
  const bothPaths = async (subject: SnapshotTable, types: string[]) => {
    const snapshot = await openSnapshot(knex, 'postgres');
    try {
      const chunks = await snapshot.lines(subject, types);
      if (!chunks) return null;
      const parts: Buffer[] = [];
      for await (const chunk of chunks) parts.push(chunk);
      const text = Buffer.concat(parts).toString('utf8');
      const current: string[] = [];
      for await (const batch of snapshot.rows(subject, types)) current.push(...batch.map((values) => JSON.stringify(values)));
      return { text, lines: text ? text.slice(0, -1).split('\n') : [], current };
    } finally {
      await snapshot.close();
    }
  };

  it('writes each row as a line whose values are the current path\'s, for every column type', async () => {
    const read = (await bothPaths(table('kinds', NAMES), TYPES))!;
    expect(read).not.toBeNull();
    expect(read.text.endsWith('\n')).toBe(true);
    expect(read.lines).toHaveLength(ROWS);
    // Serialised again, the very bytes of the current path (what the drill compares, and what a
    // restore binds: it serialises JSON values again).
    expect(read.lines.map((line) => JSON.stringify(JSON.parse(line)))).toEqual(read.current);
    // Parsed, the same values; but for a number beyond a double inside a jsonb (1e400), which
    // parses to Infinity from the server's text and to null from JSON.stringify's.
    const beyond = (line: string) => line.includes('1e400') || /"e": 1000000000/.test(line);
    expect(read.lines.filter((line) => !beyond(line)).map((line) => JSON.parse(line))).toEqual(
      read.current.filter((_, i) => !beyond(read.lines[i])).map((line) => JSON.parse(line))
    );
    // The server's own text indeed (jsonb's ", "), and numbers as the archive keeps them.
    expect(read.lines.some((line) => line.includes('"list": [1, "two"'))).toBe(true);
    expect(read.lines.some((line) => line.includes('-0') && /(^|[,[])-0([,\]])/.test(line))).toBe(false);
  });

  it('writes a table without id, ordered by all its columns, as the current path', async () => {
    const read = (await bothPaths(table('links', ['kind_id', 'label', 'rank']), ['integer', 'text', 'double']))!;
    expect(read.lines).toHaveLength(700);
    expect(read.lines.map((line) => JSON.parse(line))).toEqual(read.current.map((line) => JSON.parse(line)));
  });

  it('writes the rows of a filtered read (a selective backup) as the current path, the bindings written in', async () => {
    const filter: RowFilter = [
      [{ column: 's', equals: "it's7" }],
      [{ column: 'i', equals: 37 * 20 - 5000 }],
      [{ column: 'id', in: { table: 'links', column: 'kind_id', where: [[{ column: 'label', equals: 'back\\slash\\' }]] } }],
      [{ column: 't', equals: "a\\tb'; DROP TABLE kinds; --?" }],
    ];
    const read = (await bothPaths({ name: 'kinds', columns: NAMES, filter }, TYPES))!;
    expect(read.lines.length).toBeGreaterThanOrEqual(3);
    expect(read.lines.map((line) => JSON.stringify(JSON.parse(line)))).toEqual(read.current);
  });

  it('leaves to the current path a table with a type it does not render, or whose id is not its primary key', async () => {
    expect(await bothPaths(table('spans', ['id', 'span']), ['integer', 'specificType'])).toBeNull();
    expect(await bothPaths(table('loose', ['id', 'label']), ['integer', 'text'])).toBeNull();
    // A type the inspector names differently from what the expression serves.
    expect(await bothPaths(table('kinds', ['id', 'j']), ['integer', 'text'])).not.toBeNull();
    expect(await bothPaths(table('kinds', ['id', 'bi']), ['integer', 'integer'])).toBeNull();
  });

  it('refuses a value it cannot render exactly with an error, as the current path does', async () => {
    const snapshot = await openSnapshot(knex, 'postgres');
    try {
      const chunks = (await snapshot.lines(table('endless', ['id', 'at']), ['integer', 'datetime']))!;
      await expect(
        (async () => {
          for await (const _chunk of chunks) {
            // read to the end
          }
        })()
      ).rejects.toThrow(/cannot be read exactly as JSON/);
    } finally {
      await snapshot.close();
    }
    const current = await openSnapshot(knex, 'postgres');
    try {
      await expect(
        (async () => {
          for await (const _batch of current.rows(table('endless', ['id', 'at']), ['integer', 'datetime'])) {
            // read to the end
          }
        })()
      ).rejects.toThrow(RangeError);
    } finally {
      await current.close();
    }
  });
});

onPostgres('a PostgreSQL backup through the JSON lines', () => {
  const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-pgjson-'));
  const KEY = 'json lines passphrase';
  afterAll(() => fs.rmSync(storageDir, { recursive: true, force: true }));

  it('restores exactly into PostgreSQL and into SQLite, and its drill passes', async () => {
    const source = await startApp({ client: 'postgres', storageDir, env: { PACTA_BACKUP_KEY: KEY } });
    let expected: Awaited<ReturnType<typeof dumpDatabase>>;
    let uploads: Record<string, string>;
    let backupId: string;
    try {
      await seed(source.strapi, { documents: 25, media: 5, seed: 31 });
      const contracts = source.strapi.documents('api::contract.contract');
      const picked = await contracts.findMany({ locale: 'en', limit: 4, sort: 'id:asc' } as never);
      const metadata = [{ a: 1.5, s: 'x\u0001\u0002y, z: "q"' }, '123', 12345.678, [1, 'two', null, { deep: true }]];
      for (const [index, value] of metadata.entries()) {
        await contracts.update({ documentId: picked[index].documentId, locale: 'en', data: { metadata: value, title: `t\u0001\u0002 ${index}, "x": 1` } as never });
      }
      const admin = await loginAsSuperAdmin(source.strapi);
      const job = await runJob(admin, '/pacta-backup/backups', { compression: 'best', adminUsers: true, config: true });
      expect(job.status).toBe('succeeded');
      backupId = job.backupId!;
      expected = await dumpDatabase(source.strapi);
      uploads = hashUploads(source.publicDir);

      // The rows are PostgreSQL's text (", " inside a jsonb), the drill passes on them.
      const archive = await openArchive(path.join(storageDir, `${backupId}.pacta.zip`), { passphrase: KEY });
      let text = '';
      for await (const chunk of archive.open('tables/contracts.ndjson')) text += String(chunk);
      expect(text).toContain('"a": 1.5');
      const drill = await admin.post(`/pacta-backup/backups/${backupId}/drill`);
      expect(drill.status).toBe(202);
      const drilled = await waitForJob(admin, drill.body.data.id);
      expect(drilled).toMatchObject({ type: 'drill', status: 'succeeded' });
      expect((drilled.result as { ok: boolean }).ok).toBe(true);
    } finally {
      await source.stop();
    }

    for (const client of ['postgres', 'sqlite'] as const) {
      const target = await startApp({ client, storageDir, env: { PACTA_BACKUP_KEY: KEY } });
      try {
        const admin = await loginAsSuperAdmin(target.strapi);
        const started = await admin.post(`/pacta-backup/backups/${backupId}/restore`, { confirm: true, adminUsers: true, config: true });
        expect(started.status).toBe(202);
        const restore = await target.strapi.plugin('pacta-backup').service('jobs').wait(started.body.data.id, { timeoutMs: 170_000 });
        expect(restore.error).toBeNull();
        expect(await dumpDatabase(target.strapi)).toEqual(expected);
        expect(hashUploads(target.publicDir)).toEqual(uploads);
      } finally {
        await target.stop();
      }
    }
  });
});
