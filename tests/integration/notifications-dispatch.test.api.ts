import type { Delivery } from '../../server/src/notifications/types';
import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, describeOn, startApp, type TestApp } from '../helpers/app';
import { runJob } from '../helpers/jobs';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';
import { until } from '../helpers/wait';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

const OPS = 'ops@pacta.test';
const ONCALL = 'oncall@pacta.test';

/**
 * The dispatcher with both channels real: e-mail through Strapi's e-mail plugin (nodemailer to
 * an SMTP server on loopback) and a webhook receiver. Which events go where, "Send a test"
 * through both, and the daily digest as the scheduler runs it.
 */
/**
 * Nothing here depends on the database (the job log on each engine is covered by
 * notifications.test.api.ts, alerts across instances by notifications-alerts.test.api.ts): it
 * runs on SQLite only, to keep CI's three database runs short.
 */
describeOn('sqlite')(`notification dispatch to e-mail and webhooks on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;
  let smtp: TestSmtpServer;
  let hook: WebhookReceiver;
  const service = () => app.strapi.plugin('pacta-backup').service('notifications');
  const settings = async (notifications: Record<string, unknown>) => {
    const res = await admin.put('/pacta-backup/settings', { notifications });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    smtp = await startSmtpServer();
    hook = await startWebhookReceiver();
    app = await startApp({ env: { PACTA_TEST_SMTP_PORT: String(smtp.port), PACTA_BACKUP_TIMEZONE: 'UTC' } });
    admin = await loginAsSuperAdmin(app.strapi);
  });

  afterAll(async () => {
    await app?.stop();
    await smtp?.stop();
    await hook?.close();
  });

  it('sends each event only where it is chosen: notifications.events for every channel, a target\'s events, e-mail\'s "when"', async () => {
    await settings({
      events: ['backup.succeeded', 'backup.failed'],
      email: { enabled: true, recipients: [OPS], when: 'always' },
      webhooks: { enabled: true, targets: [{ url: hook.url('/failures'), events: ['backup.failed', 'restore.failed'] }] },
    });
    const job = await runJob(admin, '/pacta-backup/backups', { name: 'dispatched' });
    await service().idle();
    // E-mail (always) has it; the target only takes failures.
    expect(smtp.to(OPS)).toHaveLength(1);
    expect(hook.requests).toEqual([]);
    const { log } = (await admin.get(`/pacta-backup/jobs/${job.id}`)).body.data as { log: string[] };
    expect(log.filter((l) => l.includes(' notification '))).toEqual([expect.stringMatching(new RegExp(`notification backup\\.succeeded via email to ${OPS}: delivered \\(1 attempt\\)$`))]);

    // "digest": nothing per event.
    await settings({ email: { enabled: true, recipients: [OPS], when: 'digest' } });
    smtp.clear();
    await runJob(admin, '/pacta-backup/backups', { name: 'digest-only' });
    await service().idle();
    expect(smtp.messages).toEqual([]);

    // An event left out of notifications.events goes nowhere, Strapi's event hub included.
    await settings({ events: ['backup.failed'], email: { enabled: true, recipients: [OPS], when: 'always' } });
    const emitted: string[] = [];
    const off = app.strapi.eventHub.on('backup.succeeded', async () => void emitted.push('backup.succeeded'));
    try {
      await runJob(admin, '/pacta-backup/backups', { name: 'not-chosen' });
      await service().idle();
    } finally {
      off();
    }
    expect(smtp.messages).toEqual([]);
    expect(emitted).toEqual([]);
  });

  it('sends "Send a test" by e-mail to each recipient and to each webhook target, and answers every delivery', async () => {
    await settings({
      events: ['backup.failed'],
      email: { enabled: false, recipients: [OPS, ONCALL], when: 'failures' },
      webhooks: { enabled: false, targets: [{ url: hook.url('/test') }] },
    });
    smtp.clear();
    const res = await admin.post('/pacta-backup/notifications/test', { channel: 'all' });
    expect(res.status).toBe(200);
    const deliveries = res.body.data.deliveries as Delivery[];
    expect(deliveries).toEqual([
      expect.objectContaining({ channel: 'email', target: OPS, ok: true }),
      expect.objectContaining({ channel: 'email', target: ONCALL, ok: true }),
      expect.objectContaining({ channel: 'webhook', target: hook.url('/test'), ok: true, status: 200 }),
    ]);
    expect(smtp.to(OPS)).toHaveLength(1);
    expect(smtp.to(ONCALL)).toHaveLength(1);
    expect(JSON.parse(hook.requests.at(-1)!.body)).toMatchObject({ test: true });

    const events = (await admin.get('/pacta-backup/notifications/events')).body.data;
    expect(events.emailAvailable).toBe(true);
  });

  it('sends the digest at digestSchedule, one e-mail per recipient per occurrence, and stops when e-mail leaves digest mode', async () => {
    smtp.clear();
    // Every 2 seconds; saving the settings reschedules at once (as the admin panel's save does).
    await settings({ events: ['backup.failed'], email: { enabled: true, recipients: [OPS], when: 'digest', digestSchedule: '*/2 * * * * *' } });
    const locks = () => app.strapi.db.connection('pacta_backup_locks').where('name', 'like', 'pacta-backup:digest:%').whereNotNull('done_at').select('name');
    await until('two digest occurrences done', async () => (await locks()).length >= 2, { timeoutMs: 20_000 });
    await settings({ email: { when: 'failures' } });
    // No occurrence left half way: what the lock table says is done is what arrived.
    await until('the digests of every done occurrence', async () => smtp.to(OPS).length === (await locks()).length, { timeoutMs: 10_000 });
    expect(smtp.to(OPS).every((m) => /Backup report/.test(m.subject))).toBe(true);
    // Out of digest mode, the task is gone: two more periods pass without an occurrence.
    const done = (await locks()).length;
    await new Promise((resolve) => setTimeout(resolve, 4500));
    expect((await locks()).length).toBe(done);
    expect(smtp.to(OPS)).toHaveLength(done);
  });
});
