import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, startApp, type TestApp } from '../helpers/app';
import { dumpDatabase, hashUploads } from '../helpers/dump';
import { runJob } from '../helpers/jobs';

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
    const before = await dumpDatabase(app.strapi);
    const uploadsBefore = hashUploads(app.publicDir);

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

    expect(await dumpDatabase(app.strapi)).toEqual(before);
    const uploadsAfter = hashUploads(app.publicDir);
    for (const [relative, sha] of Object.entries(uploadsBefore)) expect({ relative, sha: uploadsAfter[relative] }).toEqual({ relative, sha });
  });
});
