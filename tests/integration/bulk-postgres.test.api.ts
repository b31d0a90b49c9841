/**
 * PostgreSQL's bulk paths (server/src/engine/bulk/postgres.ts) against a real server, without
 * Strapi: knex on a fresh database, tables with every column type Strapi makes (and bytea,
 * json, timestamptz), values chosen to trip a text format. Runs with TEST_DB=postgres only.
 */
import knexFactory, { type Knex } from 'knex';

import { bulkFor } from '../../server/src/engine/bulk';
import type { RowFilter } from '../../server/src/engine/manifest';
import { openSnapshot, type SnapshotTable } from '../../server/src/engine/snapshot';
import { fromCanonical, toCanonical } from '../../server/src/engine/values';
import { describeOn } from '../helpers/app';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createDatabase } = require('../helpers/databases') as {
  createDatabase: (client: string) => Promise<{ name: string; env: Record<string, string>; drop: () => Promise<void> }>;
};

const onPostgres = describeOn('postgres');

const COLUMNS: Array<[string, string, string]> = [
  // name, SQL type, Strapi inspector type
  ['id', 'serial primary key', 'increments'],
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
  ['day', 'date', 'date'],
  ['tm', 'time(3)', 'time'],
  ['ts', 'timestamp(6)', 'datetime'],
  ['tstz', 'timestamptz', 'datetime'],
  ['bin', 'bytea', 'specificType'],
  ['u', 'uuid', 'specificType'],
  ['parent_id', 'integer references kinds(id) on delete set null', 'integer'],
];
const NAMES = COLUMNS.map(([name]) => name);
const TYPES = COLUMNS.map(([, , type]) => type);

const TEXTS = ['plain', 'tab\there', 'line\nbreak', 'cr\r\nlf', 'back\\slash\\', '\\N', '\\.', "it's", '😀 émoji μ', '', ' \t ', '{"x":"\\n"}', 'a\\tb'];

/** Deterministic rows: the i-th value of each column, with NULLs in every column now and then. */
const row = (i: number) => {
  const pick = <T>(values: T[]) => values[i % values.length];
  const nul = (value: unknown, every: number) => (i % every === 0 ? null : value);
  return {
    id: i,
    s: nul(pick(TEXTS) + i, 11),
    t: nul(pick(TEXTS).repeat(1 + (i % 3)), 13),
    j: nul(JSON.stringify({ n: i, text: pick(TEXTS), list: [1, 'two', null, true] }), 7),
    js: nul(JSON.stringify([pick(TEXTS), i]), 9),
    b: nul(i % 2 === 0, 5),
    i: nul(i * 37 - 5000, 17),
    bi: nul(pick(['9007199254740993', '-9223372036854775808', String(i * 1_000_003)]), 19),
    f: nul(pick([0.1 + 0.2, -1e-300, 12345.6789, 1e21]), 23),
    r: nul(pick([1.5, 3.4028235e38, -0.25]), 29),
    d: nul(pick(['12345678.91', '-0.01', '0.00', '42.50']), 31),
    day: nul(`20${String(10 + (i % 20))}-0${1 + (i % 9)}-1${i % 10}`, 37),
    tm: nul(pick(['00:00:00', '13:45:30.25', '23:59:59.999']), 41),
    ts: nul(new Date(Date.UTC(2024, i % 12, 1 + (i % 28), i % 24, i % 60, i % 60, i % 1000)), 43),
    tstz: nul(new Date(Date.UTC(1999, 11, 31, 23, 59, 59, i % 1000) + i * 60_000), 47),
    bin: nul(Buffer.from([i % 256, 0x0a, 0x09, 0x5c, 0x00, 0xff, (i * 7) % 256]), 53),
    u: nul(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, 59),
    parent_id: i > 1 && i % 3 === 0 ? i - 1 : null,
  };
};

const ROWS = 4500;

onPostgres('PostgreSQL bulk paths (COPY)', () => {
  let database: { name: string; env: Record<string, string>; drop(): Promise<void> };
  let knex: Knex;

  const schemaOf = async () =>
    (
      await knex.raw(`
        SELECT 'i ' || pg_get_indexdef(indexrelid) AS definition FROM pg_index WHERE indrelid::regclass::text IN ('kinds', 'links', 'notes')
        UNION ALL
        SELECT 'c ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid::regclass::text IN ('kinds', 'links', 'notes')
        ORDER BY 1`)
    ).rows.map((r: { definition: string }) => r.definition);
  const contents = async (table: string) =>
    (await knex.raw(`SELECT t::text AS row FROM ${table} t ORDER BY 1`)).rows.map((r: { row: string }) => r.row);

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
    await knex.raw('CREATE INDEX kinds_s ON kinds (s); CREATE UNIQUE INDEX kinds_u ON kinds (u); CREATE INDEX kinds_lower ON kinds (lower(t)) WHERE b');
    await knex.raw(`CREATE TABLE links (kind_id integer NOT NULL REFERENCES kinds(id) ON DELETE CASCADE, label text, rank double precision,
      CONSTRAINT links_unique UNIQUE (kind_id, label))`);
    await knex.raw('CREATE INDEX links_rank ON links (rank)');
    await knex.raw('CREATE TABLE notes (id serial primary key, kind_id integer REFERENCES kinds(id) ON DELETE CASCADE, body text)');
    for (let i = 1; i <= ROWS; i += 500) {
      await knex('kinds').insert(Array.from({ length: Math.min(500, ROWS - i + 1) }, (_, k) => ({ ...row(i + k), parent_id: null })));
    }
    await knex.raw('UPDATE kinds SET parent_id = id - 1 WHERE id > 1 AND id % 3 = 0');
    await knex.raw("SELECT setval('kinds_id_seq', ?)", [ROWS]);
    await knex('links').insert(
      Array.from({ length: 3000 }, (_, k) => ({ kind_id: 1 + (k % 700), label: k % 5 === 0 ? null : TEXTS[k % TEXTS.length] + k, rank: k % 4 ? k / 7 : null }))
    );
    await knex('notes').insert([{ kind_id: 2, body: 'kept' }]);
  });

  afterAll(async () => {
    await knex?.destroy();
    await database?.drop();
  });

  const table = (name: string, columns: string[], filter: RowFilter | null = null): SnapshotTable => ({ name, columns, filter });

  /** Both paths of one snapshot: the bulk read (rows) and the portable pages converted. */
  const bothPaths = async (subject: SnapshotTable, types: string[]) => {
    const snapshot = await openSnapshot(knex, 'postgres');
    try {
      const bulk: unknown[][] = [];
      for await (const batch of snapshot.rows(subject, types)) {
        expect(batch.length).toBeLessThanOrEqual(2000);
        bulk.push(...batch);
      }
      const portable: unknown[][] = [];
      for await (const batch of snapshot.batches(subject)) {
        portable.push(...batch.map((values) => values.map((value, i) => toCanonical(value, types[i], 'postgres'))));
      }
      return { bulk, portable };
    } finally {
      await snapshot.close();
    }
  };

  it('reads every column type exactly as the portable path does', async () => {
    const { bulk, portable } = await bothPaths(table('kinds', NAMES), TYPES);
    expect(bulk).toHaveLength(ROWS);
    expect(bulk).toEqual(portable);
    // Spot checks of the canonical forms themselves.
    const third = bulk[2];
    expect(third[NAMES.indexOf('bi')]).toBe('9007199254740993');
    expect(third[NAMES.indexOf('bin')]).toEqual({ $base64: Buffer.from([3, 0x0a, 0x09, 0x5c, 0, 0xff, 21]).toString('base64') });
  });

  it('reads a table without id in the order of all its columns, and filtered reads, as the portable path', async () => {
    const links = await bothPaths(table('links', ['kind_id', 'label', 'rank']), ['integer', 'text', 'double']);
    expect(links.bulk).toHaveLength(3000);
    expect(links.bulk).toEqual(links.portable);
    const filter: RowFilter = [
      [{ column: 's', equals: "it's7" }],
      [{ column: 'i', equals: 37 * 20 - 5000 }],
      [{ column: 'id', in: { table: 'links', column: 'kind_id', where: [[{ column: 'label', equals: 'back\\slash\\4' }]] } }],
      [{ column: 't', equals: "a\\tb'; DROP TABLE kinds; --" }],
    ];
    const filtered = await bothPaths(table('kinds', NAMES, filter), TYPES);
    expect(filtered.bulk.length).toBeGreaterThanOrEqual(3);
    expect(filtered.bulk).toEqual(filtered.portable);
    const empty = await bothPaths(table('kinds', ['id'], [[{ column: 'id', equals: -1 }]]), ['increments']);
    expect(empty.bulk).toEqual([]);
  });

  it('frees the snapshot connection when a reader stops half-way', async () => {
    const snapshot = await openSnapshot(knex, 'postgres');
    for await (const batch of snapshot.rows(table('kinds', NAMES), TYPES)) {
      expect(batch.length).toBeGreaterThan(0);
      break;
    }
    expect(await snapshot.count(table('kinds', ['id']))).toBe(ROWS);
    await snapshot.close();
  });

  /** The archive's canonical rows of `kinds`, as a restore converts them for this database. */
  const restoredValues = async () => {
    const snapshot = await openSnapshot(knex, 'postgres');
    const rows: unknown[][] = [];
    try {
      for await (const batch of snapshot.rows(table('kinds', NAMES), TYPES)) rows.push(...batch);
    } finally {
      await snapshot.close();
    }
    const targetTypes = TYPES.map((type) => (type === 'increments' ? 'integer' : type));
    return rows.map((values) => values.map((value, i) => fromCanonical(value, targetTypes[i], 'postgres')));
  };

  it('stores through COPY exactly what knex stores through INSERT', async () => {
    const values = await restoredValues();
    await knex.raw('CREATE TABLE kinds_copy (LIKE kinds); CREATE TABLE kinds_knex (LIKE kinds)');
    const inserted: number[] = [];
    await knex.transaction(async (trx) => {
      const insert = await bulkFor('postgres').inserter!(
        trx,
        'kinds_copy',
        NAMES.map((name, i) => ({ name, type: TYPES[i] })),
        (rows) => inserted.push(rows)
      );
      for (const row of values) {
        const pending = insert.add(row);
        if (pending) await pending;
      }
      await insert.end();
      for (let i = 0; i < values.length; i += 500) {
        await trx('kinds_knex').insert(values.slice(i, i + 500).map((row) => Object.fromEntries(NAMES.map((name, k) => [name, row[k]]))));
      }
    });
    expect(inserted.reduce((a, b) => a + b, 0)).toBe(ROWS);
    expect(await contents('kinds_copy')).toEqual(await contents('kinds_knex'));
    expect(await contents('kinds_copy')).toEqual(await contents('kinds'));
  });

  it('rejects with the database error when COPY refuses a row, naming no value', async () => {
    const trx = await knex.transaction();
    try {
      const insert = await bulkFor('postgres').inserter!(trx, 'kinds_copy', [{ name: 'id', type: 'integer' }, { name: 'u', type: 'string' }], () => undefined);
      await insert.add([1, '00000000-0000-4000-8000-000000000001']);
      await insert.add([2, 'not a uuid']);
      await expect(insert.end()).rejects.toMatchObject({ code: '22P02' });
    } finally {
      await trx.rollback();
    }
    expect(await knex('kinds_copy').count({ n: '*' })).toEqual([{ n: String(ROWS) }]);
  });

  it('truncates, sets indexes and foreign keys aside and brings them back; a rollback leaves everything as it was', async () => {
    const schema = await schemaOf();
    const before = { kinds: await contents('kinds'), links: await contents('links'), notes: await contents('notes') };
    const values = await restoredValues();

    const load = async (trx: Knex.Transaction, emptied: string[]) => {
      const plan = await bulkFor('postgres').prepareLoad!(trx, { emptied, restored: emptied, foreignKeys: [] });
      return plan;
    };

    // notes references kinds and is not emptied: kinds cannot be truncated, links can.
    let trx = await knex.transaction();
    try {
      const plan = await load(trx, ['links', 'kinds']);
      expect([...plan.deleted]).toEqual([['links', 3000]]);
    } finally {
      await trx.rollback();
    }
    expect(await schemaOf()).toEqual(schema);

    // Everything emptied: TRUNCATE of the three, rows written again, rollback.
    trx = await knex.transaction();
    try {
      const plan = await load(trx, ['notes', 'links', 'kinds']);
      expect(new Map(plan.deleted)).toEqual(new Map([['notes', 1], ['links', 3000], ['kinds', ROWS]]));
      expect((await trx('kinds').count({ n: '*' }))[0].n).toBe('0');
      const insert = await bulkFor('postgres').inserter!(trx, 'kinds', NAMES.map((name, i) => ({ name, type: TYPES[i] })), () => undefined);
      for (const row of values) {
        const pending = insert.add(row);
        if (pending) await pending;
      }
      await insert.end();
      await plan.rebuild('kinds');
      await plan.finish();
      expect(await trx.raw('SELECT count(*) FROM links')).toMatchObject({ rows: [{ count: '0' }] });
    } finally {
      await trx.rollback();
    }
    expect(await schemaOf()).toEqual(schema);
    expect({ kinds: await contents('kinds'), links: await contents('links'), notes: await contents('notes') }).toEqual(before);

    // Committed: the same rows, indexes and constraints as before.
    await knex.transaction(async (t) => {
      // links references kinds and is not emptied: only notes goes.
      const plan = await load(t, ['notes', 'kinds']);
      expect([...plan.deleted]).toEqual([['notes', 1]]);
      await plan.finish();
    });
    await knex.transaction(async (t) => {
      const plan = await load(t, ['notes', 'links', 'kinds']);
      const insert = await bulkFor('postgres').inserter!(t, 'kinds', NAMES.map((name, i) => ({ name, type: TYPES[i] })), () => undefined);
      for (const row of values) {
        const pending = insert.add(row);
        if (pending) await pending;
      }
      await insert.end();
      await plan.rebuild('kinds');
      await t('links').insert({ kind_id: 1, label: 'x', rank: 1 });
      await plan.finish();
    });
    expect(await schemaOf()).toEqual(schema);
    expect(await contents('kinds')).toEqual(before.kinds);
  });

  it('fails the restore when the foreign keys it adds back find a dangling row', async () => {
    const schema = await schemaOf();
    const trx = await knex.transaction();
    try {
      const plan = await bulkFor('postgres').prepareLoad!(trx, { emptied: ['notes', 'links', 'kinds'], restored: ['kinds', 'links', 'notes'], foreignKeys: [] });
      await trx('notes').insert({ kind_id: 999999, body: 'dangling' });
      await expect(plan.finish()).rejects.toMatchObject({ code: '23503' });
    } finally {
      await trx.rollback();
    }
    expect(await schemaOf()).toEqual(schema);
  });
});
