/**
 * The e-mail channel: notices and the daily digest sent through Strapi's e-mail plugin, with the
 * provider the app configured (nodemailer, sendmail, SendGrid…); the plugin has no SMTP client
 * of its own. One message per recipient, in the recipient's language, with every secret the
 * plugin knows of taken out of it first.
 */
import type { Core } from '@strapi/strapi';

import type { PluginConfig } from '../config/schema';
import type { Job } from '../contracts/backups';
import { redact } from '../logging/logger';
import { INSTANCE_ID } from '../services/locks';
import type { Alert } from '../services/monitoring';
import { getService } from '../utils';
import { fill, MESSAGES, notificationLanguage, type Catalogue } from './messages';
import type { Delivery, Notice, NotificationLanguage } from './types';

/** How many of the job's last log lines an e-mail shows. */
export const LOG_EXCERPT_LINES = 20;
const REDACTED = '[redacted]';
const SUBJECT_MAX = 200;

/**
 * What looks like a secret whatever its value: a password in a URL, a bearer token, and
 * `password=…`, `token: …`, `"client_secret": "…"`, `api_key=…` pairs.
 */
const SECRET_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // scheme://user:password@host (postgres://, mysql://, smtp://, https://…): the user stays.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*):[^\s@/]+@/gi, `$1:${REDACTED}@`],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, `Bearer ${REDACTED}`],
  [/\b(authorization["']?\s*[:=]\s*["']?)(?:(?:basic|bearer|token)\s+)?[^\s"',;]+/gi, `$1${REDACTED}`],
  [
    /\b([\w-]*(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,]+)/gi,
    `$1${REDACTED}`,
  ],
];

/**
 * Removes secrets from a text before it leaves the app: every known secret value (as is and
 * URL-encoded; values shorter than 4 characters are not searched), then whatever looks like one
 * (see SECRET_PATTERNS).
 */
export const redactSecrets = (text: string, secrets: ReadonlyArray<string | null | undefined> = []): string => {
  const known = secrets.flatMap((secret) => (secret ? [secret, encodeURIComponent(secret)] : []));
  // Longest first: a secret that contains another is not left half-replaced.
  let out = redact(text, [...new Set(known)].sort((a, b) => b.length - a.length));
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
};

/** Strapi's own secrets, by the names its generated .env gives them. */
const STRAPI_SECRET_ENV = ['APP_KEYS', 'API_TOKEN_SALT', 'ADMIN_JWT_SECRET', 'TRANSFER_TOKEN_SALT', 'JWT_SECRET', 'ENCRYPTION_KEY', 'DATABASE_PASSWORD'];

/**
 * The values no e-mail may contain: the backup passphrase (`encryptionKeyEnv`), the webhook
 * targets' signing secrets (`secretEnv`) and Strapi's own secrets, read from the environment;
 * a comma-separated value (APP_KEYS) counts as a whole and as each of its parts.
 */
export const secretValues = (config: Pick<PluginConfig, 'encryptionKeyEnv' | 'notifications'>, env: NodeJS.ProcessEnv = process.env): string[] => {
  const names = new Set([config.encryptionKeyEnv, ...config.notifications.webhooks.targets.flatMap((t) => (t.secretEnv ? [t.secretEnv] : [])), ...STRAPI_SECRET_ENV]);
  return [...names].flatMap((name) => {
    const value = env[name];
    if (!value) return [];
    const parts = value.split(',').map((part) => part.trim()).filter(Boolean);
    return parts.length > 1 ? [value, ...parts] : [value];
  });
};

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export interface RenderOptions {
  language: NotificationLanguage;
  /** IANA time zone of the dates (the plugin's `timezone`). */
  timeZone: string;
  /** Applied to every text that comes from a job, an alert or an error. */
  redact: (text: string) => string;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** One line, at most SUBJECT_MAX characters: a subject never carries a header break. */
const oneLine = (text: string) => {
  const flat = text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return flat.length > SUBJECT_MAX ? `${flat.slice(0, SUBJECT_MAX - 1)}…` : flat;
};

const isWebUrl = (url: string | null | undefined): url is string => !!url && /^https?:\/\//i.test(url);

const formatDate = (iso: string | Date, catalogue: Catalogue, timeZone: string) => {
  const date = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(date.getTime())) return String(iso);
  return new Intl.DateTimeFormat(catalogue.locale, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
    timeZone,
  }).format(date);
};

const formatDay = (date: Date, catalogue: Catalogue, timeZone: string) => new Intl.DateTimeFormat(catalogue.locale, { dateStyle: 'long', timeZone }).format(date);

/** 850 ms, 12.4 s, 3 min 4 s, 1 h 2 min. */
export const formatDuration = (ms: number) => {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
};

const labelOf = <K extends string>(names: Record<K, string>, key: string) => (Object.prototype.hasOwnProperty.call(names, key) ? names[key as K] : key);

interface Body {
  marker: string | null;
  lead: string;
  rows: Array<[string, string]>;
  /** A titled list of lines (the log excerpt, the digest's sections). */
  sections: Array<{ title: string; lines: string[]; preformatted: boolean; empty?: string }>;
  link: { url: string; label: string } | null;
  footer: string;
  language: NotificationLanguage;
}

const renderText = (body: Body) =>
  [
    ...(body.marker ? [body.marker, ''] : []),
    body.lead,
    '',
    ...body.rows.map(([label, value]) => `${label}: ${value}`),
    ...body.sections.flatMap((s) => ['', `${s.title}:`, ...(s.lines.length ? s.lines.map((line) => (s.preformatted ? `  ${line}` : `- ${line}`)) : [s.empty ?? ''])]),
    ...(body.link ? ['', `${body.link.label}: ${body.link.url}`] : []),
    '',
    '-- ',
    body.footer,
    '',
  ].join('\n');

const renderHtml = (body: Body) => {
  const rows = body.rows
    .map(([label, value]) => `<tr><th align="left" valign="top" style="padding:2px 12px 2px 0">${escapeHtml(label)}</th><td style="padding:2px 0">${escapeHtml(value)}</td></tr>`)
    .join('');
  const sections = body.sections
    .map((s) => {
      const title = `<h3 style="font-size:14px;margin:16px 0 4px">${escapeHtml(s.title)}</h3>`;
      if (!s.lines.length) return `${title}<p>${escapeHtml(s.empty ?? '')}</p>`;
      if (s.preformatted) return `${title}<pre style="background:#f6f6f9;padding:8px;white-space:pre-wrap;font-size:12px">${s.lines.map(escapeHtml).join('\n')}</pre>`;
      return `${title}<ul>${s.lines.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`;
    })
    .join('');
  return [
    `<!DOCTYPE html><html lang="${body.language}"><body style="font-family:sans-serif;font-size:14px;color:#32324d">`,
    body.marker ? `<p style="background:#fdf4dc;padding:8px"><strong>${escapeHtml(body.marker)}</strong></p>` : '',
    `<p>${escapeHtml(body.lead)}</p>`,
    rows ? `<table>${rows}</table>` : '',
    sections,
    body.link ? `<p><a href="${escapeHtml(body.link.url)}">${escapeHtml(body.link.label)}</a></p>` : '',
    `<p style="color:#666687;font-size:12px">${escapeHtml(body.footer)}</p>`,
    '</body></html>',
  ].join('');
};

/** The e-mail of one notice in one language (pure: everything it needs comes in). */
export const renderNotice = (notice: Notice, { language, timeZone, redact: clean }: RenderOptions): RenderedEmail => {
  const m = MESSAGES[language];
  const { job, alert } = notice;
  const backupName = notice.backup?.name ?? notice.backup?.id ?? job?.backupId ?? null;
  const values = {
    app: clean(notice.app.name),
    backup: clean(backupName ?? '—'),
    alert: alert ? labelOf(m.alerts, alert.type) : '—',
    error: clean(job?.error?.message ?? alert?.message ?? notice.summary),
  };
  const text = m.events[notice.event];
  const rows: Array<[string, string]> = [[m.labels.event, notice.event]];
  if (alert) rows.push([m.labels.alert, `${labelOf(m.alerts, alert.type)} (${m.severities[alert.severity]}): ${clean(alert.message)}`]);
  if (job) {
    rows.push([m.labels.job, `${labelOf(m.jobTypes, job.type)} ${job.id}`]);
    rows.push([m.labels.status, labelOf(m.statuses, job.status)]);
    rows.push([m.labels.trigger, labelOf(m.triggers, job.trigger)]);
  }
  if (notice.backup) rows.push([m.labels.backup, notice.backup.name && notice.backup.name !== notice.backup.id ? `${clean(notice.backup.name)} (${notice.backup.id})` : notice.backup.id]);
  else if (job?.backupId) rows.push([m.labels.backup, job.backupId]);
  if (job) {
    rows.push([m.labels.started, formatDate(job.startedAt, m, timeZone)]);
    if (job.durationMs !== null) rows.push([m.labels.duration, formatDuration(job.durationMs)]);
    if (job.error) rows.push([m.labels.error, `${clean(job.error.message)} (${job.error.code})`]);
  }
  const log = (job?.log ?? []).slice(-LOG_EXCERPT_LINES).map(clean);
  const subject = fill(text.subject, values);
  return render({
    marker: notice.test ? `${m.testMarker} ${m.testLead}` : null,
    lead: fill(text.lead, values),
    rows,
    sections: log.length ? [{ title: fill(m.labels.log, { count: log.length }), lines: log, preformatted: true }] : [],
    link: isWebUrl(notice.adminUrl) ? { url: notice.adminUrl, label: m.labels.open } : null,
    footer: fill(m.labels.footer, { app: values.app, instance: clean(notice.app.instance) }),
    language,
    subject: notice.test ? `${m.testMarker} ${subject}` : subject,
  });
};

const render = ({ subject, ...body }: Body & { subject: string }): RenderedEmail => ({ subject: oneLine(subject), text: renderText(body), html: renderHtml(body) });

export interface DigestInput {
  since: Date;
  until: Date;
  jobs: Job[];
  alerts: Alert[];
}

/** The order of the digest's counts: the good news first, as the admin panel lists them. */
const STATUS_ORDER: ReadonlyArray<string> = ['succeeded', 'warning', 'failed', 'interrupted', 'skipped', 'queued', 'running'];
/** Position in a list; what the list lacks goes last. */
const rank = (order: ReadonlyArray<string>, value: string) => (order.includes(value) ? order.indexOf(value) : order.length);

/** Jobs that did not do what they were started for. */
const FAILED: ReadonlyArray<Job['status']> = ['failed', 'interrupted'];

/** The digest in one language: counts per job type and status, the failures, the active alerts. */
export const renderDigest = (
  input: DigestInput,
  { language, timeZone, redact: clean, app, monitoringUrl }: RenderOptions & { app: { name: string; instance: string }; monitoringUrl: string | null }
): RenderedEmail => {
  const m = MESSAGES[language];
  const byType = new Map<string, Map<string, number>>();
  for (const job of input.jobs) {
    const statuses = byType.get(job.type) ?? new Map<string, number>();
    statuses.set(job.status, (statuses.get(job.status) ?? 0) + 1);
    byType.set(job.type, statuses);
  }
  const counts = [...byType]
    .sort(([a], [b]) => rank(Object.keys(m.jobTypes), a) - rank(Object.keys(m.jobTypes), b))
    .map(([type, statuses]) =>
      fill(m.digest.countLine, {
        type: labelOf(m.jobTypes, type),
        counts: [...statuses]
          .sort(([a], [b]) => rank(STATUS_ORDER, a) - rank(STATUS_ORDER, b))
          .map(([status, count]) => `${labelOf(m.statuses, status)} ${count}`)
          .join(' · '),
      })
    );
  const failures = input.jobs
    .filter((job) => FAILED.includes(job.status))
    .map((job) => {
      const error = job.error ? `: ${clean(job.error.message)} (${job.error.code})` : '';
      return `${labelOf(m.jobTypes, job.type)} ${job.id}, ${formatDate(job.finishedAt ?? job.startedAt, m, timeZone)} — ${labelOf(m.statuses, job.status)}${error}`;
    });
  const alerts = input.alerts.map((alert) => `${labelOf(m.alerts, alert.type)} (${m.severities[alert.severity]}): ${clean(alert.message)}`);
  const name = clean(app.name);
  const date = formatDay(input.until, m, timeZone);
  const sections: Body['sections'] = [];
  if (input.jobs.length) sections.push({ title: m.digest.jobs, lines: counts, preformatted: false });
  if (failures.length) sections.push({ title: m.digest.failures, lines: failures, preformatted: false });
  sections.push({ title: m.digest.activeAlerts, lines: alerts, preformatted: false, empty: m.digest.noAlerts });
  const lead = fill(m.digest.lead, { app: name, since: formatDate(input.since, m, timeZone), until: formatDate(input.until, m, timeZone) });
  return render({
    marker: null,
    lead: input.jobs.length ? lead : `${lead} ${m.digest.nothing}`,
    rows: [],
    sections,
    link: isWebUrl(monitoringUrl) ? { url: monitoringUrl, label: m.digest.open } : null,
    footer: fill(m.labels.footer, { app: name, instance: clean(app.instance) }),
    language,
    subject: failures.length ? fill(m.digest.subjectFailures, { app: name, date, count: failures.length }) : fill(m.digest.subject, { app: name, date }),
  });
};

/** What the channel needs of Strapi's e-mail plugin (its `email` service and loaded provider). */
interface EmailPlugin {
  provider?: { send?: unknown };
  service(name: 'email'): { send(options: { to: string; subject: string; text: string; html: string }): Promise<unknown> };
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error)) || 'the e-mail provider failed without a message';

/**
 * The e-mail channel. `send` and `sendDigest` never throw: each recipient gets its own message
 * (addresses are not shown to one another) and its own Delivery, ok:false with the provider's
 * error when sending failed.
 */
export const createEmailChannel = (strapi: Core.Strapi) => {
  const config = () => getService('config', { strapi }).get();
  const emailPlugin = () => strapi.plugin('email') as unknown as EmailPlugin | undefined;

  /** Every known secret of this app: the plugin's, Strapi's, the database's and the SMTP password. */
  const cleaner = (current: PluginConfig) => {
    const secrets = [
      ...secretValues(current),
      strapi.config.get<string | undefined>('plugin::email.providerOptions.auth.pass'),
      strapi.config.get<string | undefined>('database.connection.connection.password'),
    ].filter((value): value is string => typeof value === 'string');
    return (text: string) => redactSecrets(text, secrets);
  };

  /** Each recipient's language: an admin user's chosen interface language, else the configured one. */
  const languages = async (recipients: string[], fallback: NotificationLanguage) => {
    const chosen = new Map<string, NotificationLanguage>();
    try {
      const emails = [...new Set(recipients.flatMap((r) => [r, r.toLowerCase()]))];
      const users = (await strapi.db.query('admin::user').findMany({ where: { email: { $in: emails } }, select: ['email', 'preferedLanguage'] })) as Array<{
        email: string;
        preferedLanguage: string | null;
      }>;
      for (const user of users) chosen.set(user.email.toLowerCase(), notificationLanguage(user.preferedLanguage, fallback));
    } catch (error) {
      strapi.log.warn(`[pacta-backup] could not read the admin users' languages (${errorMessage(error)}); e-mails are sent in "${fallback}"`);
    }
    return new Map(recipients.map((r) => [r, chosen.get(r.toLowerCase()) ?? fallback]));
  };

  const deliver = async (to: string, message: RenderedEmail, clean: (text: string) => string): Promise<Delivery> => {
    const delivery = { channel: 'email' as const, target: to, attempts: 1 };
    const plugin = emailPlugin();
    if (!channel.available() || !plugin) {
      return { ...delivery, attempts: 0, ok: false, error: "Strapi's e-mail plugin is not installed or has no provider", at: new Date().toISOString() };
    }
    try {
      await plugin.service('email').send({ to, ...message });
      return { ...delivery, ok: true, at: new Date().toISOString() };
    } catch (error) {
      return { ...delivery, ok: false, error: clean(errorMessage(error)), at: new Date().toISOString() };
    }
  };

  /**
   * Renders once per language, sends once per recipient (an address listed twice, whatever its
   * case, gets one message). Everything that could throw is inside: a failure is a Delivery.
   */
  const sendAll = async (
    list: string[],
    renderIn: (language: NotificationLanguage, clean: (text: string) => string, current: PluginConfig) => RenderedEmail
  ): Promise<Delivery[]> => {
    const unique = new Map<string, string>();
    for (const address of list.map((r) => r.trim())) if (address && !unique.has(address.toLowerCase())) unique.set(address.toLowerCase(), address);
    const recipients = [...unique.values()];
    if (!recipients.length) return [];
    let clean = (text: string) => redactSecrets(text);
    try {
      const current = config();
      clean = cleaner(current);
      const byRecipient = await languages(recipients, current.notifications.email.language);
      const rendered = new Map<NotificationLanguage, RenderedEmail>();
      for (const language of new Set(byRecipient.values())) rendered.set(language, renderIn(language, clean, current));
      return await Promise.all(recipients.map((to) => deliver(to, rendered.get(byRecipient.get(to) as NotificationLanguage) as RenderedEmail, clean)));
    } catch (error) {
      // Not the provider's failure (deliver() catches that): the message could not be built.
      const message = clean(`the e-mail could not be written: ${errorMessage(error)}`);
      return recipients.map((to) => ({ channel: 'email' as const, target: to, attempts: 0, ok: false, error: message, at: new Date().toISOString() }));
    }
  };

  const channel = {
    /** Strapi's e-mail plugin is installed and its provider is loaded (after Strapi's bootstrap). */
    available(): boolean {
      const provider = emailPlugin()?.provider;
      return !!provider && typeof provider.send === 'function';
    },

    /** One e-mail per recipient, in the recipient's language. */
    async send(notice: Notice, recipients: string[]): Promise<Delivery[]> {
      return sendAll(recipients, (language, clean, current) => renderNotice(notice, { language, timeZone: current.timezone, redact: clean }));
    },

    /** The digest of a period (what happened since the last one), one e-mail per recipient. */
    async sendDigest(input: DigestInput, recipients: string[]): Promise<Delivery[]> {
      return sendAll(recipients, (language, clean, current) => {
        const adminUrl = strapi.config.get<string | undefined>('admin.url');
        // A link only when the app's public URL is configured (otherwise it would say localhost).
        const monitoringUrl = isWebUrl(adminUrl) ? `${adminUrl.replace(/\/$/, '')}/plugins/pacta-backup/monitoring` : null;
        const app = { name: String(strapi.config.get('info.name') ?? 'Strapi'), instance: INSTANCE_ID };
        return renderDigest(input, { language, timeZone: current.timezone, redact: clean, app, monitoringUrl });
      });
    },
  };
  return channel;
};

export type EmailChannel = ReturnType<typeof createEmailChannel>;
