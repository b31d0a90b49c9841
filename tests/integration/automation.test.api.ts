import fs from 'node:fs';
import path from 'node:path';

import type { Backup, Job, PurgeResult } from '../../server/src/contracts/backups';
import type { PluginLogger } from '../../server/src/logging/logger';
import { loginAsSuperAdmin, superAdminCredentials, type Agent } from '../helpers/agent';
import { databaseClient, startApp, type TestApp } from '../helpers/app';
import { runJob, waitForJob } from '../helpers/jobs';
import { latch, until, withDeadline } from '../helpers/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

const KEY = 'automation-passphrase-4f1c9e';

/** Every line of the plugin's log files. */
const logLines = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean));

describe(`automatic backups, retention, alerts, metrics and drills on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;
  const scheduler = () => app.strapi.plugin('pacta-backup').service('scheduler');
  const jobsService = () => app.strapi.plugin('pacta-backup').service('jobs');
  /** Lets a job in progress in this process end (a scheduled run the schedule started). */
  const noJobRunning = () => until('the job in progress to end', () => !jobsService().running(), { timeoutMs: 60_000 });
  const backups = async (): Promise<Backup[]> => (await admin.get('/pacta-backup/backups')).body.data;

  beforeAll(async () => {
    // A schedule every 3 seconds, retention of 2 days, a passphrase: scheduled backups are encrypted.
    app = await startApp({
      env: {
        PACTA_BACKUP_ENABLED: 'true',
        PACTA_BACKUP_SCHEDULE: '*/3 * * * * *',
        PACTA_BACKUP_RETENTION_DAILY: '2',
        PACTA_BACKUP_RETENTION_WEEKLY: '0',
        PACTA_BACKUP_TIMEZONE: 'Europe/Madrid',
        PACTA_BACKUP_KEY: KEY,
      },
    });
    await scheduler().stop();
    // A tick may have come while Strapi booted: start from no backup and no history.
    const service = app.strapi.plugin('pacta-backup').service('backups');
    for (const backup of await service.list()) await service.remove(backup.id);
    await app.strapi.db.connection('pacta_backup_jobs').del();
    await seed(app.strapi, { documents: 8, media: 2, seed: 11 });
    admin = await loginAsSuperAdmin(app.strapi);
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('reports the schedule with its next run, and a stale alert while there is no backup', async () => {
    const asked = Date.now();
    const schedule = (await admin.get('/pacta-backup/schedule')).body.data;
    const answered = Date.now();
    expect(schedule).toMatchObject({ enabled: true, timezone: 'Europe/Madrid', backup: { schedule: '*/3 * * * * *' } });
    // The next multiple of 3 seconds after the moment the server answered.
    const next = Date.parse(schedule.backup.nextRun);
    expect(next % 3000).toBe(0);
    expect(next).toBeGreaterThan(asked - 1000);
    expect(next).toBeLessThanOrEqual(answered + 3000);
    const alerts = (await admin.get('/pacta-backup/alerts')).body.data;
    expect(alerts).toEqual([expect.objectContaining({ type: 'stale', severity: 'error', message: 'There is no successful backup yet' })]);
  });

  it('runs the scheduled backup on its schedule, verified and encrypted, recorded as a scheduled job', async () => {
    scheduler().start();
    // node-cron fires on the real clock: every 3 s here, so 30 s is ten chances.
    await until('a backup written by the "*/3 * * * * *" schedule', async () => (await backups()).some((b) => b.kind === 'scheduled'), {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    await scheduler().stop();
    const list = await backups();
    const scheduled = list.filter((b) => b.kind === 'scheduled');
    expect(scheduled.length).toBeGreaterThanOrEqual(1);
    expect(scheduled[0]).toMatchObject({ encrypted: true, status: 'ok', verifiedAt: expect.any(String), keep: false });
    // Let a run in progress end before looking at the history.
    await noJobRunning();
    const history: Job[] = (await admin.get('/pacta-backup/jobs?type=backup')).body.data;
    const job = history.find((j) => j.backupId === scheduled[0].id)!;
    expect(job).toMatchObject({ type: 'backup', trigger: 'scheduled', status: 'succeeded' });
    expect(job.measures.bytes).toBe(scheduled[0].size);
    // Archive bytes / bytes before compression (above 1 only for a nearly empty app).
    expect(job.measures.ratio).toBeGreaterThan(0);
    expect((await admin.get('/pacta-backup/alerts')).body.data).toEqual([]);
  });

  it('retries a failed scheduled backup once after a delay, and alerts while the last one failed', async () => {
    // A full disk is simulated by a storage folder that cannot be written: a file in its place.
    const folder = app.backupsDir;
    const aside = `${folder}-aside`;
    fs.renameSync(folder, aside);
    fs.writeFileSync(folder, 'not a folder');
    // No race with a clock: the retry delay is long, the scheduler says when it starts waiting
    // (its warning), and stop() — what a shutdown does — ends the delay once the test is ready.
    const logger: PluginLogger = app.strapi.plugin('pacta-backup').service('logger').get();
    const warn = logger.warn;
    const waitingToRetry = latch<string>();
    const spy = jest.spyOn(logger, 'warn').mockImplementation((message, fields) => {
      warn(message, fields);
      if (message.startsWith('scheduled backup failed; trying again')) waitingToRetry.release(message);
    });
    const historyBefore = ((await admin.get('/pacta-backup/jobs?type=backup')).body.data as Job[]).map((j) => j.id);
    try {
      const run = scheduler().runScheduledBackup({ retryDelayMs: 10 * 60_000 });
      expect(await withDeadline('the first scheduled attempt to fail', waitingToRetry.reached)).toMatch(/trying again in 600 s/);
      const attempts = ((await admin.get('/pacta-backup/jobs?type=backup')).body.data as Job[]).filter((j) => !historyBefore.includes(j.id));
      // One attempt so far, failed; the retry has not started.
      expect(attempts).toEqual([expect.objectContaining({ status: 'failed', trigger: 'scheduled', error: expect.objectContaining({ message: expect.any(String) }) })]);
      const failed = attempts[0];
      const alerts = (await admin.get('/pacta-backup/alerts')).body.data;
      expect(alerts).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'failed-job', jobId: failed.id })]));
      // The disk comes back, the delay ends: the retry succeeds.
      fs.rmSync(folder);
      fs.renameSync(aside, folder);
      await scheduler().stop();
      const retried = (await withDeadline('the retried scheduled backup', run)) as Job;
      expect(retried).toMatchObject({ status: 'succeeded', trigger: 'scheduled' });
      expect(retried.id).not.toBe(failed.id);
    } finally {
      spy.mockRestore();
    }
    expect((await admin.get('/pacta-backup/alerts')).body.data.filter((a: { type: string }) => a.type === 'failed-job')).toEqual([]);
  });

  it('leaves manual backups alone in the purge after a scheduled backup, unless retention.includeManual is on', async () => {
    // A manual backup named by its author, then a scheduled run (its backup, then its purge).
    expect((await runJob(admin, '/pacta-backup/backups', { name: 'baseline' })).status).toBe('succeeded');
    const baseline = (await backups()).find((b) => b.name === 'baseline')!;
    const scheduledBefore = (await backups()).filter((b) => b.kind === 'scheduled');
    const run = (await scheduler().runScheduledBackup({ retryDelayMs: 0 })) as Job;
    expect(run.status).toBe('succeeded');
    const after = await backups();
    expect(after.map((b) => b.id)).toContain(baseline.id);
    // The scheduled ones follow the policy: today's newest stays, the older ones of today went.
    expect(after.filter((b) => b.kind === 'scheduled').map((b) => b.id)).toEqual([run.backupId]);
    expect(scheduledBefore.length).toBeGreaterThanOrEqual(1);
    const dry: PurgeResult = (await admin.post('/pacta-backup/purge', { dryRun: true })).body.data;
    expect(dry.kept.find((b) => b.id === baseline.id)!.reasons).toEqual(['manual backup: the purge leaves it (retention.includeManual is off)']);
    expect(dry.removed).toEqual([]);

    // includeManual on: manual backups count like scheduled ones (the test below).
    expect((await admin.put('/pacta-backup/settings', { retention: { includeManual: true } })).status).toBe(200);
    expect((await admin.get('/pacta-backup/settings')).body.data.values['retention.includeManual']).toBe(true);
    // Saving settings restarts the schedule (every 3 s here): stopped again.
    await scheduler().stop();
    await noJobRunning();
  });

  it('purges by the policy: a dry run lists, keep protects, the newest is never deleted', async () => {
    // Three manual backups; the policy keeps the newest of each of the last 2 days: today only the newest.
    for (const name of ['one', 'two', 'three']) expect((await runJob(admin, '/pacta-backup/backups', { name })).status).toBe('succeeded');
    const all = await backups();
    const one = all.find((b) => b.name === 'one')!;
    const kept = await admin.patch(`/pacta-backup/backups/${one.id}`, { keep: true });
    expect(kept.status).toBe(200);
    expect(kept.body.data).toMatchObject({ id: one.id, keep: true });
    expect((await admin.patch(`/pacta-backup/backups/${one.id}`, { keep: 'yes' })).status).toBe(400);

    const dry: PurgeResult = (await admin.post('/pacta-backup/purge', { dryRun: true })).body.data;
    expect(dry.dryRun).toBe(true);
    const newest = all[0];
    expect(dry.kept.map((b) => b.id).sort()).toEqual([newest.id, one.id].sort());
    expect(dry.kept.find((b) => b.id === one.id)!.reasons).toContain('marked keep');
    expect(dry.removed.map((b) => b.id).sort()).toEqual(all.filter((b) => b.id !== newest.id && b.id !== one.id).map((b) => b.id).sort());
    expect((await backups()).length).toBe(all.length);

    const done: PurgeResult = (await admin.post('/pacta-backup/purge', {})).body.data;
    expect(done.removed.map((b) => b.id).sort()).toEqual(dry.removed.map((b) => b.id).sort());
    expect(done.freedBytes).toBe(dry.removed.reduce((n, b) => n + b.size, 0));
    expect((await backups()).map((b) => b.id).sort()).toEqual([newest.id, one.id].sort());
    expect((await admin.post('/pacta-backup/purge', { dryRun: 'no' })).status).toBe(400);
  });

  it('drills the latest backup into a scratch database and records the result on it', async () => {
    const [latest] = await backups();
    const res = await admin.post(`/pacta-backup/backups/${latest.id}/drill`);
    expect(res.status).toBe(202);
    const job = await runJobFrom(res.body.data.id);
    expect(job).toMatchObject({ type: 'drill', status: 'succeeded', backupId: latest.id });
    expect((job.result as { ok: boolean }).ok).toBe(true);
    const after = (await backups()).find((b) => b.id === latest.id)!;
    expect(after.drill).toMatchObject({ status: 'passed', message: expect.stringContaining('checksums match') });
  });

  it('fails a drill of a damaged archive, records it and raises an alert', async () => {
    const [latest] = await backups();
    const file = path.join(app.backupsDir, `${latest.id}.pacta.zip`);
    const original = fs.readFileSync(file);
    const damaged = Buffer.from(original);
    // A byte of the first entry, a table (rows are written before media, which a drill does not read).
    damaged[30 + damaged.readUInt16LE(26) + damaged.readUInt16LE(28) + 25] ^= 0xff;
    fs.writeFileSync(file, damaged);
    try {
      const res = await admin.post(`/pacta-backup/backups/${latest.id}/drill`);
      const job = await runJobFrom(res.body.data.id);
      expect(job.status).toBe('failed');
      expect((await backups()).find((b) => b.id === latest.id)!.drill).toMatchObject({ status: 'failed' });
      expect((await admin.get('/pacta-backup/alerts')).body.data).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'failed-drill', jobId: job.id })]));
    } finally {
      fs.writeFileSync(file, original);
    }
  });

  it('raises a low-space alert when the free space is under the configured threshold', async () => {
    const alertTypes = async () => ((await admin.get('/pacta-backup/alerts')).body.data as Array<{ type: string }>).map((a) => a.type);
    expect(await alertTypes()).not.toContain('low-space');
    // Every volume has less than 100% free: the threshold is crossed at once.
    expect((await admin.put('/pacta-backup/settings', { spaceAlertBelow: '100%' })).status).toBe(200);
    expect(await alertTypes()).toContain('low-space');
    const storage = (await admin.get('/pacta-backup/storage')).body.data;
    expect((await admin.put('/pacta-backup/settings', { spaceAlertBelow: storage.free + 1_000_000_000 })).status).toBe(200);
    expect(await alertTypes()).toContain('low-space');
    expect((await admin.put('/pacta-backup/settings', { spaceAlertBelow: 1024 })).status).toBe(200);
    expect(await alertTypes()).not.toContain('low-space');
    // Saving settings restarts the schedule (every 3 s here): stopped again for the tests after this one.
    await scheduler().stop();
    await noJobRunning();
  });

  it('gives metrics as JSON and as Prometheus text', async () => {
    const metrics = (await admin.get('/pacta-backup/metrics')).body.data;
    expect(metrics.lastSuccess).toMatchObject({ backupId: expect.any(String) });
    expect(metrics.backups30d.failed).toBeGreaterThanOrEqual(1);
    expect(metrics.successRate30d).toBeGreaterThan(0);
    expect(metrics.successRate30d).toBeLessThan(1);
    expect(metrics.jobs[0]).toMatchObject({ type: expect.any(String), status: expect.any(String), startedAt: expect.any(String) });
    const text = await admin.get('/pacta-backup/metrics?format=prometheus');
    expect(text.status).toBe(200);
    expect(text.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text.text).toMatch(/^# HELP pacta_backup_last_success_timestamp_seconds /m);
    expect(text.text).toMatch(/^pacta_backup_jobs_30d\{result="failed"\} [1-9]/m);
    expect(text.text).toMatch(/^pacta_backup_alert\{type="failed-drill"\} 1$/m);
  });

  it('writes JSON log lines with job ids, and never a passphrase, password or token in a log line or job record', async () => {
    // An API token exists; its key is shown once at creation.
    const token = await admin.post('/admin/api-tokens', { name: 'ci', type: 'read-only', lifespan: null, description: '' });
    expect(token.status).toBe(201);
    const secrets = [KEY, superAdminCredentials.password, token.body.data.accessKey as string];
    expect((await runJob(admin, '/pacta-backup/backups', { adminUsers: true, encrypt: true, name: 'with admins' })).status).toBe('succeeded');
    // A wrong key in a failing restore must not be logged either.
    process.env.PACTA_BACKUP_KEY = 'a-wrong-passphrase-000';
    secrets.push(process.env.PACTA_BACKUP_KEY);
    const [latest] = await backups();
    const restore = await runJob(admin, `/pacta-backup/backups/${latest.id}/restore`, { confirm: true });
    process.env.PACTA_BACKUP_KEY = KEY;
    expect(restore.status).toBe('failed');

    const lines = logLines(app.logDir);
    expect(lines.length).toBeGreaterThan(10);
    const parsed = lines.map((line) => JSON.parse(line));
    expect(parsed.some((l) => l.jobId === restore.id && l.level === 'error')).toBe(true);
    expect(parsed.every((l) => typeof l.timestamp === 'string' && typeof l.message === 'string')).toBe(true);
    const records = JSON.stringify(await app.strapi.db.connection('pacta_backup_jobs').select('*'));
    for (const secret of secrets) {
      expect({ secret, inLogs: lines.some((l) => l.includes(secret)) }).toEqual({ secret, inLogs: false });
      expect({ secret, inJobs: records.includes(secret) }).toEqual({ secret, inJobs: false });
    }
  });

  const runJobFrom = (id: string): Promise<Job> => waitForJob(admin, id, 60_000);
});
