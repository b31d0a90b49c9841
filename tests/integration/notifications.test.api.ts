import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import type { Job } from '../../server/src/contracts/backups';
import type { Delivery, Notice } from '../../server/src/notifications/types';
import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, startApp, type TestApp } from '../helpers/app';
import { runJob } from '../helpers/jobs';
import { createRestrictedAdmin } from '../helpers/roles';
import { until } from '../helpers/wait';
import { hasValidSignature, startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

const SECRET_ENV = 'PACTA_TEST_WEBHOOK_SECRET';
const SECRET = 'whsec-notifications-test-7d2e91';
/** A token in a target's query string: never shown nor logged. */
const URL_TOKEN = 'query-token-55c0a7';

/** Every line of the plugin's log files. */
const logText = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');

/** A port nothing listens on (a server's, closed again). */
const closedPort = async () => {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
};

describe(`notifications: signed webhooks, retries, Strapi's webhooks and the test endpoint on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;
  const receivers: WebhookReceiver[] = [];
  const receiver = async (options?: Parameters<typeof startWebhookReceiver>[0]) => {
    const started = await startWebhookReceiver(options);
    receivers.push(started);
    return started;
  };
  const setTargets = async (targets: Array<{ url: string; events?: string[]; secretEnv?: string }>, enabled = true) => {
    const res = await admin.put('/pacta-backup/settings', { notifications: { webhooks: { enabled, targets } } });
    expect(res.status).toBe(200);
  };
  /** The job's record once its notifications are written to its log. */
  const jobWithDeliveries = (id: string, count: number) =>
    until(`${count} delivery lines in the log of job ${id}`, async () => {
      const job = (await admin.get(`/pacta-backup/jobs/${id}`)).body.data as Job;
      return job.log.filter((line) => / notification /.test(line)).length >= count && job;
    });

  beforeAll(async () => {
    process.env[SECRET_ENV] = SECRET;
    app = await startApp();
    admin = await loginAsSuperAdmin(app.strapi);
    // What config/plugins.ts would set: short delays, so retries are seen within the test.
    app.strapi.config.set('plugin::pacta-backup.notifications.webhooks.backoffMs', 50);
    app.strapi.config.set('plugin::pacta-backup.notifications.webhooks.retries', 3);
    app.strapi.config.set('plugin::pacta-backup.notifications.webhooks.timeoutMs', 2000);
  });

  afterAll(async () => {
    await app?.stop();
    await Promise.all(receivers.map((r) => r.close()));
    delete process.env[SECRET_ENV];
  });

  it("sends a backup's notice signed with the target's secret, the job and backup in its body, and logs the delivery without secret or query string", async () => {
    const hook = await receiver();
    await setTargets([{ url: hook.url(`/backups?token=${URL_TOKEN}`), events: ['backup.succeeded'], secretEnv: SECRET_ENV }]);

    const job = await runJob(admin, '/pacta-backup/backups', { name: 'notified' });
    expect(job.status).toBe('succeeded');
    const recorded = await jobWithDeliveries(job.id, 1);

    const [request] = hook.of('backup.succeeded');
    expect(hook.requests).toHaveLength(1);
    expect(request.method).toBe('POST');
    expect(request.url).toBe(`/backups?token=${URL_TOKEN}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(hasValidSignature(request, SECRET)).toBe(true);
    expect(hasValidSignature(request, 'another-secret')).toBe(false);
    expect(Number(request.headers['x-pacta-timestamp'])).toBeGreaterThan(Date.now() / 1000 - 120);
    const notice = JSON.parse(request.body) as Notice;
    expect(request.headers['x-pacta-delivery']).toBe(notice.id);
    expect(notice).toMatchObject({
      event: 'backup.succeeded',
      summary: `Backup ${job.backupId} succeeded`,
      job: { id: job.id, type: 'backup', trigger: 'manual', status: 'succeeded', backupId: job.backupId, error: null },
      backup: { id: job.backupId, name: 'notified' },
      // The test app sets no public URL (server.url): no link.
      adminUrl: null,
      app: { name: expect.any(String), instance: expect.any(String) },
    });
    expect(notice.job!.log.some((line) => line.endsWith('backup started'))).toBe(true);

    // One line in the job's log, in memory and in the job table: target without its query string.
    const line = recorded.log.find((l) => l.includes('notification backup.succeeded'))!;
    expect(line).toMatch(new RegExp(`via webhook to http://127\\.0\\.0\\.1:\\d+/backups: delivered \\(HTTP 200, 1 attempt\\)$`));
    const row = await app.strapi.db.connection('pacta_backup_jobs').where({ job_id: job.id }).first();
    expect(String(row.log)).toContain('notification backup.succeeded via webhook');
    // The secret is in no body, job record or log file; the query token in no job record or log file.
    expect(request.body).not.toContain(SECRET);
    for (const text of [JSON.stringify(recorded), String(row.log), logText(app.logDir)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(URL_TOKEN);
    }
  });

  it('tries again after 500s until the receiver takes it, never after a 400, and after a refused connection until the retries are spent; the job is not affected', async () => {
    const flaky = await receiver({ answers: [500, 500], status: 200 });
    const refusing = await receiver({ status: 400 });
    const port = await closedPort();
    await setTargets([
      { url: flaky.url('/flaky'), events: ['backup.succeeded'] },
      { url: refusing.url('/refusing'), events: ['backup.succeeded'] },
      { url: `http://127.0.0.1:${port}/down`, events: ['backup.succeeded'] },
    ]);

    const job = await runJob(admin, '/pacta-backup/backups', {});
    expect(job.status).toBe('succeeded');
    const recorded = await jobWithDeliveries(job.id, 3);

    const flakyTries = flaky.of('backup.succeeded');
    expect(flakyTries.map((r) => r.status)).toEqual([500, 500, 200]);
    // Every attempt is the same delivery: one id, the same bytes.
    expect(new Set(flakyTries.map((r) => r.headers['x-pacta-delivery'])).size).toBe(1);
    expect(new Set(flakyTries.map((r) => r.body)).size).toBe(1);
    // No secretEnv: not signed.
    expect(flakyTries[0].headers['x-pacta-signature']).toBeUndefined();
    expect(refusing.of('backup.succeeded')).toHaveLength(1);

    const lines = recorded.log.filter((l) => l.includes(' notification backup.succeeded'));
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/via webhook to http:\/\/127\.0\.0\.1:\d+\/flaky: delivered \(HTTP 200, 3 attempts\)$/),
        expect.stringMatching(/via webhook to http:\/\/127\.0\.0\.1:\d+\/refusing: not delivered \(HTTP 400, 1 attempt\)$/),
        expect.stringMatching(new RegExp(`via webhook to http://127\\.0\\.0\\.1:${port}/down: not delivered \\(ECONNREFUSED, 4 attempts\\)$`)),
      ])
    );
    // The job's own record is unchanged by the failed deliveries.
    expect(recorded.status).toBe('succeeded');
    expect(recorded.error).toBeNull();
  });

  it("registers the events in Strapi's webhook store: a webhook created with Strapi's admin API receives a failed backup through Strapi's runner", async () => {
    const events = await admin.get('/pacta-backup/notifications/events');
    expect(events.status).toBe(200);
    expect(events.body.data.events).toContain('backup.failed');
    expect(events.body.data.strapiWebhookEvents).toEqual(events.body.data.events);

    const strapiHook = await receiver();
    // Strapi's own API, as Settings → Webhooks calls it; an event nobody registered is refused.
    const refused = await admin.post('/admin/webhooks', { name: 'nope', url: strapiHook.url('/nope'), headers: {}, events: ['backup.nope'] });
    expect(refused.status).toBe(400);
    const created = await admin.post('/admin/webhooks', {
      name: 'Backups',
      url: strapiHook.url('/strapi'),
      headers: { Authorization: 'Bearer strapi-hook-token' },
      events: ['backup.failed'],
    });
    expect(created.status).toBe(201);
    await setTargets([], false);

    // A full disk, as the automation tests simulate it: a file where the storage folder was.
    const folder = app.backupsDir;
    fs.renameSync(folder, `${folder}-aside`);
    fs.writeFileSync(folder, 'not a folder');
    let job: Job;
    try {
      job = await runJob(admin, '/pacta-backup/backups', {});
    } finally {
      fs.rmSync(folder);
      fs.renameSync(`${folder}-aside`, folder);
    }
    expect(job.status).toBe('failed');
    const request = await until("Strapi's webhook to receive backup.failed", () => strapiHook.of('backup.failed')[0]);
    expect(request.url).toBe('/strapi');
    expect(request.headers['x-strapi-event']).toBe('backup.failed');
    expect(request.headers.authorization).toBe('Bearer strapi-hook-token');
    const body = JSON.parse(request.body);
    // Strapi's runner sends { event, createdAt, ...what was emitted }: the notice.
    expect(body).toMatchObject({ event: 'backup.failed', createdAt: expect.any(String), job: { id: job.id, status: 'failed', error: { message: expect.any(String) } } });
    const recorded = await jobWithDeliveries(job.id, 1);
    expect(recorded.log.find((l) => l.includes('notification backup.failed'))).toMatch(/via strapi-webhook to http:\/\/127\.0\.0\.1:\d+\/strapi: handed to Strapi's webhook runner/);
    await admin.delete(`/admin/webhooks/${created.body.data.id}`);
  });

  it('sends a test through the webhook targets for an admin with the settings permission, refuses one without it, and says when nothing is configured', async () => {
    const readOnly = await createRestrictedAdmin(app.strapi, { name: 'Backup reader', permissions: [{ action: 'plugin::pacta-backup.read' }] });
    expect((await readOnly.post('/pacta-backup/notifications/test', { channel: 'webhook' })).status).toBe(403);
    expect((await readOnly.get('/pacta-backup/notifications/events')).status).toBe(200);

    await setTargets([], false);
    const none = await admin.post('/pacta-backup/notifications/test', { channel: 'webhook' });
    expect(none.status).toBe(400);
    expect(none.body.error.message).toMatch(/no target \(notifications\.webhooks\.targets\)/);
    const noRecipient = await admin.post('/pacta-backup/notifications/test', { channel: 'email' });
    expect(noRecipient.status).toBe(400);
    expect(noRecipient.body.error.message).toMatch(/e-mail: /);
    expect((await admin.post('/pacta-backup/notifications/test', { channel: 'sms' })).status).toBe(400);

    const ok = await receiver();
    const failing = await receiver({ status: 404 });
    // Not enabled yet: a test comes before enabling.
    await setTargets([{ url: ok.url('/ok'), events: ['drill.failed'], secretEnv: SECRET_ENV }, { url: failing.url('/gone') }], false);
    // The admin panel's public URL, as Strapi computes it at load from server.url (or admin.url).
    const { url: adminUrl, absoluteUrl } = app.strapi.config.get('admin') as { url: string; absoluteUrl: string };
    app.strapi.config.set('admin.url', 'https://cms.example.com/admin');
    app.strapi.config.set('admin.absoluteUrl', 'https://cms.example.com/admin');
    let res;
    try {
      res = await admin.post('/pacta-backup/notifications/test', { channel: 'webhook' });
    } finally {
      app.strapi.config.set('admin.url', adminUrl);
      app.strapi.config.set('admin.absoluteUrl', absoluteUrl);
    }
    expect(res.status).toBe(200);
    const deliveries = res.body.data.deliveries as Delivery[];
    expect(deliveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ channel: 'webhook', target: ok.url('/ok'), ok: true, attempts: 1, status: 200 }),
        expect.objectContaining({ channel: 'webhook', target: failing.url('/gone'), ok: false, attempts: 1, status: 404, error: 'HTTP 404' }),
      ])
    );
    expect(deliveries).toHaveLength(2);
    const [request] = ok.requests;
    expect(hasValidSignature(request, SECRET)).toBe(true);
    expect(JSON.parse(request.body)).toMatchObject({
      test: true,
      event: 'backup.succeeded',
      summary: expect.stringContaining('Test'),
      adminUrl: 'https://cms.example.com/admin/plugins/pacta-backup/monitoring',
    });
  });
});
