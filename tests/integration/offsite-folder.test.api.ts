import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Backup, OffsiteCatalogue } from '../../server/src/contracts/backups';
import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, describeOn, startApp, type TestApp } from '../helpers/app';
import { CLI, OFFSITE_FAULTS as FAULTS, killCliWhenPaused, runCli } from '../helpers/cli';
import { hashUploads } from '../helpers/dump';
import { runJob } from '../helpers/jobs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/**
 * Off-site copies to a folder (a second disk, an NFS or SMB share), with the app booted in this
 * process and the CLI beside it: Settings tests the folder and switches copies on (where they go
 * stays config/plugins.ts only); each backup copied with its SHA-256; a copy that fails (an
 * injected fault: faulty.ts) or that a kill -9 stops leaves the backup complete, says so, raises
 * the alert, and the next backup copies it again; a share that is not mounted fails loudly and
 * creates nothing; after a disaster the folder alone gives back a backup that restores. The
 * copy does not depend on the database engine: SQLite only.
 */
describeOn('sqlite')(`off-site copies to a folder on ${databaseClient}`, () => {
  let tmp: string;
  let nas: string;
  let app: TestApp;
  let admin: Agent;
  const copies: Record<string, Backup> = {};

  const backups = async () => (await admin.get('/pacta-backup/backups')).body.data as Backup[];
  const backupOf = async (id: string) => (await backups()).find((b) => b.id === id)!;
  const offsiteAlerts = async () =>
    ((await admin.get('/pacta-backup/alerts')).body.data as Array<{ type: string; backupId?: string; message: string }>).filter((a) => a.type === 'offsite-failed');
  const backup = async (name: string) => {
    const job = await runJob(admin, '/pacta-backup/backups', { name });
    expect(job.status).toBe('succeeded');
    return job;
  };
  const inFolder = () => fs.readdirSync(nas).sort();
  /** Runs the CLI beside the app (same database and storage) and kill -9s it in a stalled off-site call. */
  const killWhenPaused = (args: string[], faults: string, marker: string) => killCliWhenPaused(args, { faults, marker });
  const local = (id: string) => path.join(app.backupsDir, `${id}.pacta.zip`);

  beforeAll(async () => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build it with npm run build`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-offsite-folder-'));
    nas = path.join(tmp, 'nas');
    fs.mkdirSync(nas);
    app = await startApp({
      // Where copies go comes from config/plugins.ts; an admin switches them on in Settings (below).
      env: {
        PACTA_BACKUP_OFFSITE_BACKEND: 'local',
        PACTA_BACKUP_OFFSITE_FOLDER: nas,
      },
    });
    await seed(app.strapi, { documents: 8, media: 2, seed: 5 });
    admin = await loginAsSuperAdmin(app.strapi);
  });

  afterEach(() => {
    delete process.env[FAULTS];
  });

  afterAll(async () => {
    delete process.env[FAULTS];
    await app?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('Settings shows where copies go, tests it, and switches copies on; where they go is not editable there', async () => {
    const settings = (await admin.get('/pacta-backup/settings')).body.data;
    expect(settings.offsite).toEqual({ backend: 'local', location: nas });
    expect(settings.values['offsite.enabled']).toBe(false);
    expect(settings.fixed).not.toContain('offsite.enabled');

    const probe = await admin.post('/pacta-backup/offsite/test', {});
    expect(probe.status).toBe(200);
    expect(probe.body.data).toMatchObject({ ok: true, location: nas, seconds: expect.any(Number) });
    expect(inFolder()).toEqual([]);

    // The location, the backend and the key variables are config/plugins.ts only.
    for (const body of [{ offsite: { folder: path.join(tmp, 'elsewhere') } }, { offsite: { backend: 's3' } }, { offsite: { accessKeyIdEnv: 'DATABASE_PASSWORD' } }]) {
      const refused = await admin.put('/pacta-backup/settings', body);
      expect(refused.status).toBe(400);
    }
    expect((await admin.put('/pacta-backup/settings', { offsite: { idleTimeoutSeconds: 0 } })).status).toBe(400);

    const saved = await admin.put('/pacta-backup/settings', { offsite: { enabled: true, idleTimeoutSeconds: 600 } });
    expect(saved.status).toBe(200);
    expect(saved.body.data.values).toMatchObject({ 'offsite.enabled': true, 'offsite.idleTimeoutSeconds': 600 });
  });

  it('copies each new backup into the folder with the SHA-256 of its bytes', async () => {
    const job = await backup('To the share');
    const id = job.backupId!;
    copies.first = await backupOf(id);
    expect(copies.first.offsite).toMatchObject({ status: 'copied', location: nas, sha256: sha256(local(id)) });
    expect(inFolder()).toEqual([`${id}.pacta.zip`, `${id}.pacta.zip.meta.json`]);
    expect(sha256(path.join(nas, `${id}.pacta.zip`))).toBe(sha256(local(id)));
    expect(JSON.parse(fs.readFileSync(path.join(nas, `${id}.pacta.zip.meta.json`), 'utf8'))).toEqual({ sha256: sha256(local(id)) });
    expect(job.log.join('\n')).toContain(`copied ${id}.pacta.zip off-site to ${nas}`);
    expect(await offsiteAlerts()).toEqual([]);
  });

  it('keeps a backup whose copy fails, raises the alert, and the next backup copies both', async () => {
    process.env[FAULTS] = 'write:1:fail';
    const failedJob = await backup('Share refused');
    const failed = await backupOf(failedJob.backupId!);
    expect(failed.status).toBe('ok');
    expect(failed.offsite).toMatchObject({ status: 'failed', error: expect.stringContaining('injected fault: write #1 failed') });
    expect(inFolder().filter((name) => name.startsWith(failed.id) || name.startsWith('.partial'))).toEqual([]);
    expect(await offsiteAlerts()).toEqual([expect.objectContaining({ backupId: failed.id, message: expect.stringContaining('injected fault') })]);

    delete process.env[FAULTS];
    const healedJob = await backup('Share back');
    expect(healedJob.log.join('\n')).toContain(`copied off-site 1 earlier backup(s) whose copy had failed or was interrupted: ${failed.id}`);
    for (const id of [failed.id, healedJob.backupId!]) {
      expect((await backupOf(id)).offsite).toMatchObject({ status: 'copied', sha256: sha256(local(id)) });
      expect(sha256(path.join(nas, `${id}.pacta.zip`))).toBe(sha256(local(id)));
    }
    expect(await offsiteAlerts()).toEqual([]);
  });

  it('after kill -9 in the middle of a copy: the backup is complete, its copy pending, then copied by the next backup', async () => {
    // The CLI beside the app (same database and storage), its copy stalled at the first bytes.
    const pid = await killWhenPaused(['backup', '--name', 'Killed while copying', '--json'], 'write:1:stall', 'offsite-write');

    const interrupted = (await backups()).find((b) => b.name === 'Killed while copying')!;
    expect(interrupted.status).toBe('ok');
    expect(interrupted.offsite).toMatchObject({ status: 'pending', location: nas });
    expect(inFolder().filter((name) => name.startsWith(interrupted.id))).toEqual([]);
    // What the dead copy left in the share: its temporary file, never listed.
    expect(inFolder().filter((name) => name.startsWith('.partial@'))).toEqual([expect.stringContaining(`.${pid}.`)]);
    expect((await runCli(['list', '--offsite', '--json'])).stdout).not.toContain(interrupted.id);
    // No job runs now: the alert says the copy was interrupted.
    const alerts = await offsiteAlerts();
    expect(alerts).toEqual([expect.objectContaining({ backupId: interrupted.id, message: expect.stringContaining('was interrupted') })]);

    const next = await backup('After the crash');
    expect((await backupOf(interrupted.id)).offsite).toMatchObject({ status: 'copied', sha256: sha256(local(interrupted.id)) });
    expect(sha256(path.join(nas, `${interrupted.id}.pacta.zip`))).toBe(sha256(local(interrupted.id)));
    expect((await backupOf(next.backupId!)).offsite?.status).toBe('copied');
    // The dead writer's temporary file went with the next write into the share.
    expect(inFolder().filter((name) => name.startsWith('.partial'))).toEqual([]);
    expect(await offsiteAlerts()).toEqual([]);
  });

  it('a share that is not mounted: the copy fails loudly and nothing is written under its mount point', async () => {
    const moved = `${nas}-unmounted`;
    fs.renameSync(nas, moved);
    try {
      const job = await backup('Share gone');
      const gone = await backupOf(job.backupId!);
      expect(gone.offsite).toMatchObject({ status: 'failed', error: expect.stringContaining('does not exist (is its disk or share mounted?)') });
      // Settings' test says the same.
      const probe = await admin.post('/pacta-backup/offsite/test', {});
      expect(probe.body.data).toMatchObject({ ok: false, location: nas, error: expect.stringContaining('is its disk or share mounted?') });
      expect(fs.existsSync(nas)).toBe(false);
    } finally {
      fs.renameSync(moved, nas);
    }
    // Mounted again: `copy` copies it now, without waiting for the next backup.
    const gone = (await backups()).find((b) => b.name === 'Share gone')!;
    const copied = await runCli(['copy', gone.id, '--json']);
    expect(copied.code).toBe(0);
    expect(JSON.parse(copied.stdout)).toMatchObject({ status: 'copied', location: nas });
  });

  it('deduplicated copies: the next backup sends only what changed, and comes back byte for byte', async () => {
    expect((await admin.put('/pacta-backup/settings', { offsite: { deduplicate: true } })).status).toBe(200);
    const first = await backupOf((await backup('Deduplicated, first')).backupId!);
    const second = await backupOf((await backup('Deduplicated, unchanged')).backupId!);
    for (const b of [first, second]) {
      expect(b.offsite).toMatchObject({ status: 'copied', sha256: sha256(local(b.id)), deduplicated: { sentBytes: expect.any(Number), reusedBytes: expect.any(Number) } });
      expect(inFolder()).toContain(`${b.id}.pacta.index`);
      expect(inFolder()).not.toContain(`${b.id}.pacta.zip`);
    }
    // Nothing changed: the media files and the tables were there already (on this small app the
    // index's zip headers are most of what goes; on the S dataset 2.7 % of the archive).
    expect(second.offsite!.deduplicated!.reusedBytes).toBeGreaterThan(0);
    expect(second.offsite!.deduplicated!.sentBytes).toBeLessThan(second.size / 2);

    // The catalogue and the CLI see it; brought back, it is the same archive.
    const listed = JSON.parse((await runCli(['list', '--offsite', '--json'])).stdout) as Array<{ id: string; size: number; deduplicated: boolean }>;
    expect(listed.find((c) => c.id === second.id)).toEqual(expect.objectContaining({ size: second.size, deduplicated: true }));
    const before = sha256(local(second.id));
    fs.rmSync(local(second.id));
    const fetched = await runJob(admin, `/pacta-backup/offsite/${second.id}/fetch`);
    expect(fetched.status).toBe('succeeded');
    expect(sha256(local(second.id))).toBe(before);
    expect((await admin.put('/pacta-backup/settings', { offsite: { deduplicate: false } })).status).toBe(200);
  });

  it('the repository check reads the copies back, names the backups damage breaks, and its figures reach the metrics', async () => {
    expect((await admin.put('/pacta-backup/settings', { offsite: { deduplicate: true } })).status).toBe(200);
    const checked = await backupOf((await backup('Checked')).backupId!);
    const healthy = await runCli(['check', '--sample', '100', '--json']);
    expect(healthy.code).toBe(0);
    const report = JSON.parse(healthy.stdout);
    expect(report).toMatchObject({ damaged: [], affected: [], sampled: { objects: expect.any(Number) } });
    expect(report.sampled.objects).toBeGreaterThan(3);
    // Three deduplicated backups share most of their bytes; the whole archives do not.
    expect(report.storedBytes).toBeLessThan(report.logicalBytes);
    const metrics = (await admin.get('/pacta-backup/metrics')).body.data;
    expect(metrics.offsite).toEqual({
      at: expect.any(String),
      backups: report.backups,
      objects: report.objects,
      storedBytes: report.storedBytes,
      logicalBytes: report.logicalBytes,
      ratio: Number((report.storedBytes / report.logicalBytes).toFixed(4)),
    });
    const prometheus = (await admin.get('/pacta-backup/metrics?format=prometheus')).text;
    expect(prometheus).toContain(`pacta_backup_offsite_bytes{kind="stored"} ${report.storedBytes}`);
    expect(prometheus).toContain(`pacta_backup_offsite_dedup_ratio ${metrics.offsite.ratio}`);

    // Rot in the share: one byte of the largest object (a media file every deduplicated backup holds).
    const [largest] = inFolder()
      .filter((name) => name.startsWith('obj-') && !name.endsWith('.meta.json'))
      .sort((a, b) => fs.statSync(path.join(nas, b)).size - fs.statSync(path.join(nas, a)).size);
    const file = path.join(nas, largest);
    const original = fs.readFileSync(file);
    const rotten = Buffer.from(original);
    rotten[rotten.length >> 1] ^= 0xff;
    fs.writeFileSync(file, rotten);
    const found = await runCli(['check', '--sample', '100', '--json']);
    expect(found.code).toBe(1);
    const damage = JSON.parse(found.stdout);
    expect(damage.damaged).toEqual([{ name: largest, reason: expect.stringContaining('SHA-256 does not match') }]);
    expect(damage.affected).toContain(checked.id);
    // A sample of none reads nothing back: the rot stays unseen (what the percentage trades).
    expect((await runCli(['check', '--sample', '0'])).code).toBe(0);
    // Through the API: the job fails, and the alert names the backups.
    const job = await runJob(admin, '/pacta-backup/offsite/check', { samplePercent: 100 });
    expect(job).toMatchObject({ type: 'check', status: 'failed', error: { code: 'CHECKSUM', message: expect.stringContaining(largest) } });
    const alerts = (await admin.get('/pacta-backup/alerts')).body.data as Array<{ type: string; message: string }>;
    expect(alerts).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'offsite-damaged', message: expect.stringContaining(checked.id) })]));

    // Repaired by copying a backup that holds it again: the damaged object is sent, not reused.
    const repaired = await runCli(['copy', checked.id, '--json']);
    expect(repaired.code).toBe(0);
    expect(fs.readFileSync(file).equals(original)).toBe(true);
    expect((await runJob(admin, '/pacta-backup/offsite/check', { samplePercent: 100 })).status).toBe('succeeded');
    expect(((await admin.get('/pacta-backup/alerts')).body.data as Array<{ type: string }>).map((a) => a.type)).not.toContain('offsite-damaged');
  });

  it('purge collects the objects no backup uses; a kill -9 in the middle of it loses nothing, and the next purge finishes', async () => {
    // Two deduplicated backups deleted: their indexes go at once; the objects only they used (each
    // its own jobs table) stay until a purge.
    const doomed = [await backupOf((await backup('Deleted, its objects collected')).backupId!), (await backups()).find((b) => b.name === 'Checked')!];
    for (const { id } of doomed) {
      expect((await admin.delete(`/pacta-backup/backups/${id}`)).status).toBe(200);
      expect(inFolder()).not.toContain(`${id}.pacta.index`);
    }
    // Younger than the margin (an hour): a copy running elsewhere may be about to name them.
    const young = JSON.parse((await runCli(['purge', '--dry-run', '--json'])).stdout);
    expect(young.offsite).toMatchObject({ objects: 0 });
    // Two hours later.
    const past = new Date(Date.now() - 2 * 3600 * 1000);
    for (const name of inFolder().filter((n) => n.startsWith('obj-'))) fs.utimesSync(path.join(nas, name), past, past);
    const dry = JSON.parse((await runCli(['purge', '--dry-run', '--json'])).stdout);
    expect(dry).toMatchObject({ dryRun: true, removed: [] });
    expect(dry.offsite.objects).toBeGreaterThanOrEqual(2);
    expect(dry.offsite.storedBeforeBytes - dry.offsite.storedAfterBytes).toBe(dry.offsite.bytes);

    // kill -9 as the purge deletes its first object, then (the next purge) its second.
    const objects = () => inFolder().filter((n) => n.startsWith('obj-') && !n.endsWith('.meta.json'));
    const objectsBefore = objects();
    let left = dry.offsite.objects;
    for (const nth of [1, 2]) {
      await killWhenPaused(['purge', '--yes', '--json'], `delete:${nth}:stall`, 'offsite-delete');
      left -= nth - 1;
      expect(objects()).toHaveLength(objectsBefore.length - (dry.offsite.objects - left));
      // Every backup off-site still comes back whole: each index read, each object read against its SHA-256.
      const after = await runCli(['check', '--sample', '100', '--json']);
      expect(after.code).toBe(0);
      expect(JSON.parse(after.stdout)).toMatchObject({ damaged: [] });
    }

    // The dead purge's job lock is taken over at once (its pid is gone); the next purge collects the rest.
    const done = await runCli(['purge', '--yes', '--json']);
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout).offsite).toMatchObject({ objects: left });
    expect(objects()).toHaveLength(objectsBefore.length - dry.offsite.objects);
    expect(JSON.parse((await runCli(['purge', '--dry-run', '--json'])).stdout).offsite).toMatchObject({ objects: 0 });
    // And a job starts as usual.
    await backup('After the purge');
    expect((await admin.put('/pacta-backup/settings', { offsite: { deduplicate: false } })).status).toBe(200);
  });

  it('after a disaster, the folder alone gives back a backup that restores (the admin panel\'s Bring back)', async () => {
    const { id } = copies.first;
    const before = hashUploads(app.publicDir);
    // The machine is lost: its backups and its uploads with it.
    fs.rmSync(local(id));
    fs.rmSync(path.join(app.publicDir, 'uploads'), { recursive: true, force: true });
    fs.mkdirSync(path.join(app.publicDir, 'uploads'));

    const listed = JSON.parse((await runCli(['list', '--offsite', '--json'])).stdout) as Array<{ id: string }>;
    expect(listed.map((o) => o.id)).toContain(id);
    // The admin panel's catalogue of the folder: this one is there only.
    const catalogue = (await admin.get('/pacta-backup/offsite')).body.data as OffsiteCatalogue;
    expect(catalogue).toMatchObject({ enabled: true, backend: 'local', location: nas });
    expect(catalogue.backups.filter((b) => !b.local).map((b) => b.id)).toEqual([id]);
    expect(catalogue.bytes).toBe(catalogue.backups.reduce((n, b) => n + b.size, 0));

    // Refused at the door: one that is here already, one that is no backup id.
    const here = catalogue.backups.find((b) => b.local)!;
    expect((await admin.post(`/pacta-backup/offsite/${here.id}/fetch`, {})).status).toBe(400);
    expect((await admin.post('/pacta-backup/offsite/..%2F..%2Fetc/fetch', {})).status).toBe(404);

    const fetched = await runJob(admin, `/pacta-backup/offsite/${id}/fetch`);
    expect(fetched).toMatchObject({ type: 'fetch', status: 'succeeded', backupId: id });
    expect(fetched.log.join('\n')).toContain('its SHA-256 checked');
    expect(sha256(local(id))).toBe(sha256(path.join(nas, `${id}.pacta.zip`)));
    expect((await backupOf(id)).offsite).toMatchObject({ status: 'copied', location: nas });

    const restore = await runJob(admin, `/pacta-backup/backups/${id}/restore`, { confirm: true });
    expect(restore.status).toBe('succeeded');
    expect(hashUploads(app.publicDir)).toEqual(before);
    const counts = (await app.strapi.db.query('api::contract.contract').count({})) as number;
    expect(counts).toBe(copies.first.counts['api::contract.contract']);
  });
});
