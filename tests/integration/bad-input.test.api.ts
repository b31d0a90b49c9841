import type { Backup, Job } from '../../server/src/contracts/backups';
import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, describeOn, startApp, type TestApp } from '../helpers/app';
import { runJob } from '../helpers/jobs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

/**
 * Well-formed uids of content types this app does not have (or that a backup cannot hold) are
 * refused at the door with a 400 that names them: no job starts, nothing is written. Refused
 * before the database is read: SQLite only.
 */
describeOn('sqlite')(`unknown content types refused before any job starts on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;
  let tagsOnly: string;

  const jobs = async (): Promise<Job[]> => (await admin.get('/pacta-backup/jobs')).body.data;
  const backups = async (): Promise<Backup[]> => (await admin.get('/pacta-backup/backups')).body.data;

  beforeAll(async () => {
    app = await startApp();
    await seed(app.strapi, { documents: 3, media: 0, seed: 9 });
    admin = await loginAsSuperAdmin(app.strapi);
    const job = await runJob(admin, '/pacta-backup/backups', { contentTypes: ['api::tag.tag'], media: false, encrypt: false });
    expect(job.status).toBe('succeeded');
    tagsOnly = job.backupId!;
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('refuses a backup of unknown content types, naming each, and starts no job', async () => {
    const jobsBefore = await jobs();
    const res = await admin.post('/pacta-backup/backups', { contentTypes: ['api::nope.nope', 'api::contract.contract', 'api::ghost.ghost'] });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      name: 'ValidationError',
      message: 'contentTypes: not a content type of this app: api::nope.nope, api::ghost.ghost',
      details: {
        errors: [
          { path: ['contentTypes', '0'], message: 'not a content type of this app: api::nope.nope' },
          { path: ['contentTypes', '2'], message: 'not a content type of this app: api::ghost.ghost' },
        ],
      },
    });
    // Types that exist but that a backup does not select one by one.
    for (const uid of ['plugin::users-permissions.role', 'plugin::upload.file', 'plugin::i18n.locale']) {
      const refused = await admin.post('/pacta-backup/backups', { contentTypes: [uid] });
      expect({ uid, status: refused.status, message: refused.body.error?.message }).toEqual({
        uid,
        status: 400,
        message: `contentTypes: not a content type of this app: ${uid}`,
      });
    }
    expect(await jobs()).toEqual(jobsBefore);
  });

  it('refuses a restore of unknown content types, or of types the backup does not hold, before the safety backup', async () => {
    const jobsBefore = await jobs();
    const backupsBefore = (await backups()).map((b) => b.id);

    const unknown = await admin.post(`/pacta-backup/backups/${tagsOnly}/restore`, { contentTypes: ['api::nope.nope'], confirm: true });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe('contentTypes: not a content type of this app: api::nope.nope');

    const notHeld = await admin.post(`/pacta-backup/backups/${tagsOnly}/restore`, { contentTypes: ['api::tag.tag', 'api::supplier.supplier'], confirm: true });
    expect(notHeld.status).toBe(400);
    expect(notHeld.body.error).toMatchObject({
      message: 'contentTypes: not in this backup: api::supplier.supplier',
      details: { errors: [{ path: ['contentTypes', '1'], message: 'not in this backup: api::supplier.supplier' }] },
    });

    // The body is checked before the backup is looked up; a well-formed request still finds no backup.
    expect((await admin.post('/pacta-backup/backups/20990101-000000-none00/restore', { contentTypes: ['api::nope.nope'], confirm: true })).status).toBe(400);
    expect((await admin.post('/pacta-backup/backups/20990101-000000-none00/restore', { contentTypes: ['api::tag.tag'], confirm: true })).status).toBe(404);

    expect(await jobs()).toEqual(jobsBefore);
    expect((await backups()).map((b) => b.id)).toEqual(backupsBefore);
  });

  it('still restores what the backup holds', async () => {
    const job = await runJob(admin, `/pacta-backup/backups/${tagsOnly}/restore`, { contentTypes: ['api::tag.tag'], confirm: true });
    expect(job.status).toBe('succeeded');
  });
});
