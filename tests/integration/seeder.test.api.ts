import fs from 'node:fs';
import path from 'node:path';

import { databaseClient, startApp, type TestApp } from '../helpers/app';

/* eslint-disable @typescript-eslint/no-require-imports */
const { seed } = require('../app/scripts/seed/index');
const { dump, compare } = require('../app/scripts/seed/equivalence');
/* eslint-enable @typescript-eslint/no-require-imports */

const OPTIONS = { documents: 40, media: 6, seed: 7 };

describe(`the example app's seeder on ${databaseClient}`, () => {
  let bulkApp: TestApp;
  let bulkDump: Record<string, string[]>;
  let documentsDump: Record<string, string[]>;
  let summary: Record<string, number>;

  beforeAll(async () => {
    // One Strapi per process at a time: first the reference, through the document service.
    const documentsApp = await startApp();
    try {
      await seed(documentsApp.strapi, { ...OPTIONS, method: 'documents' });
      documentsDump = await dump(documentsApp.strapi);
    } finally {
      await documentsApp.stop();
    }
    bulkApp = await startApp();
    summary = await seed(bulkApp.strapi, { ...OPTIONS, method: 'bulk' });
    bulkDump = await dump(bulkApp.strapi);
  });

  afterAll(async () => {
    await bulkApp?.stop();
  });

  it('writes exactly the rows the document service writes, for the same seed', () => {
    expect(Object.keys(bulkDump).length).toBeGreaterThan(10);
    expect(compare(documentsDump, bulkDump)).toEqual([]);
  });

  it('makes every relation kind, components, dynamic zones and media links', () => {
    for (const table of [
      'contracts_supplier_lnk', // manyToOne
      'contracts_tags_lnk', // manyToMany
      'contracts_renewal_of_lnk', // oneToOne (self)
      'departments_parent_lnk', // self-relation
      'components_contract_clauses', // repeatable component
      'components_contract_clauses_counterparty_lnk', // relation inside a component
      'components_contract_milestones', // dynamic zone
      'components_contract_penalties',
      'files_related_mph', // media fields, also inside components
    ]) {
      expect({ table, rows: bulkDump[table].length }).toEqual({ table, rows: expect.any(Number) });
      expect(bulkDump[table].length).toBeGreaterThan(0);
    }
    const mediaFields = new Set(bulkDump.files_related_mph.map((row) => JSON.parse(row).field));
    expect([...mediaFields].sort()).toEqual(['annex', 'attachments', 'document', 'logo']);
  });

  it('writes both locales, drafts and published versions', async () => {
    const knex = bulkApp.strapi.db.connection;
    const rows = await knex('contracts').select('locale', knex.raw('published_at IS NULL AS draft'));
    const byKind = (locale: string, draft: boolean) =>
      rows.filter((r: { locale: string; draft: unknown }) => r.locale === locale && Boolean(Number(r.draft)) === draft).length;
    expect(byKind('en', true)).toBe(OPTIONS.documents); // every document has an English draft
    expect(byKind('en', false)).toBeGreaterThan(0);
    expect(byKind('en', false)).toBeLessThan(OPTIONS.documents); // some are drafts only
    expect(byKind('es', true)).toBeGreaterThan(0);
    expect(byKind('es', false)).toBeGreaterThan(0);
    expect(summary.contracts).toBe(OPTIONS.documents);
    expect(summary.entries).toBe(rows.length);
    expect(await knex('settings').count({ n: '*' })).toEqual([{ n: expect.anything() }]);
    expect((await knex('settings').select('locale')).map((r: { locale: string }) => r.locale).sort()).toEqual(['en', 'es']);
  });

  it('uploads real image and PDF bytes through the upload plugin', async () => {
    const files = await bulkApp.strapi.db.query('plugin::upload.file').findMany({});
    expect(files).toHaveLength(OPTIONS.media);
    const magic = new Set<string>();
    for (const file of files) {
      const bytes = fs.readFileSync(path.join(bulkApp.publicDir, file.url));
      expect(bytes.length).toBeGreaterThan(0);
      magic.add(bytes.subarray(0, 4).toString('latin1'));
    }
    expect([...magic].sort()).toEqual(['%PDF', '\x89PNG']);
  });

  it('refuses to seed a database that already has contracts', async () => {
    await expect(seed(bulkApp.strapi, OPTIONS)).rejects.toThrow('already has contracts');
  });
});
