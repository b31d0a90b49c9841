import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import type { Backup } from '../../server/src/contracts/backups';
import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, itOn, startApp, type TestApp } from '../helpers/app';
import { CLI, runCli } from '../helpers/cli';
import { runJob } from '../helpers/jobs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

/**
 * Media files the database names but the disk lacks: with `media.missing: warn` (the default) a
 * backup completes with warnings — its own state in the catalogue, the job, the alerts and the
 * CLI (stderr, --json, exit code 3); with `fail` it fails with an error naming the count and the
 * paths, and nothing is listed.
 */
describe(`a backup with media missing on disk on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;
  let removed: string[];

  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: { ...process.env, ...env } });

  const archives = () => fs.readdirSync(app.backupsDir).filter((name) => name.endsWith('.pacta.zip')).sort();

  beforeAll(async () => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build it with npm run build`);
    app = await startApp();
    await seed(app.strapi, { documents: 4, media: 3, seed: 33 });
    admin = await loginAsSuperAdmin(app.strapi);
    // Two of the uploaded originals go missing from disk; their rows stay.
    const files = (await app.strapi.db.connection('files').select('url').orderBy('id')) as Array<{ url: string }>;
    removed = files.slice(0, 2).map((f) => f.url.replace(/^\//, ''));
    for (const relative of removed) fs.rmSync(path.join(app.publicDir, relative));
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('warn: the API backup completes with warnings in the job, the catalogue and the alerts', async () => {
    const job = await runJob(admin, '/pacta-backup/backups', {});
    expect(job.status).toBe('warning');
    expect(job.error).toBeNull();
    expect(job.warnings).toEqual([expect.stringMatching(/^2 media files named in the database are missing on disk \(/)]);
    for (const relative of removed) expect(job.warnings[0]).toContain(relative);

    const listed = (await admin.get('/pacta-backup/backups')).body.data as Backup[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: job.backupId, status: 'warning', warnings: job.warnings });

    const history = (await admin.get('/pacta-backup/metrics')).body.data.jobs as Array<{ id: string; status: string }>;
    expect(history.find((j) => j.id === job.id)?.status).toBe('warning');
    const alerts = (await admin.get('/pacta-backup/alerts')).body.data as Array<{ type: string; severity: string; jobId?: string; message: string }>;
    const warned = alerts.filter((a) => a.type === 'backup-warnings');
    expect(warned).toEqual([expect.objectContaining({ severity: 'warning', jobId: job.id })]);
    expect(warned[0].message).toMatch(/^The last backup completed with warnings: 2 media files named in the database are missing on disk/);
  });

  it('warn: the CLI writes the backup, says so on stderr and in --json, and exits with 3', async () => {
    const run = await cli(['backup', '--json']);
    expect(run.code).toBe(3);
    const backup = JSON.parse(run.stdout) as Backup;
    expect(backup).toMatchObject({ status: 'warning', warnings: [expect.stringMatching(/^2 media files named in the database are missing on disk/)] });
    expect(run.stderr).toMatch(/^warning: 2 media files named in the database are missing on disk/m);
    expect(archives()).toContain(`${backup.id}.pacta.zip`);
  });

  it('fail: the backup fails with an error naming the count and the paths, and nothing is listed', async () => {
    const before = archives();
    const run = await cli(['backup', '--json'], { PACTA_BACKUP_MEDIA_MISSING: 'fail' });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/The backup failed: 2 media files named in the database are missing on disk \(.+\); the backup was not written \(media.missing is "fail"\) \(MEDIA_MISSING\)/);
    for (const relative of removed) expect(run.stderr).toContain(relative);
    expect(archives()).toEqual(before);
    expect(fs.readdirSync(app.backupsDir).filter((name) => name.startsWith('.'))).toEqual([]);

    const [failed] = await app.strapi.db.connection('pacta_backup_jobs').where({ type: 'backup', trigger: 'cli', status: 'failed' });
    // A JSON column: text on SQLite and PostgreSQL, parsed by MariaDB's driver.
    expect(typeof failed.error === 'string' ? JSON.parse(failed.error) : failed.error).toMatchObject({ code: 'MEDIA_MISSING' });
  });

  // How media are read does not depend on the database: SQLite only.
  itOn('sqlite')('a larger media file whose size and modification time did not change is not read twice; one changed behind them fails the backup once', async () => {
    // The one seeded original still on disk becomes a 600 KB file (over the 256 KB read whole).
    const files = (await app.strapi.db.connection('files').select('url').orderBy('id')) as Array<{ url: string }>;
    const relative = files[2].url.replace(/^\//, '');
    const file = path.join(app.publicDir, relative);
    fs.writeFileSync(file, randomBytes(600 * 1024));
    // A whole second, so that the test can put the same time back (a Date has no nanoseconds).
    const date = new Date('2026-01-01T00:00:00Z');
    fs.utimesSync(file, date, date);
    const hashesFile = path.join(app.backupsDir, '.media-hashes.json');
    const line = /media: 1 of 1 larger files not read twice/;

    const first = await runJob(admin, '/pacta-backup/backups', {});
    expect(first.status).toBe('warning');
    expect(first.log.join('\n')).not.toMatch(line);
    const kept = JSON.parse(fs.readFileSync(hashesFile, 'utf8'));
    expect(Object.keys(kept.files)).toEqual([relative]);
    expect(kept.files[relative][2]).toBe(createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
    expect(fs.statSync(hashesFile).mode & 0o777).toBe(0o600);

    const second = await runJob(admin, '/pacta-backup/backups', {});
    expect(second.log.join('\n')).toMatch(line);
    expect((await runJob(admin, `/pacta-backup/backups/${second.backupId}/verify`)).status).toBe('succeeded');

    // New bytes behind the same size and modification time (a file put back with its old date):
    // the bytes read into the archive do not give the hash, so the backup fails and names it.
    fs.writeFileSync(file, randomBytes(600 * 1024));
    fs.utimesSync(file, date, date);
    const before = archives();
    const changed = await runJob(admin, '/pacta-backup/backups', {});
    expect(changed).toMatchObject({ status: 'failed', error: { code: 'MEDIA_CHANGED', message: expect.stringContaining(relative) } });
    expect(archives()).toEqual(before);
    expect(fs.existsSync(hashesFile)).toBe(false);
    // The next one hashes every file again and writes a backup that verifies.
    const again = await runJob(admin, '/pacta-backup/backups', {});
    expect(again.status).toBe('warning');
    expect(again.log.join('\n')).not.toMatch(line);
    expect((await runJob(admin, `/pacta-backup/backups/${again.backupId}/verify`)).status).toBe('succeeded');

    // With media.rehashAfterDays 0 every file is hashed every time: the CLI keeps no hashes.
    fs.rmSync(hashesFile);
    const cliRun = await cli(['backup', '--json'], { PACTA_BACKUP_MEDIA_REHASH_AFTER_DAYS: '0' });
    expect(cliRun.code).toBe(3);
    expect(fs.existsSync(hashesFile)).toBe(false);
  });
});
