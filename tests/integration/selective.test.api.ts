import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, startApp, type TestApp } from '../helpers/app';
import { dumpDatabase } from '../helpers/dump';
import { runJob } from '../helpers/jobs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

const TAG_TABLES = ['tags', 'contracts_tags_lnk'];
const SUPPLIER_TABLES = ['suppliers', 'contracts_supplier_lnk', 'components_contract_clauses_counterparty_lnk'];
const CONTRACT_TABLES = [
  'contracts',
  'contracts_cmps',
  'components_contract_clauses',
  'components_contract_milestones',
  'components_contract_penalties',
  'components_contract_clauses_counterparty_lnk',
  'contracts_tags_lnk',
  'contracts_supplier_lnk',
  'contracts_department_lnk',
  'contracts_renewal_of_lnk',
];

describe(`selective backups and restores on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;
  let fullId: string;
  let before: Awaited<ReturnType<typeof dumpDatabase>>;

  const dump = (tables: string[]) => dumpDatabase(app.strapi, { only: tables });
  const pick = (tables: string[]) => Object.fromEntries(tables.map((t) => [t, before[t]]));

  beforeAll(async () => {
    app = await startApp();
    await seed(app.strapi, { documents: 20, media: 4, seed: 5 });
    admin = await loginAsSuperAdmin(app.strapi);
    fullId = (await runJob(admin, '/pacta-backup/backups', {})).backupId!;
    before = await dumpDatabase(app.strapi);
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('backs up one content type with its links, and restores it without touching the others', async () => {
    const job = await runJob(admin, '/pacta-backup/backups', { contentTypes: ['api::tag.tag'], media: false });
    expect(job.status).toBe('succeeded');
    const details = await admin.get(`/pacta-backup/backups/${job.backupId}`);
    expect(details.body.data.scope).toMatchObject({ contentTypes: ['api::tag.tag'], media: false });
    expect(details.body.data.manifest.tables.map((t: { name: string }) => t.name).sort()).toEqual(
      expect.arrayContaining(['tags', 'contracts_tags_lnk'])
    );
    expect(details.body.data.manifest.tables.map((t: { name: string }) => t.name)).not.toContain('contracts');

    const tags = app.strapi.documents('api::tag.tag');
    const [first, second] = await tags.findMany({ limit: 2 });
    await tags.update({ documentId: first.documentId, data: { name: 'Renamed tag' } as never });
    await tags.delete({ documentId: second.documentId });
    const contracts = app.strapi.documents('api::contract.contract');
    const [contract] = await contracts.findMany({ locale: 'en', limit: 1 });
    await contracts.update({ documentId: contract.documentId, locale: 'en', data: { title: 'Kept after a tag restore' } as never });
    const contractsChanged = await dump(['contracts']);

    const restore = await runJob(admin, `/pacta-backup/backups/${job.backupId}/restore`, { confirm: true });
    expect(restore.error).toBeNull();
    expect(await dump(TAG_TABLES)).toEqual(pick(TAG_TABLES));
    expect(await dump(['contracts'])).toEqual(contractsChanged);
  });

  it('restores one content type from a full backup: suppliers come back, contracts keep their changes', async () => {
    const suppliers = app.strapi.documents('api::supplier.supplier');
    const [supplier] = await suppliers.findMany({ limit: 1 });
    await suppliers.delete({ documentId: supplier.documentId });
    const contractsNow = await dump(['contracts']);

    const restore = await runJob(admin, `/pacta-backup/backups/${fullId}/restore`, { confirm: true, contentTypes: ['api::supplier.supplier'], media: false });
    expect(restore.error).toBeNull();
    expect(await dump(SUPPLIER_TABLES)).toEqual(pick(SUPPLIER_TABLES));
    expect(await dump(['contracts'])).toEqual(contractsNow);
  });

  it('restores contracts with their components, dynamic zones, locales and drafts from a full backup', async () => {
    const contracts = app.strapi.documents('api::contract.contract');
    const [one, two] = await contracts.findMany({ locale: 'en', limit: 2 });
    await contracts.delete({ documentId: one.documentId, locale: '*' });
    await contracts.update({
      documentId: two.documentId,
      locale: 'en',
      data: { clauses: [{ heading: 'A clause added later', mandatory: true }], sections: [] } as never,
    });
    await contracts.publish({ documentId: two.documentId, locale: 'en' });
    const tagsNow = await dump(['tags']);

    const restore = await runJob(admin, `/pacta-backup/backups/${fullId}/restore`, { confirm: true, contentTypes: ['api::contract.contract'] });
    expect(restore.error).toBeNull();
    expect(restore.result?.contentTypes).toEqual([{ uid: 'api::contract.contract', rows: before.contracts.length }]);
    expect(await dump(CONTRACT_TABLES.filter((t) => t !== 'contracts_tags_lnk'))).toEqual(pick(CONTRACT_TABLES.filter((t) => t !== 'contracts_tags_lnk')));
    expect(await dump(['tags'])).toEqual(tagsNow);
  });
});
