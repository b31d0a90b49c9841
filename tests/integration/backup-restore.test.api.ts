import type { Job } from '../../server/src/contracts/backups';
import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, startApp, type TestApp } from '../helpers/app';
import path from 'node:path';

import { dumpDatabase, hashUploads } from '../helpers/dump';
import { runJob } from '../helpers/jobs';
import { withDeadline } from '../helpers/wait';
import { openArchive } from '../../server/src/engine/archive';
import { fromNdjson } from '../../server/src/engine/ndjson';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

describe(`full backup and restore on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;

  beforeAll(async () => {
    app = await startApp();
    await seed(app.strapi, { documents: 30, media: 6, seed: 3 });
    admin = await loginAsSuperAdmin(app.strapi);
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('brings every row and media file back exactly after changes, deletions and additions', async () => {
    const backup = await runJob(admin, '/pacta-backup/backups', { name: 'Before the changes' });
    expect(backup.error).toBeNull();
    expect(backup.status).toBe('succeeded');
    const before = await dumpDatabase(app.strapi, { indexes: true });
    const uploadsBefore = hashUploads(app.publicDir);
    // The dump holds each table's indexes too (a SQLite restore rebuilds them).
    expect(before['contracts_cmps#indexes'].map(([name]) => name)).toEqual(expect.arrayContaining(['contracts_entity_fk', 'contracts_uq']));

    // Change, delete and add content and media.
    const documents = app.strapi.documents('api::contract.contract');
    const [first, second] = await documents.findMany({ locale: 'en', limit: 2 });
    await documents.delete({ documentId: first.documentId, locale: '*' });
    await documents.update({ documentId: second.documentId, locale: 'en', data: { title: 'Changed after the backup' } as never });
    await app.strapi.documents('api::tag.tag').create({ data: { name: 'Added after the backup' } });
    const [file] = await app.strapi.db.query('plugin::upload.file').findMany({ limit: 1 });
    await app.strapi.plugin('upload').service('upload').remove(file);
    expect(await dumpDatabase(app.strapi)).not.toEqual(before);
    expect(hashUploads(app.publicDir)).not.toEqual(uploadsBefore);

    const restore = await runJob(admin, `/pacta-backup/backups/${backup.backupId}/restore`, { confirm: true });
    expect(restore.error).toBeNull();
    expect(restore.status).toBe('succeeded');
    expect(restore.result?.safetyBackupId).toEqual(expect.any(String));

    expect(await dumpDatabase(app.strapi, { indexes: true })).toEqual(before);
    // Both ways: every file of the backup is back, and none is left over.
    expect(hashUploads(app.publicDir)).toEqual(uploadsBefore);
  });

  it('takes a consistent snapshot while another client writes contracts (no link row without its rows)', async () => {
    const [supplier] = await app.strapi.documents('api::supplier.supplier').findMany({ limit: 1 });
    const [tag] = await app.strapi.documents('api::tag.tag').findMany({ limit: 1 });
    const started = await admin.post('/pacta-backup/backups', { media: false });
    expect(started.status).toBe(202);
    // Follow the job in-process: on SQLite the writer below keeps the single connection busy,
    // and an HTTP poll would queue behind it.
    const jobs = app.strapi.plugin('pacta-backup').service('jobs');
    let writes = 0;
    while (!jobs.get(started.body.data.id).finishedAt && writes < 200) {
      await app.strapi.documents('api::contract.contract').create({
        locale: 'en',
        data: {
          title: `Written during the backup ${writes}`,
          number: `W-${writes}`,
          supplier: supplier.documentId,
          tags: [tag.documentId],
          clauses: [{ heading: 'Concurrent clause' }],
        } as never,
      });
      writes += 1;
    }
    const job: Job = await withDeadline('the backup taken during the writes', jobs.wait(started.body.data.id));
    expect(job.status).toBe('succeeded');
    expect(writes).toBeGreaterThan(0);

    const archive = await openArchive(path.join(app.backupsDir, `${job.backupId}.pacta.zip`));
    const column = async (table: string, name: string) => {
      const spec = archive.manifest.tables.find((t) => t.name === table)!;
      const index = spec.columns.findIndex((c) => c.name === name);
      const values: unknown[] = [];
      for await (const row of fromNdjson(archive.open(spec.entry))) values.push(row[index]);
      return values;
    };
    const contracts = new Set(await column('contracts', 'id'));
    const clauses = new Set(await column('components_contract_clauses', 'id'));
    for (const [table, name] of [['contracts_supplier_lnk', 'contract_id'], ['contracts_tags_lnk', 'contract_id'], ['contracts_cmps', 'entity_id']]) {
      const dangling = (await column(table, name)).filter((id) => !contracts.has(id));
      expect({ table, dangling }).toEqual({ table, dangling: [] });
    }
    const cmps = await column('contracts_cmps', 'cmp_id');
    const types = await column('contracts_cmps', 'component_type');
    const missingClauses = cmps.filter((id, i) => types[i] === 'contract.clause' && !clauses.has(id));
    expect(missingClauses).toEqual([]);
  });
});
