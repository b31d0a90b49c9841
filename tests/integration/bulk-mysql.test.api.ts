import knexFactory, { type Knex } from 'knex';

import { applyRestore, type TablePlan, type TargetSchema } from '../../server/src/engine/apply';
import { openSnapshot } from '../../server/src/engine/snapshot';
import { toCanonical } from '../../server/src/engine/values';
import { describeOn } from '../helpers/app';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createDatabase } = require('../helpers/databases');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MysqlDialect = require('@strapi/database/dist/dialects/mysql/index.js');

/**
 * MariaDB/MySQL bulk paths (server/src/engine/bulk/mysql.ts) against the portable ones, on a
 * fresh database through knex set up as Strapi sets it up (no Strapi boot): the streamed read
 * gives the same canonical rows as the paginated one; LOAD DATA (and the extended INSERTs a
 * server refusing LOAD DATA LOCAL gets) store values exactly as knex's INSERT stored them; a
 * duplicate key or a bad value fails the restore and leaves the database as it was.
 */
const run = describeOn('mysql');

interface Column {
  name: string;
  type: string;
}

const PARENT_COLUMNS: Column[] = [
  { name: 'id', type: 'increments' },
  { name: 'name', type: 'string' },
  { name: 'body', type: 'text' },
  { name: 'flag', type: 'boolean' },
  { name: 'amount', type: 'decimal' },
  { name: 'big', type: 'bigInteger' },
  { name: 'created_at', type: 'datetime' },
  { name: 'day', type: 'date' },
  { name: 'at', type: 'time' },
  { name: 'doc', type: 'json' },
];
const CHILD_COLUMNS: Column[] = [
  { name: 'id', type: 'increments' },
  { name: 'parent_id', type: 'integer' },
  { name: 'label', type: 'string' },
  { name: 'ord', type: 'double' },
];

const NASTY = [
  'plain',
  'tab\there, new\nline, CRLF\r\n',
  'back\\slash \\N \\t \\\\ and a last one \\',
  'quotes \' and " and `backticks`',
  'NUL \0 inside, ctrl-z \x1a, backspace \b',
  'unicode é 中文 — emoji 🎉👩‍👩‍👧',
  '\\N',
  '',
];

const parentRow = (i: number) => ({
  id: i + 1,
  name: `${NASTY[i % NASTY.length]} #${i}`,
  body: i % 5 === 0 ? null : NASTY.join('\t|\n') + 'x'.repeat((i % 50) * 37),
  flag: i % 3 === 0 ? null : i % 3 === 1,
  amount: i % 4 === 0 ? null : (i * 1234.56) % 99999.99,
  big: i === 1 ? '9007199254740993' : i === 2 ? '-9223372036854775808' : i * 1000,
  created_at: i === 4 ? new Date(0) : new Date(Date.UTC(2024, 1, 29, 23, 59, 58, i % 1000)),
  day: i % 6 === 0 ? null : `2024-0${(i % 9) + 1}-2${i % 10}`,
  at: i % 7 === 0 ? null : `${String(i % 24).padStart(2, '0')}:45:30.${String(i % 1000).padStart(3, '0')}`,
  doc: i % 8 === 0 ? null : JSON.stringify({ i, text: NASTY[i % NASTY.length], list: [true, null, 1.5, 'a\\b'], nested: { emoji: '🎉' } }),
});

run('MariaDB/MySQL bulk paths', () => {
  let knex: Knex;
  let refusing: Knex;
  let database: { name: string; env: Record<string, string>; drop(): Promise<void> };

  const makeKnex = (extra: Record<string, unknown> = {}) => {
    const { env } = database;
    const connection: Record<string, unknown> = {
      host: env.DATABASE_HOST,
      port: Number(env.DATABASE_PORT),
      user: env.DATABASE_USERNAME,
      password: env.DATABASE_PASSWORD,
      database: env.DATABASE_NAME,
      ...extra,
    };
    // Strapi's own settings of the mysql2 connection (typeCast, big numbers).
    MysqlDialect.prototype.configure.call({ db: { config: { connection: { connection } } } }, connection);
    return knexFactory({ client: 'mysql2', connection, pool: { min: 0, max: 4 } });
  };

  /** Every row of both tables as the driver gives them, plus the server's checksum of each table. */
  const dump = async () => ({
    parents: await knex('parents').select('*').orderBy('id'),
    children: await knex('children').select('*').orderBy('id'),
    checksums: (await knex.raw('CHECKSUM TABLE parents, children EXTENDED'))[0].map((r: { Checksum: unknown }) => String(r.Checksum)),
  });

  /** Canonical rows of a table through the portable path (paginated SELECTs through knex). */
  const portableRows = async (table: string, columns: Column[]) => {
    const snapshot = await openSnapshot(knex, 'mysql');
    try {
      const out: unknown[][] = [];
      const batches = snapshot.batches({ name: table, columns: columns.map((c) => c.name), filter: null }, 7);
      for await (const batch of batches) for (const row of batch) out.push(row.map((v, i) => toCanonical(v, columns[i].type, 'mysql')));
      return out;
    } finally {
      await snapshot.close();
    }
  };

  const schema = async (): Promise<TargetSchema> => ({
    tables: new Map(
      [
        ['parents', PARENT_COLUMNS],
        ['children', CHILD_COLUMNS],
      ].map(([name, columns]) => [
        name as string,
        (columns as Column[]).map((c) => ({ ...c, nullable: true, hasDefault: c.type === 'increments' })),
      ])
    ),
    foreignKeys: [{ table: 'children', column: 'parent_id', refTable: 'parents', refColumn: 'id', onDelete: 'CASCADE' }],
  });

  const plan = (name: string, columns: Column[], rows: unknown[][], nextId: number): TablePlan => ({
    name,
    columns,
    mode: 'replace',
    filter: null,
    nextId,
    rows: async function* () {
      for (let i = 0; i < rows.length; i += 50) yield rows.slice(i, i + 50).map((row) => [...row]);
    },
  });

  beforeAll(async () => {
    database = await createDatabase('mysql');
    knex = makeKnex();
    // A client that does not offer LOAD DATA LOCAL: the server refuses it, the rows go in as INSERTs.
    refusing = makeKnex({ flags: ['-LOCAL_FILES'] });
    await knex.schema.createTable('parents', (t) => {
      t.increments('id');
      t.string('name').unique();
      t.text('body', 'longtext');
      t.boolean('flag');
      t.decimal('amount', 10, 2);
      t.bigInteger('big');
      t.datetime('created_at', { precision: 6 });
      t.date('day');
      t.specificType('at', 'time(3)');
      t.json('doc');
    });
    await knex.schema.createTable('children', (t) => {
      t.increments('id');
      t.integer('parent_id').unsigned().references('parents.id').onDelete('CASCADE');
      t.string('label').unique();
      t.double('ord');
    });
    // Written through knex's INSERT: what the bulk paths must reproduce byte for byte.
    const parents = Array.from({ length: 3000 }, (_, i) => parentRow(i));
    for (let i = 0; i < parents.length; i += 500) await knex('parents').insert(parents.slice(i, i + 500));
    // A double column: whole numbers go through LOAD DATA; from the first fraction on (LOAD DATA
    // and an INSERT may read some fractions' digits to different doubles) the rest go as INSERTs.
    const children = Array.from({ length: 4000 }, (_, i) => ({
      id: i + 1,
      parent_id: (i % 2999) + 1,
      label: `${NASTY[i % NASTY.length]} child ${i}`,
      ord: i % 11 === 0 ? null : i < 2500 ? (i % 5) + 1 - (i % 2 ? 2 ** 52 : 0) : (i % 7) / 3 + 1e-9 * i,
    }));
    for (let i = 0; i < children.length; i += 500) await knex('children').insert(children.slice(i, i + 500));
  });

  afterAll(async () => {
    await knex?.destroy();
    await refusing?.destroy();
    await database?.drop();
  });

  it('reads the same canonical rows through the streamed SELECT as through pages', async () => {
    for (const [table, columns] of [
      ['parents', PARENT_COLUMNS],
      ['children', CHILD_COLUMNS],
    ] as const) {
      const portable = await portableRows(table, columns);
      const snapshot = await openSnapshot(knex, 'mysql');
      const bulk: unknown[][] = [];
      try {
        for await (const batch of snapshot.rows({ name: table, columns: columns.map((c) => c.name), filter: null }, columns.map((c) => c.type))) {
          bulk.push(...batch);
        }
      } finally {
        await snapshot.close();
      }
      expect(bulk).toHaveLength(table === 'parents' ? 3000 : 4000);
      expect(bulk).toEqual(portable);
    }
  });

  it('leaves the snapshot connection usable when a read stops early', async () => {
    const snapshot = await openSnapshot(knex, 'mysql');
    try {
      for await (const batch of snapshot.rows({ name: 'parents', columns: ['id', 'body'], filter: null }, ['increments', 'text'])) {
        expect(batch.length).toBeGreaterThan(0);
        break;
      }
      expect(await snapshot.count({ name: 'children', columns: ['id'], filter: null })).toBe(4000);
    } finally {
      await snapshot.close();
    }
  });

  /** Statements of a kind the server ran so far (nobody else runs LOAD DATA or savepoints here). */
  const statements = async (name: string) => Number((await knex.raw('SHOW GLOBAL STATUS LIKE ?', [name]))[0][0].Value);

  it.each([
    ['LOAD DATA', () => knex, true],
    ['extended INSERTs (LOAD DATA LOCAL refused)', () => refusing, false],
  ])('writes rows through %s exactly as knex did', async (_, client, loads) => {
    const before = await dump();
    const loadsBefore = await statements('Com_load');
    const undoneBefore = await statements('Com_rollback_to_savepoint');
    const parents = await portableRows('parents', PARENT_COLUMNS);
    const children = await portableRows('children', CHILD_COLUMNS);
    const result = await applyRestore(client(), 'mysql', await schema(), [
      plan('parents', PARENT_COLUMNS, parents, 3001),
      plan('children', CHILD_COLUMNS, children, 4001),
    ]);
    expect(result.tables.map((t) => [t.name, t.deleted, t.inserted])).toEqual([
      ['parents', 3000, 3000],
      ['children', 4000, 4000],
    ]);
    expect(await dump()).toEqual(before);
    // Through LOAD DATA indeed (a statement per table at least), none undone for an INSERT; the
    // refusing server saw one attempt (the connection remembers the refusal).
    const loaded = (await statements('Com_load')) - loadsBefore;
    if (loads) expect(loaded).toBeGreaterThanOrEqual(2);
    else expect(loaded).toBeLessThanOrEqual(1);
    expect((await statements('Com_rollback_to_savepoint')) - undoneBefore).toBe(0);
  });

  describe.each([
    ['LOAD DATA', () => knex],
    ['extended INSERTs', () => refusing],
  ])('a row the database refuses, through %s', (_, client) => {
    const expectRefused = async (edit: (parents: unknown[][], children: unknown[][]) => void, message: RegExp) => {
      const before = await dump();
      const parents = await portableRows('parents', PARENT_COLUMNS);
      const children = await portableRows('children', CHILD_COLUMNS);
      edit(parents, children);
      const restore = applyRestore(client(), 'mysql', await schema(), [
        plan('parents', PARENT_COLUMNS, parents, 3001),
        plan('children', CHILD_COLUMNS, children, 4001),
      ]);
      await expect(restore).rejects.toMatchObject({ code: 'RESTORE_FAILED', message: expect.stringMatching(message) });
      expect(await dump()).toEqual(before);
      // The connection went back to the pool in a clean state: no session setting left behind.
      const [[session]] = await client().raw('SELECT @@foreign_key_checks AS fk, @@unique_checks AS uq');
      expect({ fk: Number(session.fk), uq: Number(session.uq) }).toEqual({ fk: 1, uq: 1 });
    };

    it('fails on a duplicate primary key and changes nothing', async () => {
      await expectRefused((_p, children) => {
        children[3500][0] = children[10][0];
      }, /table children: Duplicate entry/);
    });

    it('fails on a duplicate in a unique index and changes nothing', async () => {
      await expectRefused((parents) => {
        parents[2000][1] = parents[1999][1];
      }, /table parents: Duplicate entry/);
    });

    it('fails on a value too long for its column and changes nothing', async () => {
      await expectRefused((parents) => {
        parents[2500][1] = 'y'.repeat(300);
      }, /table parents: .*(too long|truncated)/i);
    });

    it('fails in one of many statements, while the next is built, and changes nothing', async () => {
      const loadsBefore = await statements('Com_load');
      await expectRefused((parents) => {
        // About 6 MB of rows: several statements of a megabyte, the fifth refused.
        for (const row of parents) row[2] = `${'z'.repeat(2000)}${String(row[2] ?? '')}`;
        parents[2200][1] = parents[2199][1];
      }, /table parents: Duplicate entry/);
      if (client() === knex) expect((await statements('Com_load')) - loadsBefore).toBeGreaterThanOrEqual(4);
    });

    it('fails on a link to a row that is not there and changes nothing', async () => {
      await expectRefused((_p, children) => {
        children[100][1] = 999999;
      }, /table children: .*foreign key/i);
    });
  });
});
