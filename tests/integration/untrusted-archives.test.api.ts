import fs from 'node:fs';
import path from 'node:path';

import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, describeOn, startApp, type TestApp } from '../helpers/app';
import { runJob } from '../helpers/jobs';
import { deflateBomb, readZip, writeZip } from '../helpers/zip';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

const KEY = 'correct horse battery staple';

interface Listed {
  id: string;
  status: string;
  encrypted: boolean;
  kind: string;
  createdAt: string;
  error?: string;
}

/**
 * The catalogue's reading of archives in the storage folder: nothing here reaches the database,
 * so it runs on SQLite only (restores on every engine: backup-restore and crash-restore).
 */
describeOn('sqlite')(`stored archives are untrusted input, on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;
  let encryptedId: string;

  const archive = (id: string) => path.join(app.backupsDir, `${id}.pacta.zip`);
  const list = async (): Promise<Listed[]> => {
    const res = await admin.get('/pacta-backup/backups');
    expect(res.status).toBe(200);
    return res.body.data;
  };
  const listed = async (id: string) => (await list()).find((b) => b.id === id)!;

  beforeAll(async () => {
    app = await startApp();
    await seed(app.strapi, { documents: 6, media: 2, seed: 5 });
    admin = await loginAsSuperAdmin(app.strapi);
    process.env.PACTA_BACKUP_KEY = KEY;
    encryptedId = (await runJob(admin, '/pacta-backup/backups', {})).backupId!;
  });

  afterAll(async () => {
    delete process.env.PACTA_BACKUP_KEY;
    await app?.stop();
  });

  it('keeps no table name, row count or upload path of an encrypted backup in clear', async () => {
    const bytes = fs.readFileSync(archive(encryptedId));
    for (const clear of ['contracts', 'suppliers', 'files_related_mph', '/uploads/', '"rows"', 'api::contract.contract']) {
      expect(bytes.includes(Buffer.from(clear))).toBe(false);
    }
    const names = (await readZip(archive(encryptedId))).map((e) => e.name);
    expect(names.filter((n) => !n.startsWith('data/')).sort()).toEqual(['manifest.enc', 'manifest.json', 'manifest.sha256']);
    const backup = await listed(encryptedId);
    expect(backup).toMatchObject({ status: 'ok', encrypted: true, kind: 'manual' });
    const verify = await runJob(admin, `/pacta-backup/backups/${encryptedId}/verify`, {});
    expect(verify.status).toBe('succeeded');
  });

  it('lists an encrypted backup the configured key cannot open as locked, in its place, with the reason', async () => {
    const before = await listed(encryptedId);
    try {
      process.env.PACTA_BACKUP_KEY = 'another key entirely';
      expect(await listed(encryptedId)).toMatchObject({
        status: 'damaged',
        encrypted: true,
        kind: 'manual',
        createdAt: before.createdAt,
        error: 'Locked: The encryption key does not open this backup (wrong key)',
      });
      delete process.env.PACTA_BACKUP_KEY;
      expect(await listed(encryptedId)).toMatchObject({
        status: 'damaged',
        encrypted: true,
        error: 'Locked: The backup is encrypted and no encryption key is configured',
      });
    } finally {
      process.env.PACTA_BACKUP_KEY = KEY;
    }
    expect(await listed(encryptedId)).toMatchObject({ status: 'ok', encrypted: true });
  });

  it('reads a manifest bomb once: refused at the cap, the failure cached until the file changes', async () => {
    const id = '20990101-000000-bomb01';
    const file = archive(id);
    // 1 MB of zip whose manifest inflates to 1 GiB, its header claiming 1,000 bytes.
    const entries = await readZip(archive(encryptedId));
    writeZip(file, [
      { name: 'manifest.json', data: Buffer.alloc(0), deflated: deflateBomb(1024 * 1024 * 1024), declaredSize: 1000 },
      ...entries.filter((e) => e.name !== 'manifest.json'),
    ]);
    const rss = process.memoryUsage().rss;

    const first = await listed(id);
    expect(first).toMatchObject({ status: 'damaged', error: 'The manifest is larger than the limit of 33554432 bytes' });
    expect((await listed(encryptedId)).status).toBe('ok');

    // Same size, same modification time, other bytes: a listing that read the file again would
    // now say it is no zip at all. The second listing still reports the bomb: it was not re-read.
    const stat = fs.statSync(file);
    fs.writeFileSync(file, Buffer.alloc(stat.size));
    fs.utimesSync(file, stat.atime, stat.mtime);
    expect(fs.statSync(file).mtime.getTime()).toBe(stat.mtime.getTime());
    expect(await listed(id)).toMatchObject({ status: 'damaged', error: first.error });

    // Neither listing held the inflated manifest (the unbounded reader grew the server by 1.5 GB).
    expect(process.memoryUsage().rss - rss).toBeLessThan(128 * 1024 * 1024);

    // A new version of the file is read again.
    fs.utimesSync(file, stat.atime, new Date(stat.mtime.getTime() + 60_000));
    expect(await listed(id)).toMatchObject({ status: 'damaged', error: expect.stringMatching(/^Not a readable backup archive/) });
    fs.rmSync(file);
  });

  it('lists an archive with two manifests as damaged, and refuses to restore it', async () => {
    const id = '20990101-000000-dup001';
    const entries = await readZip(archive(encryptedId));
    const manifest = entries.find((e) => e.name === 'manifest.json')!;
    writeZip(archive(id), [...entries, { name: 'manifest.json', data: Buffer.from(manifest.data) }]);
    expect(await listed(id)).toMatchObject({ status: 'damaged', error: 'The archive holds two entries named manifest.json' });
    const job = await runJob(admin, `/pacta-backup/backups/${id}/restore`, { confirm: true });
    expect(job).toMatchObject({ status: 'failed', error: { code: 'BAD_ENTRY' } });
    fs.rmSync(archive(id));
  });
});
