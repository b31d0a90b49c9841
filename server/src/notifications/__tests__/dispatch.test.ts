import { configSchema } from '../../config/schema';
import type { Job } from '../../contracts/backups';
import { adminUrlFor, deliveryLine, emailRecipientsFor, jobEvent, noticeFromJob, strapiWebhooksWanted, webhookTargetsFor } from '../dispatch';
import { NOTIFICATION_EVENTS, type NotificationEvent } from '../types';

const notifications = (value: Record<string, unknown>) => configSchema.parse({ notifications: value }).notifications;

const job = (over: Partial<Job> = {}): Job => ({
  id: 'job-1',
  type: 'backup',
  trigger: 'scheduled',
  status: 'succeeded',
  phase: 'done',
  progress: { done: 0, total: 0, bytes: 0 },
  backupId: 'bk-1',
  instance: 'host:1:abc',
  startedAt: '2026-11-30T02:00:00.000Z',
  finishedAt: '2026-11-30T02:00:04.000Z',
  durationMs: 4000,
  measures: { bytes: 10, rows: 2, ratio: 0.5 },
  result: { backup: { id: 'bk-1', name: 'Scheduled 2026-11-30 02:00' } },
  error: null,
  log: Array.from({ length: 30 }, (_, i) => `line ${i}`),
  warnings: [],
  ...over,
});

describe('jobEvent', () => {
  it.each([
    ['backup', 'succeeded', 'backup.succeeded'],
    ['backup', 'warning', 'backup.warning'],
    ['backup', 'failed', 'backup.failed'],
    ['backup', 'skipped', null],
    ['restore', 'succeeded', 'restore.succeeded'],
    ['restore', 'failed', 'restore.failed'],
    ['import', 'succeeded', 'import.applied'],
    ['import', 'failed', null],
    ['import-preview', 'succeeded', null],
    ['drill', 'failed', 'drill.failed'],
    ['drill', 'succeeded', null],
    ['verify', 'failed', null],
  ] as const)('%s %s → %s', (type, status, event) => {
    expect(jobEvent({ type, status })).toBe(event);
  });
});

describe('webhookTargetsFor', () => {
  const targets = [{ url: 'https://a.example/h' }, { url: 'https://b.example/h', events: ['backup.failed' as const] }];

  it('sends to the targets whose events (all of notifications.events by default) hold the event', () => {
    const config = notifications({ webhooks: { enabled: true, targets } });
    expect(webhookTargetsFor({ event: 'backup.failed' }, config).map((t) => t.url)).toEqual(['https://a.example/h', 'https://b.example/h']);
    expect(webhookTargetsFor({ event: 'backup.succeeded' }, config).map((t) => t.url)).toEqual(['https://a.example/h']);
  });

  it('sends nothing when webhooks are disabled or the event is not in notifications.events; a test goes to every target', () => {
    expect(webhookTargetsFor({ event: 'backup.failed' }, notifications({ webhooks: { enabled: false, targets } }))).toEqual([]);
    const narrowed = notifications({ events: ['backup.succeeded'], webhooks: { enabled: true, targets } });
    expect(webhookTargetsFor({ event: 'backup.failed' }, narrowed)).toEqual([]);
    expect(webhookTargetsFor({ event: 'backup.succeeded', test: true }, notifications({ webhooks: { enabled: false, targets } }))).toHaveLength(2);
  });
});

describe('emailRecipientsFor', () => {
  const recipients = ['ops@example.com'];
  const to = (when: string, event: NotificationEvent, over: Record<string, unknown> = {}) =>
    emailRecipientsFor({ event }, notifications({ email: { enabled: true, recipients, when }, ...over }));

  it('failures: only failures, warnings and alerts', () => {
    const sent = NOTIFICATION_EVENTS.filter((event) => to('failures', event).length);
    expect(sent).toEqual(['backup.failed', 'backup.warning', 'restore.failed', 'drill.failed', 'alert.raised', 'alert.cleared']);
  });

  it('always: every event of notifications.events; digest: none (the digest tells them)', () => {
    expect(NOTIFICATION_EVENTS.filter((event) => to('always', event).length)).toEqual([...NOTIFICATION_EVENTS]);
    expect(NOTIFICATION_EVENTS.filter((event) => to('digest', event).length)).toEqual([]);
    expect(to('always', 'backup.succeeded', { events: ['backup.failed'] })).toEqual([]);
  });

  it("sends one e-mail for a failed job, not its job's event and then its alert; the alert's clearing is sent", () => {
    const config = notifications({ email: { enabled: true, recipients, when: 'failures' } });
    const alert = (type: string, jobId?: string) => ({ type, severity: 'error' as const, message: 'm', at: '2026-11-30T02:00:00.000Z', ...(jobId ? { jobId } : {}) });
    expect(emailRecipientsFor({ event: 'alert.raised', alert: alert('failed-job', 'job-1') }, config)).toEqual([]);
    expect(emailRecipientsFor({ event: 'alert.raised', alert: alert('failed-drill', 'job-2') }, config)).toEqual([]);
    expect(emailRecipientsFor({ event: 'alert.cleared', alert: alert('failed-job', 'job-1') }, config)).toEqual(recipients);
    // An alert no job event tells: a crash found at the next start, no recent backup, low space.
    expect(emailRecipientsFor({ event: 'alert.raised', alert: alert('interrupted-job', 'job-3') }, config)).toEqual(recipients);
    expect(emailRecipientsFor({ event: 'alert.raised', alert: alert('stale') }, config)).toEqual(recipients);
    // The job's event left out of notifications.events: its alert is the message.
    const alertsOnly = notifications({ events: ['alert.raised', 'alert.cleared'], email: { enabled: true, recipients, when: 'failures' } });
    expect(emailRecipientsFor({ event: 'alert.raised', alert: alert('failed-job', 'job-1') }, alertsOnly)).toEqual(recipients);
  });

  it('none when e-mail is disabled; a test goes to the recipients all the same', () => {
    const disabled = notifications({ email: { enabled: false, recipients, when: 'always' } });
    expect(emailRecipientsFor({ event: 'backup.failed' }, disabled)).toEqual([]);
    expect(emailRecipientsFor({ event: 'backup.succeeded', test: true }, disabled)).toEqual(recipients);
  });
});

describe('strapiWebhooksWanted', () => {
  it("follows notifications.events; a test never goes to Strapi's webhooks", () => {
    expect(strapiWebhooksWanted({ event: 'backup.failed' }, notifications({}))).toBe(true);
    expect(strapiWebhooksWanted({ event: 'backup.failed' }, notifications({ events: ['alert.raised'] }))).toBe(false);
    expect(strapiWebhooksWanted({ event: 'backup.failed', test: true }, notifications({}))).toBe(false);
  });
});

describe('noticeFromJob', () => {
  it('carries the job (its last 20 log lines), the backup, the admin link and a summary', () => {
    const notice = noticeFromJob(job(), 'backup.succeeded', { app: { name: 'pacta', instance: 'i' }, adminBase: 'https://cms.example.com/admin' });
    expect(notice).toMatchObject({
      event: 'backup.succeeded',
      at: '2026-11-30T02:00:04.000Z',
      summary: 'Backup bk-1 succeeded',
      backup: { id: 'bk-1', name: 'Scheduled 2026-11-30 02:00' },
      adminUrl: 'https://cms.example.com/admin/plugins/pacta-backup/bk-1',
      job: { id: 'job-1', type: 'backup', trigger: 'scheduled', status: 'succeeded', durationMs: 4000, error: null },
    });
    expect(notice.job!.log).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 10}`));
    expect(notice.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('says why a job failed', () => {
    const failed = job({ status: 'failed', backupId: null, result: null, error: { message: 'ENOSPC: no space left', code: 'ENOSPC' } });
    expect(noticeFromJob(failed, 'backup.failed', { app: { name: 'pacta', instance: 'i' }, adminBase: null })).toMatchObject({
      summary: 'Backup failed: ENOSPC: no space left',
      backup: null,
      adminUrl: null,
    });
  });
});

describe('adminUrlFor', () => {
  it("links the backup's page, or Monitoring, only when the admin's absolute URL is known", () => {
    expect(adminUrlFor('https://cms.example.com/admin', null)).toBe('https://cms.example.com/admin/plugins/pacta-backup/monitoring');
    expect(adminUrlFor(null, 'bk-1')).toBeNull();
  });
});

describe('deliveryLine', () => {
  it('names the event, the channel, the target without its query string, the result and the attempts', () => {
    const at = '2026-11-30T02:00:05.000Z';
    expect(deliveryLine({ event: 'backup.failed' }, { channel: 'webhook', target: 'https://h.example/x?token=abc', ok: true, attempts: 3, status: 200, at })).toBe(
      `${at} notification backup.failed via webhook to https://h.example/x: delivered (HTTP 200, 3 attempts)`
    );
    expect(deliveryLine({ event: 'backup.failed' }, { channel: 'email', target: 'ops@example.com', ok: false, attempts: 1, error: 'SMTP 550', at })).toBe(
      `${at} notification backup.failed via email to ops@example.com: not delivered (SMTP 550, 1 attempt)`
    );
  });
});
