import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Notice } from '../../server/src/notifications/types';
import { databaseClient, startApp, type TestApp } from '../helpers/app';
import { until, withDeadline } from '../helpers/wait';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

/**
 * A second Strapi on the same database, in its own process (tests/integration/fixtures/
 * notifications-instance.js), driven by JSON lines on its stdin.
 */
const startInstance = (tmp: string, name: string) =>
  new Promise<{ send(command: Record<string, unknown>): Promise<void>; child: ChildProcessWithoutNullStreams }>((resolve, reject) => {
    fs.mkdirSync(path.join(tmp, name, 'public', 'uploads'), { recursive: true });
    // The database this process's app uses (startApp put it in the environment), its own folders.
    const env = {
      ...process.env,
      PUBLIC_DIR: path.join(tmp, name, 'public'),
      PACTA_BACKUP_STORAGE: path.join(tmp, name, 'backups'),
      PACTA_BACKUP_LOG_DIR: path.join(tmp, name, 'logs'),
    };
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'notifications-instance.js')], { env });
    let output = '';
    let n = 0;
    const waiting = new Map<number, { resolve(): void; reject(error: Error): void }>();
    child.stdout.on('data', (chunk) => {
      output += chunk;
      for (const [id, promise] of waiting) {
        const error = output.match(new RegExp(`^error ${id} (.*)$`, 'm'));
        if (error) promise.reject(new Error(`instance ${name}: ${error[1]}`));
        else if (new RegExp(`^done ${id}$`, 'm').test(output)) promise.resolve();
        else continue;
        waiting.delete(id);
      }
      if (output.includes('ready\n') && n === 0) {
        n = 1;
        resolve({
          child,
          send: (command) =>
            new Promise<void>((done, failed) => {
              const id = (n += 1);
              waiting.set(id, { resolve: done, reject: failed });
              child.stdin.write(`${JSON.stringify({ ...command, n: id })}\n`);
            }),
        });
      }
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('exit', (code) => {
      if (n === 0) reject(new Error(`instance ${name} exited with ${code}:\n${output}`));
    });
  });

describe(`alerts told once, across checks, restarts and two instances on one ${databaseClient} database`, () => {
  let app: TestApp;
  let hook: WebhookReceiver;
  let tmp: string;
  const children: ChildProcessWithoutNullStreams[] = [];
  const notifications = () => app.strapi.plugin('pacta-backup').service('notifications');
  const settings = (value: Record<string, unknown>) => app.strapi.plugin('pacta-backup').service('config').update(value);
  const told = (event: 'alert.raised' | 'alert.cleared', type: string) =>
    hook.of(event).filter((r) => (JSON.parse(r.body) as Notice).alert?.type === type);

  beforeAll(async () => {
    hook = await startWebhookReceiver();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-alerts-'));
    app = await startApp();
    await settings({
      notifications: { webhooks: { enabled: true, targets: [{ url: hook.url('/alerts'), events: ['alert.raised', 'alert.cleared'] }] } },
      // No alert to begin with: a threshold free space is never under.
      spaceAlertBelow: 0,
    });
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await app?.stop();
    await hook?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('raises an alert once however often it is checked, clears it once, and raises it again when it comes back', async () => {
    await notifications().checkAlerts();
    expect(hook.requests).toEqual([]);

    await settings({ spaceAlertBelow: '100%' });
    for (let i = 0; i < 4; i += 1) await notifications().checkAlerts();
    expect(told('alert.raised', 'low-space')).toHaveLength(1);
    const raised = JSON.parse(told('alert.raised', 'low-space')[0].body) as Notice;
    expect(raised).toMatchObject({
      event: 'alert.raised',
      alert: { type: 'low-space', severity: 'warning', message: expect.stringContaining('Low free space for backups') },
      summary: expect.stringContaining('Alert (warning): Low free space'),
    });

    await settings({ spaceAlertBelow: 0 });
    for (let i = 0; i < 3; i += 1) await notifications().checkAlerts();
    expect(told('alert.cleared', 'low-space')).toHaveLength(1);
    expect(JSON.parse(told('alert.cleared', 'low-space')[0].body)).toMatchObject({ event: 'alert.cleared', alert: { type: 'low-space', severity: 'warning' } });

    await settings({ spaceAlertBelow: '100%' });
    await notifications().checkAlerts();
    await notifications().checkAlerts();
    expect(told('alert.raised', 'low-space')).toHaveLength(2);
    expect(told('alert.cleared', 'low-space')).toHaveLength(1);
    // Cleared again for the next test, which starts from no alert.
    await settings({ spaceAlertBelow: 0 });
    await notifications().checkAlerts();
    expect(told('alert.cleared', 'low-space')).toHaveLength(2);
  });

  it('tells each change once when two instances check at the same time, and not again after an instance restarts', async () => {
    const before = hook.requests.length;
    const other = await withDeadline('the second instance to boot', startInstance(tmp, 'b'), 120_000);
    children.push(other.child);
    // The second instance has loaded the stored settings (the same target, threshold 0).
    await other.send({ checkAlerts: true });
    expect(hook.requests.length).toBe(before);

    // The alert begins for both; both check at once, several times.
    await settings({ spaceAlertBelow: '100%' });
    await other.send({ settings: { spaceAlertBelow: '100%' } });
    for (let i = 0; i < 3; i += 1) await Promise.all([notifications().checkAlerts(), other.send({ checkAlerts: true })]);
    expect(told('alert.raised', 'low-space')).toHaveLength(3);
    expect(hook.requests.length).toBe(before + 1);

    // A restart of the other instance does not tell it again: the active alert is recorded.
    await other.send({ stop: true });
    const restarted = await withDeadline('the second instance to boot again', startInstance(tmp, 'b'), 120_000);
    children.push(restarted.child);
    await restarted.send({ checkAlerts: true });
    expect(hook.requests.length).toBe(before + 1);

    // It ends for both: one alert.cleared.
    await settings({ spaceAlertBelow: 0 });
    await restarted.send({ settings: { spaceAlertBelow: 0 } });
    for (let i = 0; i < 3; i += 1) await Promise.all([notifications().checkAlerts(), restarted.send({ checkAlerts: true })]);
    expect(told('alert.cleared', 'low-space')).toHaveLength(3);
    expect(hook.requests.length).toBe(before + 2);
    await restarted.send({ stop: true });

    const rows = await app.strapi.db.connection('pacta_backup_locks').where('name', 'like', 'pacta-backup:alert:%').select('name', 'done_at');
    expect(rows).toEqual([{ name: 'pacta-backup:alert:low-space:warning:-', done_at: expect.anything() }]);
  });

  it('tells a failed backup as a new alert, once, and clears it when a backup succeeds', async () => {
    const jobs = app.strapi.plugin('pacta-backup').service('jobs');
    const backups = app.strapi.plugin('pacta-backup').service('backups');
    const folder = app.backupsDir;
    fs.renameSync(folder, `${folder}-aside`);
    fs.writeFileSync(folder, 'not a folder');
    try {
      const failed = await jobs.wait((await backups.startBackup({})).id);
      expect(failed.status).toBe('failed');
      // The job's end runs the check: no timer, no call from the test.
      const [request] = await until('alert.raised for the failed backup', () => told('alert.raised', 'failed-job').length > 0 && told('alert.raised', 'failed-job'));
      expect(JSON.parse(request.body)).toMatchObject({ alert: { type: 'failed-job', severity: 'error', message: expect.stringContaining('The last backup failed') } });
    } finally {
      fs.rmSync(folder);
      fs.renameSync(`${folder}-aside`, folder);
    }
    await notifications().checkAlerts();
    expect(told('alert.raised', 'failed-job')).toHaveLength(1);
    const succeeded = await jobs.wait((await backups.startBackup({})).id);
    expect(succeeded.status).toBe('succeeded');
    await until('alert.cleared for the failed backup', () => told('alert.cleared', 'failed-job').length === 1);
    expect(JSON.parse(told('alert.cleared', 'failed-job')[0].body).alert.message).toMatch(/^failed job \(job [0-9a-f-]+\) is no longer active$/);
  });
});
