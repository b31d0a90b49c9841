/**
 * What the plugin tells people: the events it sends (by e-mail, to the plugin's own webhook
 * targets, and through Strapi's webhook store) and the shape of one notice.
 */

/** Every event, in the order the settings page lists them. */
export const NOTIFICATION_EVENTS = [
  'backup.succeeded',
  'backup.failed',
  'backup.warning',
  'restore.succeeded',
  'restore.failed',
  'import.applied',
  'drill.failed',
  'alert.raised',
  'alert.cleared',
] as const;

export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** The events "failures and alerts only" sends (the e-mail default). */
export const FAILURE_EVENTS: ReadonlyArray<NotificationEvent> = ['backup.failed', 'backup.warning', 'restore.failed', 'drill.failed', 'alert.raised', 'alert.cleared'];

export const NOTIFICATION_LANGUAGES = ['en', 'es'] as const;
export type NotificationLanguage = (typeof NOTIFICATION_LANGUAGES)[number];

/** The job a notice is about: what a person needs to see what happened, never a secret. */
export interface NoticeJob {
  id: string;
  type: string;
  trigger: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  backupId: string | null;
  error: { message: string; code: string } | null;
  /** The last lines of the job's log. */
  log: string[];
}

export interface NoticeAlert {
  type: string;
  severity: 'warning' | 'error';
  message: string;
  at: string;
  /** The job the alert is about (a failed backup, restore or drill), when it is about one. */
  jobId?: string;
}

/** One thing that happened, as every channel receives it. */
export interface Notice {
  /** Unique per notice: receivers use it to drop a retried delivery they already have. */
  id: string;
  event: NotificationEvent;
  at: string;
  /** One line, in English (each channel renders its own text in its language). */
  summary: string;
  job?: NoticeJob;
  alert?: NoticeAlert;
  backup?: { id: string; name: string } | null;
  /** The job (or the Monitoring page) in the admin panel, when the app's public URL is known. */
  adminUrl: string | null;
  /** Sent by Settings → Notifications → Send a test. */
  test?: boolean;
  app: { name: string; instance: string };
}

/** The result of delivering a notice to one target. */
export interface Delivery {
  channel: 'email' | 'webhook' | 'strapi-webhook';
  /** An e-mail address, or a URL without its query string. */
  target: string;
  ok: boolean;
  attempts: number;
  /** HTTP status of the last attempt (webhooks). */
  status?: number;
  error?: string;
  at: string;
}
