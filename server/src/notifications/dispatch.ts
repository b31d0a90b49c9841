import { randomUUID } from 'node:crypto';

import type { Job } from '../contracts/backups';
import type { PluginConfig } from '../config/schema';
import { displayUrl } from './webhooks';
import { FAILURE_EVENTS, type Delivery, type Notice, type NoticeAlert, type NoticeJob, type NotificationEvent } from './types';

type NotificationsConfig = PluginConfig['notifications'];
export type WebhookTarget = NotificationsConfig['webhooks']['targets'][number];

/** How many of a job's last log lines a notice carries. */
const NOTICE_LOG_LINES = 20;

/**
 * The event a finished job is told as, or null: backups (scheduled or manual) whatever their
 * end, restores, an import that was applied, a drill that failed. Verifies, import previews
 * and skipped occurrences are not told; an interrupted job is, by its alert.
 */
export const jobEvent = (job: Pick<Job, 'type' | 'status'>): NotificationEvent | null => {
  switch (job.type) {
    case 'backup':
      if (job.status === 'succeeded') return 'backup.succeeded';
      if (job.status === 'warning') return 'backup.warning';
      return job.status === 'failed' ? 'backup.failed' : null;
    case 'restore':
      if (job.status === 'succeeded') return 'restore.succeeded';
      return job.status === 'failed' ? 'restore.failed' : null;
    case 'import':
      return job.status === 'succeeded' ? 'import.applied' : null;
    case 'drill':
      return job.status === 'failed' ? 'drill.failed' : null;
    default:
      return null;
  }
};

/** Whether the event is sent at all (`notifications.events`); a test notice always is. */
const allowed = (notice: Pick<Notice, 'event' | 'test'>, config: NotificationsConfig) => notice.test === true || config.events.includes(notice.event);

/** The plugin's own webhook targets that receive this notice (a target's `events` narrows them). */
export const webhookTargetsFor = (notice: Pick<Notice, 'event' | 'test'>, config: NotificationsConfig): WebhookTarget[] => {
  if (notice.test) return config.webhooks.targets;
  if (!config.webhooks.enabled || !allowed(notice, config)) return [];
  return config.webhooks.targets.filter((target) => (target.events ?? config.events).includes(notice.event));
};

/**
 * The e-mail recipients of this notice: e-mail enabled, the event sent, and `when` allows it
 * (`failures`: failures and alerts; `always`: every event; `digest`: none, the digest tells).
 */
export const emailRecipientsFor = (notice: Pick<Notice, 'event' | 'test' | 'alert'>, config: NotificationsConfig): string[] => {
  const { email } = config;
  if (notice.test) return email.recipients;
  if (!email.enabled || !allowed(notice, config)) return [];
  if (email.when === 'digest') return [];
  if (email.when === 'failures' && !FAILURE_EVENTS.includes(notice.event)) return [];
  if (notice.event === 'alert.raised' && toldByItsJob(notice.alert, config)) return [];
  return email.recipients;
};

/** The job events that already tell what an alert about that job says. */
const JOB_ALERTS: Record<string, NotificationEvent[]> = {
  'failed-job': ['backup.failed', 'restore.failed'],
  'backup-warnings': ['backup.warning'],
  'failed-drill': ['drill.failed'],
};

/**
 * Whether the alert is about a job whose own event went out by e-mail already: "Backup failed"
 * is one message, not two (the job's, then its alert's). Its `alert.cleared` is still sent: it
 * is the only message saying that things are right again.
 */
const toldByItsJob = (alert: Notice['alert'], config: NotificationsConfig) =>
  Boolean(alert?.jobId) && (JOB_ALERTS[alert!.type] ?? []).some((event) => config.events.includes(event));

/** Whether the event goes to Strapi's event hub (Strapi's own webhooks that chose it). */
export const strapiWebhooksWanted = (notice: Pick<Notice, 'event' | 'test'>, config: NotificationsConfig) => !notice.test && allowed(notice, config);

export interface NoticeContext {
  app: Notice['app'];
  /** The admin panel's absolute URL when the app's public URL is known, else null. */
  adminBase: string | null;
}

/** The admin page of a job: its backup's page when it has one, else Monitoring (the job list). */
export const adminUrlFor = (adminBase: string | null, backupId: string | null | undefined) =>
  adminBase ? `${adminBase}/plugins/pacta-backup/${backupId ? encodeURIComponent(backupId) : 'monitoring'}` : null;

const noticeJob = (job: Job): NoticeJob => ({
  id: job.id,
  type: job.type,
  trigger: job.trigger,
  status: job.status,
  startedAt: job.startedAt,
  finishedAt: job.finishedAt,
  durationMs: job.durationMs,
  backupId: job.backupId,
  error: job.error,
  log: job.log.slice(-NOTICE_LOG_LINES),
});

/** ` <backup id>` when the job has one. */
const named = (job?: Job) => (job?.backupId ? ` ${job.backupId}` : '');

const SUMMARIES: Record<NotificationEvent, (job?: Job) => string> = {
  'backup.succeeded': (job) => `Backup${named(job)} succeeded`,
  'backup.warning': (job) => `Backup${named(job)} completed with warnings: ${job?.warnings.join('; ') || 'see its log'}`,
  'backup.failed': (job) => `Backup failed: ${job?.error?.message ?? 'unknown error'}`,
  'restore.succeeded': (job) => `Restore of backup${named(job)} succeeded`,
  'restore.failed': (job) => `Restore of backup${named(job)} failed (the data was left as it was): ${job?.error?.message ?? 'unknown error'}`,
  'import.applied': () => 'Import applied',
  'drill.failed': (job) => `Restore drill of backup${named(job)} failed: ${job?.error?.message ?? 'unknown error'}`,
  'alert.raised': () => 'Alert raised',
  'alert.cleared': () => 'Alert cleared',
};

/** The notice of a finished job (its event from jobEvent). */
export const noticeFromJob = (job: Job, event: NotificationEvent, context: NoticeContext): Notice => {
  const backup = job.result?.backup as { id?: string; name?: string } | undefined;
  return {
    id: randomUUID(),
    event,
    at: job.finishedAt ?? new Date().toISOString(),
    summary: SUMMARIES[event](job),
    job: noticeJob(job),
    backup: backup?.id ? { id: backup.id, name: backup.name ?? backup.id } : job.backupId ? { id: job.backupId, name: job.backupId } : null,
    adminUrl: adminUrlFor(context.adminBase, job.backupId),
    app: context.app,
  };
};

/** The notice of an alert that appeared (`alert.raised`) or went away (`alert.cleared`). */
export const noticeFromAlert = (alert: NoticeAlert & { jobId?: string; backupId?: string }, event: 'alert.raised' | 'alert.cleared', context: NoticeContext, now = new Date()): Notice => ({
  id: randomUUID(),
  event,
  at: now.toISOString(),
  summary: event === 'alert.raised' ? `Alert (${alert.severity}): ${alert.message}` : `Alert cleared: ${alert.message}`,
  alert: { type: alert.type, severity: alert.severity, message: alert.message, at: alert.at, ...(alert.jobId ? { jobId: alert.jobId } : {}) },
  backup: alert.backupId ? { id: alert.backupId, name: alert.backupId } : null,
  adminUrl: context.adminBase ? `${context.adminBase}/plugins/pacta-backup/monitoring` : null,
  app: context.app,
});

/** The notice "Send a test" sends: a backup.succeeded marked test, through every channel asked. */
export const testNotice = (context: NoticeContext, now = new Date()): Notice => ({
  id: randomUUID(),
  event: 'backup.succeeded',
  at: now.toISOString(),
  summary: 'Test notification from PACTA Backup: this channel works',
  test: true,
  backup: null,
  adminUrl: context.adminBase ? `${context.adminBase}/plugins/pacta-backup/monitoring` : null,
  app: context.app,
});

/**
 * One line of a job's log per delivery: the event, the channel, the target (a URL without its
 * query string), the result and the attempts. Never a secret: none is in a Delivery.
 */
export const deliveryLine = (notice: Pick<Notice, 'event'>, delivery: Delivery) => {
  const target = delivery.channel === 'email' ? delivery.target : displayUrl(delivery.target);
  const attempts = `${delivery.attempts} attempt${delivery.attempts === 1 ? '' : 's'}`;
  const status = delivery.status === undefined ? '' : `HTTP ${delivery.status}, `;
  const result = !delivery.ok
    ? `not delivered (${delivery.error ?? 'error'}, ${attempts})`
    : delivery.channel === 'strapi-webhook'
      ? "handed to Strapi's webhook runner (Strapi logs its result, and does not retry)"
      : `delivered (${status}${attempts})`;
  return `${delivery.at} notification ${notice.event} via ${delivery.channel} to ${target}: ${result}`;
};
