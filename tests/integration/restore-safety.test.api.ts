import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { loginAsSuperAdmin, superAdminCredentials, login, type Agent } from '../helpers/agent';
import { databaseClient, startApp, type TestApp } from '../helpers/app';
import { dumpDatabase, hashUploads } from '../helpers/dump';
import { runJob, waitForJob } from '../helpers/jobs';
import { readZip, writeZip } from '../helpers/zip';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

const KEY = 'correct horse battery staple';

describe(`bad input changes nothing, on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;
  let plainId: string;
  let encryptedId: string;
  let before: Awaited<ReturnType<typeof dumpDatabase>>;
  let beforeWithIndexes: Awaited<ReturnType<typeof dumpDatabase>>;
  let uploadsBefore: Record<string, string>;

  const archive = (id: string) => path.join(app.backupsDir, `${id}.pacta.zip`);
  let forged = 0;
  /** Writes a forged archive into the storage folder and returns its id. */
  const forge = async (from: string, edit: (entries: Array<{ name: string; data: Buffer }>) => void) => {
    const entries = await readZip(archive(from));
    edit(entries);
    const id = `20990101-000000-bad${String((forged += 1)).padStart(3, '0')}`;
    writeZip(archive(id), entries);
    return id;
  };
  const flip = (data: Buffer, at = Math.floor(data.length / 2)) => {
    data[at] ^= 0x01;
  };

  /** A restore of `id` fails with `code` and the database and uploads are as they were. */
  const expectRefused = async (id: string, code: string, message?: RegExp) => {
    const job = await runJob(admin, `/pacta-backup/backups/${id}/restore`, { confirm: true });
    expect({ status: job.status, code: job.error?.code }).toEqual({ status: 'failed', code });
    if (message) expect(job.error?.message).toMatch(message);
    expect(job.error?.message).not.toContain(KEY);
    expect(await dumpDatabase(app.strapi)).toEqual(before);
    expect(hashUploads(app.publicDir)).toEqual(uploadsBefore);
  };

  beforeAll(async () => {
    app = await startApp();
    await seed(app.strapi, { documents: 20, media: 4, seed: 11 });
    admin = await loginAsSuperAdmin(app.strapi);
    plainId = (await runJob(admin, '/pacta-backup/backups', { compression: 'none' })).backupId!;
    process.env.PACTA_BACKUP_KEY = KEY;
    encryptedId = (await runJob(admin, '/pacta-backup/backups', { adminUsers: true, config: true })).backupId!;
    // Changes after the backups: a restore that fails must leave these in place.
    await app.strapi.documents('api::tag.tag').create({ data: { name: 'Made after the backups' } as never });
    before = await dumpDatabase(app.strapi);
    beforeWithIndexes = await dumpDatabase(app.strapi, { indexes: true });
    uploadsBefore = hashUploads(app.publicDir);
  });

  afterAll(async () => {
    delete process.env.PACTA_BACKUP_KEY;
    await app?.stop();
  });

  it('lists both backups, encrypted or not, newest first', async () => {
    const res = await admin.get('/pacta-backup/backups');
    expect(res.status).toBe(200);
    expect(res.body.data.map((b: { id: string }) => b.id)).toEqual([encryptedId, plainId]);
    expect(res.body.data.map((b: { encrypted: boolean }) => b.encrypted)).toEqual([true, false]);
    expect(res.body.data[0]).toMatchObject({ kind: 'manual', status: 'ok', scope: { contentTypes: 'all', adminUsers: true }, verifiedAt: expect.any(String) });
    expect(res.body.data[0].counts['api::contract.contract']).toBeGreaterThan(20);
    const manifest = fs.readFileSync(archive(encryptedId));
    expect(manifest.includes(Buffer.from(KEY))).toBe(false);
  });

  it('refuses a restore without confirm: true, naming the field (400)', async () => {
    const res = await admin.post(`/pacta-backup/backups/${plainId}/restore`, {});
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ name: 'ValidationError', details: { errors: [expect.objectContaining({ path: ['confirm'] })] } });
  });

  it('refuses unknown fields and bad values with a 400 naming them, and a missing backup with a 404', async () => {
    const bad = await admin.post('/pacta-backup/backups', { compression: 'max', medya: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/compression/);
    expect(bad.body.error.message).toMatch(/medya/);
    expect((await admin.get('/pacta-backup/backups/20990101-000000-nothere')).status).toBe(404);
    expect((await admin.post('/pacta-backup/backups/20990101-000000-nothere/restore', { confirm: true })).status).toBe(404);
  });

  it('refuses admin users in a backup without encryption', async () => {
    const saved = process.env.PACTA_BACKUP_KEY;
    delete process.env.PACTA_BACKUP_KEY;
    try {
      const res = await admin.post('/pacta-backup/backups', { adminUsers: true });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/encrypt/);
    } finally {
      process.env.PACTA_BACKUP_KEY = saved;
    }
  });

  it('refuses a second job while one runs (409)', async () => {
    // A job held open by a latch: the second request surely arrives while it runs.
    let release: () => void = () => undefined;
    const latch = new Promise<void>((resolve) => (release = resolve));
    const jobs = app.strapi.plugin('pacta-backup').service('jobs');
    const first = await jobs.start('backup', async () => {
      await latch;
      return {};
    });
    try {
      const backup = await admin.post('/pacta-backup/backups', {});
      expect(backup.status).toBe(409);
      expect(backup.body.error.name).toBe('ConflictError');
      const restore = await admin.post(`/pacta-backup/backups/${plainId}/restore`, { confirm: true });
      expect(restore.status).toBe(409);
    } finally {
      release();
    }
    expect((await waitForJob(admin, first.id)).status).toBe('succeeded');
  });

  it('verifies an archive entry by entry without the database', async () => {
    const job = await runJob(admin, `/pacta-backup/backups/${encryptedId}/verify`);
    expect(job.status).toBe('succeeded');
    expect(job.result).toMatchObject({ ok: true, entries: expect.any(Number) });
  });

  it('refuses a flipped byte in the rows', async () => {
    const id = await forge(plainId, (entries) => flip(entries.find((e) => e.name === 'tables/contracts.ndjson')!.data));
    await expectRefused(id, 'CHECKSUM', /tables\/contracts\.ndjson/);
  });

  it('refuses a flipped byte in a media file', async () => {
    const id = await forge(plainId, (entries) => flip(entries.find((e) => e.name.startsWith('media/') && e.name !== 'media/index.ndjson')!.data));
    await expectRefused(id, 'CHECKSUM', /media\//);
  });

  it('refuses a flipped byte in the manifest', async () => {
    const id = await forge(plainId, (entries) => flip(entries.find((e) => e.name === 'manifest.json')!.data, 40));
    await expectRefused(id, 'CHECKSUM', /manifest/);
  });

  it('refuses a flipped byte in an encrypted entry', async () => {
    const id = await forge(encryptedId, (entries) => flip(entries.find((e) => e.name.startsWith('data/'))!.data));
    await expectRefused(id, 'TAMPERED');
  });

  it('refuses a truncated archive', async () => {
    const id = '20990101-000000-cut001';
    const bytes = fs.readFileSync(archive(plainId));
    fs.writeFileSync(archive(id), bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectRefused(id, 'NOT_AN_ARCHIVE');
  });

  it('refuses an entry named ../x', async () => {
    const id = await forge(plainId, (entries) => entries.push({ name: '../x', data: Buffer.from('escape') }));
    await expectRefused(id, 'UNSAFE_PATH', /\.\.\/x/);
    expect(fs.existsSync(path.join(app.backupsDir, '..', 'x'))).toBe(false);
  });

  it('refuses a wrong key, and an encrypted backup without a key', async () => {
    process.env.PACTA_BACKUP_KEY = 'not the right key';
    try {
      await expectRefused(encryptedId, 'WRONG_KEY', /wrong key/);
      delete process.env.PACTA_BACKUP_KEY;
      await expectRefused(encryptedId, 'NO_KEY');
    } finally {
      process.env.PACTA_BACKUP_KEY = KEY;
    }
  });

  it('refuses an archive from an app with another schema, naming the content type and column', async () => {
    const id = await forge(plainId, (entries) => {
      const manifestEntry = entries.find((e) => e.name === 'manifest.json')!;
      const manifest = JSON.parse(manifestEntry.data.toString('utf8'));
      manifest.tables.find((t: { name: string }) => t.name === 'contracts').columns.push({ name: 'penalty_clause', type: 'text' });
      manifestEntry.data = Buffer.from(JSON.stringify(manifest));
      entries.find((e) => e.name === 'manifest.sha256')!.data = Buffer.from(createHash('sha256').update(manifestEntry.data).digest('hex'));
    });
    await expectRefused(id, 'SCHEMA_MISMATCH', /contracts\.penalty_clause.*api::contract\.contract/);
  });

  it('refuses rows that are not what the manifest says, found while they are written, and changes nothing', async () => {
    // A crafted archive whose digests all match: the restore reads its entries without parsing
    // the rows, and checks each table's rows as it writes them. The link table goes in after the
    // contracts and tags it points at, so the rollback has tables to undo.
    const entryName = 'tables/contracts_tags_lnk.ndjson';
    const id = await forge(plainId, (entries) => {
      const table = entries.find((e) => e.name === entryName)!;
      const lines = table.data.toString('utf8').split('\n').filter(Boolean);
      expect(lines.length).toBeGreaterThan(2);
      [lines[lines.length - 2], lines[lines.length - 1]] = [lines[lines.length - 1], lines[lines.length - 2]];
      table.data = Buffer.from(`${lines.join('\n')}\n`);
      const manifestEntry = entries.find((e) => e.name === 'manifest.json')!;
      const manifest = JSON.parse(manifestEntry.data.toString('utf8'));
      const listed = manifest.entries.find((e: { path: string }) => e.path === entryName);
      listed.sha256 = createHash('sha256').update(table.data).digest('hex');
      listed.size = table.data.length;
      manifestEntry.data = Buffer.from(JSON.stringify(manifest));
      entries.find((e) => e.name === 'manifest.sha256')!.data = Buffer.from(createHash('sha256').update(manifestEntry.data).digest('hex'));
    });
    await expectRefused(id, 'BAD_ROWS', /contracts_tags_lnk.*not in id order/);
    expect(await dumpDatabase(app.strapi, { indexes: true })).toEqual(beforeWithIndexes);
  });

  it('rolls a restore that fails half-way back to exactly the previous state', async () => {
    const job = await app.strapi.plugin('pacta-backup').service('backups').startRestore(plainId, { confirm: true }, { failAfterTables: 8 });
    const done = await waitForJob(admin, job.id);
    expect(done.status).toBe('failed');
    expect(done.error?.message).toMatch(/Injected failure after 8 tables/);
    expect(await dumpDatabase(app.strapi, { indexes: true })).toEqual(beforeWithIndexes);
    expect(hashUploads(app.publicDir)).toEqual(uploadsBefore);
  });

  it('puts rows, indexes and media files back when the restore fails after its files were swapped', async () => {
    // Uploads that differ from the backup: a file the backup lacks (a full restore removes it)
    // and a file of the backup gone from disk (a full restore brings it back).
    const uploads = path.join(app.publicDir, 'uploads');
    const [gone] = Object.keys(uploadsBefore).sort();
    const goneBytes = fs.readFileSync(path.join(uploads, gone));
    fs.writeFileSync(path.join(uploads, 'added-after-the-backup.txt'), 'not in the backup');
    fs.rmSync(path.join(uploads, gone));
    const uploadsNow = hashUploads(app.publicDir);
    try {
      const job = await app.strapi.plugin('pacta-backup').service('backups').startRestore(plainId, { confirm: true }, { failBeforeCommit: true });
      const done = await waitForJob(admin, job.id);
      expect(done.status).toBe('failed');
      expect(done.error?.message).toMatch(/Injected failure after the media files were swapped/);
      expect(done.log.join('\n')).toMatch(/with 1 files the restore removes/);
      expect(await dumpDatabase(app.strapi, { indexes: true })).toEqual(beforeWithIndexes);
      expect(hashUploads(app.publicDir)).toEqual(uploadsNow);
      expect(fs.readdirSync(app.publicDir).filter((name) => name.startsWith('.pacta'))).toEqual([]);
    } finally {
      fs.rmSync(path.join(uploads, 'added-after-the-backup.txt'), { force: true });
      fs.writeFileSync(path.join(uploads, gone), goneBytes);
    }
    expect(hashUploads(app.publicDir)).toEqual(uploadsBefore);
  });

  it('never takes admin users or the config store from an archive that is not sealed with this app\'s key', async () => {
    // An attacker who can write into the storage folder drops a plain archive whose admin_users
    // rows carry a password hash of their own.
    const id = await forge(plainId, (entries) => {
      const manifestEntry = entries.find((e) => e.name === 'manifest.json')!;
      const manifest = JSON.parse(manifestEntry.data.toString('utf8'));
      const admins = before.admin_users as Array<Array<[string, unknown]>>;
      const columns = admins[0].map(([column]) => ({ name: column, type: column === 'id' ? 'increments' : 'string' }));
      const rows = admins.map((row) => row.map(([column, value]) => (column === 'password' ? '$2a$10$attackerattackerattackerattackerattackerattackerat' : value)));
      const data = Buffer.from(rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
      entries.push({ name: 'tables/admin_users.ndjson', data });
      manifest.tables.push({ name: 'admin_users', group: 'admin', owner: 'admin::user', columns, rows: rows.length, nextId: null, mode: 'replace', filter: null, entry: 'tables/admin_users.ndjson' });
      manifest.entries.push({ path: 'tables/admin_users.ndjson', size: data.length, sha256: createHash('sha256').update(data).digest('hex'), compressed: false });
      manifest.scope.adminUsers = true;
      manifestEntry.data = Buffer.from(JSON.stringify(manifest));
      entries.find((e) => e.name === 'manifest.sha256')!.data = Buffer.from(createHash('sha256').update(manifestEntry.data).digest('hex'));
    });
    const asked = await admin.post(`/pacta-backup/backups/${id}/restore`, { confirm: true, adminUsers: true });
    expect(asked.status).toBe(400);
    expect(asked.body.error.message).toMatch(/only restored from an encrypted backup made with this app's key/);
    const config = await admin.post(`/pacta-backup/backups/${plainId}/restore`, { confirm: true, config: true });
    expect(config.status).toBe(400);
    // Its content alone may be restored: the admin accounts stay as they are.
    const job = await runJob(admin, `/pacta-backup/backups/${id}/restore`, { confirm: true, contentTypes: ['api::tag.tag'], media: false });
    expect(job.error).toBeNull();
    expect((await dumpDatabase(app.strapi, { only: ['admin_users'] })).admin_users).toEqual(before.admin_users);
    expect((await admin.get('/pacta-backup/backups')).status).toBe(200);
    // Put the tag created after the backups back, as the other tests expect it.
    await app.strapi.documents('api::tag.tag').create({ data: { name: 'Made after the backups' } as never });
    before = await dumpDatabase(app.strapi);
    beforeWithIndexes = await dumpDatabase(app.strapi, { indexes: true });
  });

  it('restores an encrypted backup with admin users; admins log in again with the restored accounts', async () => {
    const started = await admin.post(`/pacta-backup/backups/${encryptedId}/restore`, { confirm: true, adminUsers: true, config: true });
    expect(started.status).toBe(202);
    expect(started.body.data.warnings).toEqual([expect.stringMatching(/admin sessions end/)]);
    // The admin's own session ends with the restore: follow the job from the server side.
    const job = await app.strapi.plugin('pacta-backup').service('jobs').wait(started.body.data.id, { timeoutMs: 170_000 });
    expect(job.error).toBeNull();
    expect(job.result).toMatchObject({ adminSessionsEnded: true, safetyBackupId: expect.any(String) });
    // The session of the admin who restored has ended…
    expect((await admin.get('/pacta-backup/backups')).status).toBe(401);
    // …and the restored account logs in.
    admin = await login(app.strapi, superAdminCredentials);
    expect((await admin.get('/pacta-backup/backups')).status).toBe(200);
    const tags = await app.strapi.db.query('api::tag.tag').findMany({ where: { name: 'Made after the backups' } });
    expect(tags).toEqual([]);
  });
});
