import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Backup, Job } from '../../server/src/contracts/backups';
import { hostTag, parseInstance } from '../../server/src/engine/owner';
import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, startApp, type TestApp } from '../helpers/app';
import { CLI, EXAMPLE_APP as appDir, ROOT as root, runCli } from '../helpers/cli';
import { runJob } from '../helpers/jobs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

const PAUSED = 'PACTA_BACKUP_TEST_PAUSED';
/** A JSON column as the driver gives it: text (SQLite, PostgreSQL's json as text) or parsed (MariaDB's mysql2). */
const json = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);


/**
 * kill -9 of the CLI in the middle of a backup (its snapshot open, its archive half written),
 * with the app booted in this process on the same database and storage: nothing partial is
 * listed, the next backup runs at once, the dead run's job becomes interrupted at the next
 * start, and no temporary file nor plaintext copy of the database is left. A CLI that is alive
 * keeps its lock, its job and its files, even when its lock has expired.
 */
describe(`kill -9 during a backup on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;
  const service = (name: string) => app.strapi.plugin('pacta-backup').service(name);
  const jobRow = async (id: string) => app.strapi.db.connection('pacta_backup_jobs').where({ job_id: id }).first();

  /** The CLI's environment: the booted app's (database, storage, uploads), nothing else of the test's. */
  const cliEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
    const env = { ...process.env };
    delete env.PACTA_BACKUP_TEST_PAUSE_AT;
    return { ...env, ...extra };
  };

  const cli = (args: string[]) => runCli(args, { env: cliEnv() });

  /** Starts `pacta-backup backup` that stops at `point` (see engine/faults.ts); resolves once it says so. */
  const pausedBackup = (point: 'rows' | 'verify' = 'rows', timeoutMs = 150_000) =>
    new Promise<ChildProcessWithoutNullStreams>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'backup', '--json', '--app', appDir], {
        cwd: root,
        env: cliEnv({ PACTA_BACKUP_TEST_PAUSE_AT: point }),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      child.stdin.end();
      let stderr = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the CLI did not reach ${point} in ${timeoutMs} ms:\n${stderr}`));
      }, timeoutMs);
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        if (stderr.includes(`${PAUSED} ${point} ${child.pid}`)) {
          clearTimeout(timer);
          resolve(child);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the CLI exited (${code}) before ${point}:\n${stderr}`));
      });
    });

  const kill9 = (child: ChildProcessWithoutNullStreams) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.removeAllListeners('exit');
      child.on('exit', () => resolve());
      child.kill('SIGKILL');
    });

  /** What a process left: its temporary files in the storage folder and its snapshot folders. */
  const leftBy = (pid: number) => ({
    temporary: fs.readdirSync(app.backupsDir).filter((name) => name.startsWith(`.partial@${hostTag()}.${pid}.`)),
    snapshots: fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith(`pacta-snapshot-${hostTag()}-${pid}-`)),
  });
  const storageNames = () => fs.readdirSync(app.backupsDir);

  const runningJobOf = async (pid: number): Promise<{ job_id: string; status: string; instance: string }> => {
    const rows = await app.strapi.db.connection('pacta_backup_jobs').where({ type: 'backup' });
    const row = rows.find((r: { instance: string }) => parseInstance(r.instance)?.pid === pid);
    if (!row) throw new Error(`no job of pid ${pid}`);
    return row;
  };

  beforeAll(async () => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build it with npm run build`);
    app = await startApp();
    await seed(app.strapi, { documents: 6, media: 2, seed: 21 });
    admin = await loginAsSuperAdmin(app.strapi);
  });

  afterAll(async () => {
    await app?.stop();
  });

  const listedIds = async () => ((await admin.get('/pacta-backup/backups')).body.data as Backup[]).map((b) => b.id);

  it.each(['rows', 'verify'] as const)('killed at %s: the next CLI run backs up at once, marks the dead job interrupted and leaves no temp file nor plaintext copy', async (point) => {
    const before = await listedIds();
    const child = await pausedBackup(point);
    const pid = child.pid!;
    try {
      // Mid-backup: the archive is written under a temporary name of this pid, and not listed…
      const during = leftBy(pid);
      expect(during.temporary).toHaveLength(1);
      expect(fs.statSync(path.join(app.backupsDir, during.temporary[0])).size).toBeGreaterThan(0);
      expect(storageNames().filter((name) => name.includes('snapshot'))).toEqual([]);
      expect(await listedIds()).toEqual(before);
      // …the plaintext copy of the database is read and gone by the verify phase…
      if (point === 'verify') expect(during.snapshots).toEqual([]);
      if (databaseClient === 'sqlite' && point === 'rows') {
        // …and while rows are read, the plaintext copy of the database is private, outside the storage folder.
        expect(during.snapshots).toHaveLength(1);
        const folder = path.join(os.tmpdir(), during.snapshots[0]);
        expect(fs.statSync(folder).mode & 0o077).toBe(0);
        const files = fs.readdirSync(folder);
        expect(files.length).toBeGreaterThan(0);
        for (const file of files) expect(fs.statSync(path.join(folder, file)).mode & 0o077).toBe(0);
        expect(fs.statSync(path.join(folder, 'database.sqlite')).size).toBeGreaterThan(0);
      }
      expect(parseInstance((await app.strapi.db.connection('pacta_backup_locks').where({ name: 'job' }).first()).owner)?.pid).toBe(pid);
      expect((await runningJobOf(pid)).status).toBe('running');
    } finally {
      await kill9(child);
    }

    // The next start is the next CLI run: it takes the dead pid's lock at once (no 409).
    const next = await cli(['backup', '--json']);
    expect(next.stderr).not.toMatch(/Another instance/);
    expect(next.code).toBe(0);
    const written = JSON.parse(next.stdout) as Backup;
    expect(written.status).toBe('ok');

    const dead = await runningJobOf(pid);
    expect(dead.status).toBe('interrupted');
    expect(json((await jobRow(dead.job_id)).error)).toMatchObject({ code: 'INTERRUPTED' });
    expect(leftBy(pid)).toEqual({ temporary: [], snapshots: [] });
    expect(storageNames().filter((name) => name.startsWith('.'))).toEqual([]);
    expect((await listedIds()).sort()).toEqual([...before, written.id].sort());
  });

  it('a live CLI keeps its lock (even expired), its job and its files; once killed, the app takes over at once', async () => {
    const before = await listedIds();
    const child = await pausedBackup();
    const pid = child.pid!;
    try {
      const conflict = await admin.post('/pacta-backup/backups', { media: false });
      expect(conflict.status).toBe(409);
      // A SQLite restore delays the heartbeat: an expired lock of a live pid of this host stays its own.
      await app.strapi.db.connection('pacta_backup_locks').where({ name: 'job' }).update({ expires_at: 0 });
      expect((await admin.post('/pacta-backup/backups', { media: false })).status).toBe(409);

      const recovered = await service('jobs').recover();
      expect(recovered.interrupted).toEqual([]);
      expect((await runningJobOf(pid)).status).toBe('running');
      const kept = leftBy(pid);
      expect(kept.temporary).toHaveLength(1);
      expect(kept.snapshots).toHaveLength(databaseClient === 'sqlite' ? 1 : 0);
    } finally {
      await kill9(child);
    }

    // The booted app's start-up recovery, as at the next boot.
    const recovered = await service('jobs').recover();
    const dead = await runningJobOf(pid);
    expect(recovered.interrupted.map((j: Job) => j.id)).toEqual([dead.job_id]);
    expect(dead.status).toBe('interrupted');
    expect(leftBy(pid)).toEqual({ temporary: [], snapshots: [] });

    const alerts = (await admin.get('/pacta-backup/alerts')).body.data as Array<{ type: string; jobId?: string; severity: string }>;
    expect(alerts).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'interrupted-job', jobId: dead.job_id, severity: 'error' })]));
    const history = (await admin.get(`/pacta-backup/jobs/${dead.job_id}`)).body.data as Job;
    expect(history).toMatchObject({ status: 'interrupted', error: { code: 'INTERRUPTED' } });

    // The dead pid's lock is taken at once by the API.
    const job = await runJob(admin, '/pacta-backup/backups', { media: false });
    expect(job.status).toBe('succeeded');
    expect(storageNames().filter((name) => name.startsWith('.'))).toEqual([]);
    const listed = (await admin.get('/pacta-backup/backups')).body.data as Backup[];
    expect(listed.map((b) => b.id).sort()).toEqual([...before, job.backupId].sort());
    expect(listed.every((b) => b.status === 'ok')).toBe(true);
    // The interrupted job is the last backup no more: its alert is gone.
    const after = (await admin.get('/pacta-backup/alerts')).body.data as Array<{ type: string }>;
    expect(after.map((a) => a.type)).not.toContain('interrupted-job');
  });
});
