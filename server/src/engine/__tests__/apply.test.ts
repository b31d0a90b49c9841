import knexFactory, { type Knex } from 'knex';

import { applyRestore, type ForeignKey, type TablePlan, type TargetSchema } from '../apply';

/**
 * The restore transaction on a small schema with the shapes Strapi gives an app: a content
 * type (`suppliers`), another that links to it (`contracts` with `contracts_supplier_lnk`),
 * media (`files`, linked to both through `files_related_mph`, cascading from `files`).
 * SQLite in memory, foreign keys enforced as Strapi enforces them.
 */
describe('applyRestore', () => {
  let knex: Knex;

  const FKS: ForeignKey[] = [
    { table: 'contracts_supplier_lnk', column: 'contract_id', refTable: 'contracts', refColumn: 'id', onDelete: 'CASCADE' },
    { table: 'contracts_supplier_lnk', column: 'supplier_id', refTable: 'suppliers', refColumn: 'id', onDelete: 'CASCADE' },
    { table: 'files_related_mph', column: 'file_id', refTable: 'files', refColumn: 'id', onDelete: 'CASCADE' },
  ];
  const columns = (names: string[]) => names.map((name) => ({ name, type: name === 'id' ? 'increments' : name.endsWith('_id') ? 'integer' : 'string', nullable: name !== 'id', hasDefault: name === 'id' }));
  const TABLES: Record<string, string[]> = {
    suppliers: ['id', 'name'],
    contracts: ['id', 'title'],
    contracts_supplier_lnk: ['id', 'contract_id', 'supplier_id'],
    files: ['id', 'url'],
    files_related_mph: ['id', 'file_id', 'related_id', 'related_type'],
  };
  const schema: TargetSchema = { tables: new Map(Object.entries(TABLES).map(([name, cols]) => [name, columns(cols)])), foreignKeys: FKS };

  /** A plan whose rows are the given value arrays (in the table's column order). */
  const plan = (name: string, rows: unknown[][], extra: Partial<TablePlan> = {}): TablePlan => ({
    name,
    columns: TABLES[name].map((column) => ({ name: column, type: column === 'id' ? 'increments' : 'string' })),
    mode: 'replace',
    filter: null,
    nextId: null,
    rows: async function* () {
      yield rows.map((row) => [...row]);
    },
    ...extra,
  });
  const all = async (table: string) => (await knex(table).select(TABLES[table]).orderBy('id')).map((row) => TABLES[table].map((c) => row[c]));

  beforeEach(async () => {
    knex = knexFactory({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true, pool: { min: 1, max: 1, afterCreate: (c: { pragma(s: string): void }, done: () => void) => { c.pragma('foreign_keys = ON'); done(); } } });
    await knex.schema.createTable('suppliers', (t) => { t.increments('id'); t.string('name'); });
    await knex.schema.createTable('contracts', (t) => { t.increments('id'); t.string('title'); });
    await knex.schema.createTable('contracts_supplier_lnk', (t) => {
      t.increments('id');
      t.integer('contract_id').unsigned().references('contracts.id').onDelete('CASCADE');
      t.integer('supplier_id').unsigned().references('suppliers.id').onDelete('CASCADE');
    });
    await knex.schema.createTable('files', (t) => { t.increments('id'); t.string('url'); });
    await knex.schema.createTable('files_related_mph', (t) => {
      t.increments('id');
      t.integer('file_id').unsigned().references('files.id').onDelete('CASCADE');
      t.integer('related_id');
      t.string('related_type');
    });
    // Now: supplier 1 renamed, supplier 2 deleted (its link gone with it), supplier 3 new and
    // linked, contract 2 moved from supplier 1 to 3; file 1 is the logo of supplier 1 AND an
    // attachment of contract 1.
    await knex('suppliers').insert([{ id: 1, name: 'Acme (renamed)' }, { id: 3, name: 'New supplier' }]);
    await knex('contracts').insert([{ id: 1, title: 'C1' }, { id: 2, title: 'C2' }, { id: 3, title: 'C3' }]);
    await knex('contracts_supplier_lnk').insert([{ id: 1, contract_id: 1, supplier_id: 1 }, { id: 5, contract_id: 2, supplier_id: 3 }]);
    await knex('files').insert([{ id: 1, url: '/uploads/logo-now.png' }]);
    await knex('files_related_mph').insert([
      { id: 1, file_id: 1, related_id: 1, related_type: 'api::supplier.supplier' },
      { id: 2, file_id: 1, related_id: 1, related_type: 'api::contract.contract' },
    ]);
  });

  afterEach(async () => {
    await knex.destroy();
  });

  /** The backup: suppliers 1 and 2; contract 2 linked to 1, contract 3 to 2; file 1 the logo of 1. */
  const restoreSuppliers = () =>
    applyRestore(knex, 'sqlite', schema, [
      plan('suppliers', [[1, 'Acme'], [2, 'Globex']]),
      plan('contracts_supplier_lnk', [[1, 1, 1], [3, 2, 1], [4, 3, 2]], { mode: 'incoming', incoming: { column: 'supplier_id', table: 'suppliers' } }),
      plan('files_related_mph', [[1, 1, 1, 'api::supplier.supplier']], { mode: 'filtered', filter: [[{ column: 'related_type', equals: 'api::supplier.supplier' }]] }),
      plan('files', [[1, '/uploads/logo.png']], { mode: 'upsert' }),
    ]);

  it('restores one content type and reports, never silently drops, the links it could not keep', async () => {
    const result = await restoreSuppliers();
    expect(await all('suppliers')).toEqual([[1, 'Acme'], [2, 'Globex']]);
    // Contract 1 keeps its link to 1 (untouched), contract 2's link to the deleted supplier 3
    // goes and is reported, supplier 2 comes back with its link from contract 3; contract 2's
    // link in the backup (to 1) is not brought back: supplier 1 was there all along and
    // contract 2's choice since then is the contracts' own data.
    expect(await all('contracts_supplier_lnk')).toEqual([[1, 1, 1], [4, 3, 2]]);
    expect(result.links).toEqual([{ table: 'contracts_supplier_lnk', column: 'supplier_id', refTable: 'suppliers', dropped: 1, nulled: 0 }]);
  });

  it('updates a shared file row in place: the media links of other content types survive', async () => {
    await restoreSuppliers();
    expect(await all('files')).toEqual([[1, '/uploads/logo.png']]);
    expect(await all('files_related_mph')).toEqual([
      [1, 1, 1, 'api::supplier.supplier'],
      [2, 1, 1, 'api::contract.contract'],
    ]);
  });

  it('rolls everything back when it fails half-way', async () => {
    const before = await Promise.all(Object.keys(TABLES).map(all));
    await expect(
      applyRestore(knex, 'sqlite', schema, [plan('suppliers', [[1, 'Acme']]), plan('files', [[1, '/uploads/logo.png']], { mode: 'upsert' })], { failAfterTables: 1 })
    ).rejects.toThrow(/Injected failure/);
    expect(await Promise.all(Object.keys(TABLES).map(all))).toEqual(before);
  });
});
