import cron from 'node-cron';
import { z } from 'zod';

import { NOTIFICATION_EVENTS, NOTIFICATION_LANGUAGES } from '../notifications/types';

const UID = /^[a-z0-9-]+::[a-z0-9-]+\.[a-z0-9-]+$/i;

/** Longer than any sensible schedule (a list of every minute is 170 characters). */
export const MAX_CRON_LENGTH = 200;

/** A cron expression node-cron accepts (5 fields, or 6 with seconds first). */
const cronExpression = (example: string) =>
  z
    .string()
    .trim()
    .superRefine((value, context) => {
      if (value.length > MAX_CRON_LENGTH) {
        context.addIssue({ code: 'custom', message: `must be a cron expression of at most ${MAX_CRON_LENGTH} characters` });
        return;
      }
      const detail = cron.validateDetailed(value);
      // What node-cron itself checks when it schedules the task.
      if (!detail.valid || !cron.validate(value)) {
        const why = detail.errors.map((e) => `${e.field}: ${e.message}`).join(', ');
        context.addIssue({ code: 'custom', message: `must be a cron expression such as "${example}" (${why || 'unreadable'})` });
      }
    });

/** Free space as bytes, or as a percentage of the volume (at most 100 %). */
const spaceThreshold = z.union([
  z.number().int().min(0),
  z
    .string()
    .trim()
    .superRefine((value, context) => {
      if (!/^\d{1,12}(\.\d{1,6})?%$/.test(value)) context.addIssue({ code: 'custom', message: 'must be a number of bytes or a percentage such as "10%"' });
      else if (Number.parseFloat(value) > 100) context.addIssue({ code: 'custom', message: 'must be a percentage of at most 100%' });
    }),
]);

/** The content types of the scheduled backups (the API checks that this app has them). */
const scopeContentTypes = z.union([z.literal('all'), z.array(z.string().max(200).regex(UID, 'must be a content type uid such as api::contract.contract')).min(1).max(500)]);

const isTimeZone = (value: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
};

/** The time zone this process runs in (what node-cron uses when none is given). */
export const systemTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

const retentionSchema = z
  .object({
    /** Keep the newest backup of each of the last N days (today included). */
    daily: z.number().int().min(0).max(3650).default(7),
    /** … of each of the last N weeks (weeks start on Monday). */
    weekly: z.number().int().min(0).max(520).default(0),
    /** … of each of the last N months. */
    monthly: z.number().int().min(0).max(1200).default(0),
    /** Always keep the N newest backups, whatever their age (at least 1: never none left). */
    keepLast: z.number().int().min(1, 'must be at least 1: the last good backup is never purged').max(1000).default(1),
    /**
     * Whether the automatic purge also removes manual backups (those a person created). Off by
     * default: a manual backup stays until a person deletes it, and the policy counts only the
     * scheduled ones.
     */
    includeManual: z.boolean().default(false),
  })
  .strict();

const scopeSchema = z
  .object({
    /** `all`, or the uids of the content types the scheduled backups hold. */
    contentTypes: scopeContentTypes.default('all'),
    media: z.boolean().default(true),
    /** Admin users, roles and API tokens: only in encrypted backups. */
    adminUsers: z.boolean().default(false),
    /** Strapi's configuration store. */
    config: z.boolean().default(false),
    /** Encrypt scheduled backups; by default they are encrypted when the key variable is set. */
    encrypt: z.boolean().optional(),
  })
  .strict();

const drillSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** When the latest backup is restored into a scratch database and checked (weekly by default). */
    schedule: cronExpression('0 4 * * 0').default('0 4 * * 0'),
  })
  .strict();

const offsiteCheckSchema = z
  .object({
    enabled: z.boolean().default(true),
    schedule: cronExpression('0 5 * * 0').default('0 5 * * 0'),
    /** The share of the objects read whole at each check (100: all of them). */
    samplePercent: z.number().min(0).max(100).default(10),
  })
  .strict();

const logSchema = z
  .object({
    /** Folder of the plugin's own log files (rotated daily, kept `maxDays`); relative to the app root. */
    folder: z.string().trim().min(1, 'must be a non-empty path').default('logs/pacta-backup'),
    level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
    maxDays: z.number().int().min(1).max(3650).default(14),
  })
  .strict();

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const notificationEvents = z.array(z.enum(NOTIFICATION_EVENTS)).max(NOTIFICATION_EVENTS.length);
/** E-mail addresses (at most 50); the e-mail plugin's provider sends to them. */
const recipients = z.array(z.string().trim().max(254).email('must be an e-mail address')).max(50);
/** http(s) URL of a webhook receiver. */
const webhookUrl = z
  .string()
  .trim()
  .max(2000)
  .url('must be a URL such as https://hooks.example.com/backups')
  .refine((value) => /^https?:\/\//i.test(value), 'must be an http:// or https:// URL');

const webhookTargetSchema = z
  .object({
    url: webhookUrl,
    /** The events this target receives; all of `notifications.events` when absent. */
    events: notificationEvents.optional(),
    /**
     * Name of the environment variable holding the HMAC-SHA256 secret of this target's
     * `X-Pacta-Signature` header. The secret itself never goes in a config file or a log.
     */
    secretEnv: envName.optional(),
  })
  .strict();

const notificationsSchema = z
  .object({
    /** The events that are sent at all (every channel); the e-mail's `when` narrows them further. */
    events: notificationEvents.default([...NOTIFICATION_EVENTS]),
    email: z
      .object({
        enabled: z.boolean().default(false),
        recipients: recipients.default([]),
        /** failures: failures and alerts only; always: every event; digest: one summary a day. */
        when: z.enum(['failures', 'always', 'digest']).default('failures'),
        /** When the daily digest is sent (cron, in `timezone`). */
        digestSchedule: cronExpression('0 8 * * *').default('0 8 * * *'),
        /** Language of a recipient that is not an admin user with a chosen interface language. */
        language: z.enum(NOTIFICATION_LANGUAGES).default('en'),
      })
      .strict()
      .default(() => ({ enabled: false, recipients: [], when: 'failures' as const, digestSchedule: '0 8 * * *', language: 'en' as const })),
    webhooks: z
      .object({
        enabled: z.boolean().default(false),
        targets: z.array(webhookTargetSchema).max(20).default([]),
        /** Attempts after the first one, with exponential backoff. */
        retries: z.number().int().min(0).max(10).default(3),
        /** Delay before the first retry (doubles each time). */
        backoffMs: z.number().int().min(10).max(600_000).default(2000),
        timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
      })
      .strict()
      .default(() => ({ enabled: false, targets: [], retries: 3, backoffMs: 2000, timeoutMs: 10_000 })),
  })
  .strict();

/** 5 GiB: the default cap of one import upload. */
export const DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 ** 3;

const importSchema = z
  .object({
    /**
     * The largest archive (or JSON export) the admin API accepts as an import upload, in bytes.
     * Enforced while the upload streams to the staging folder: past it the upload stops and is
     * deleted (413).
     */
    maxUploadBytes: z.number().int().min(1, 'must be a positive number of bytes').max(Number.MAX_SAFE_INTEGER).default(DEFAULT_MAX_UPLOAD_BYTES),
  })
  .strict();

const offsiteSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Where the copies go: an S3-compatible bucket, or a folder on another disk or a mounted share. */
    backend: z.enum(['s3', 'local']).default('s3'),
    /** The local backend's folder (relative paths from the app root). It must exist: it is never created. */
    folder: z.string().trim().min(1, 'must be a non-empty path').optional(),
    /** The S3 API's address for a server other than AWS (Ceph RGW, MinIO…), e.g. https://s3.example.com. */
    endpoint: z.string().trim().url('must be a URL such as https://s3.example.com').optional(),
    region: z.string().trim().min(1).default('us-east-1'),
    bucket: z.string().trim().default(''),
    /** Key prefix of the archives in the bucket, e.g. "pacta/production/"; empty: the bucket's top. */
    prefix: z
      .string()
      .trim()
      .regex(/^([0-9A-Za-z_-][0-9A-Za-z._-]*\/)*$/, 'must be empty or folder names each ending with "/", e.g. "pacta/production/"')
      .default(''),
    /** Addresses the bucket as a path (endpoint/bucket), as most S3-compatible servers expect. */
    forcePathStyle: z.boolean().default(true),
    accessKeyIdEnv: envName.default('PACTA_BACKUP_S3_ACCESS_KEY_ID'),
    secretAccessKeyEnv: envName.default('PACTA_BACKUP_S3_SECRET_ACCESS_KEY'),
    /** A copy or download that moves no byte for this long is abandoned (a hung server or share). */
    idleTimeoutSeconds: z.number().int().min(1).max(3600).default(120),
    /**
     * Copies as the zip's entries, each stored once by its SHA-256, and an index: an entry the
     * backend already has (the same media file or table as in an earlier backup) is not sent
     * again. Plain archives only gain (an encrypted archive's entries never repeat).
     */
    deduplicate: z.boolean().default(false),
    /**
     * Deduplicated copies: an object no index names is deleted by a purge once this old. A copy
     * running elsewhere (another instance, a CLI on another host) writes its objects before its
     * index, so they are unnamed meanwhile: keep this above the longest copy. 0 collects at once,
     * for a target only this app writes to.
     */
    collectAfterMinutes: z.number().int().min(0).max(10080).default(60),
    /**
     * The scheduled repository check (weekly by default): every index read, every object an
     * index names looked for, and a random sample of the objects read whole and checked against
     * their SHA-256. Damage fails the check job and raises an alert naming the backups affected.
     */
    check: offsiteCheckSchema.default(() => offsiteCheckSchema.parse({})),
  })
  .strict()
  .refine((offsite) => !offsite.enabled || offsite.backend !== 's3' || /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(offsite.bucket), {
    message: 'must name the bucket (3-63 lowercase letters, digits, dots or hyphens) when enabled',
    path: ['bucket'],
  })
  .refine((offsite) => !offsite.enabled || offsite.backend !== 'local' || Boolean(offsite.folder), {
    message: 'must name the folder of the copies when the backend is local',
    path: ['folder'],
  });

/**
 * The plugin's configuration, as written by the host app in `config/plugins.ts` under
 * `pacta-backup.config`. Every field has a default, so `{}` is a valid configuration.
 */
export const configSchema = z
  .object({
    /** Scheduled backups, purges and drills; manual backups and restores work either way. */
    enabled: z.boolean().default(true),
    /** When the automatic backup runs (cron, in `timezone`); a purge follows each one. */
    schedule: cronExpression('0 2 * * *').default('0 2 * * *'),
    /** IANA time zone of the schedules and of the days retention counts; default: the server's. */
    timezone: z
      .string()
      .trim()
      .refine(isTimeZone, 'must be an IANA time zone such as "Europe/Madrid" or "UTC"')
      .default(() => systemTimeZone()),
    retention: retentionSchema.default(() => retentionSchema.parse({})),
    storage: z
      .object({
        /** Folder that holds the backup archives; relative paths are resolved from the app root. */
        folder: z.string().trim().min(1, 'must be a non-empty path').default('backups'),
      })
      .strict()
      .default({ folder: 'backups' }),
    /**
     * A copy of each new backup (manual and scheduled; not the safety backups a restore takes) in
     * an S3-compatible bucket or another folder (a second disk, a mounted share), off this disk. The credentials come from the environment
     * variables named here, never from a config file.
     */
    offsite: offsiteSchema.default(() => offsiteSchema.parse({})),
    /** Deflate level of backups: none (store), fast (level 1) or best (level 6, see archive.ts). */
    compression: z.enum(['none', 'fast', 'best']).default('best'),
    /**
     * Name of the environment variable that holds the encryption passphrase. The passphrase
     * itself never goes in a config file, a log or a backup.
     */
    encryptionKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
      .default('PACTA_BACKUP_KEY'),
    /** What the scheduled backups hold. */
    scope: scopeSchema.default(() => scopeSchema.parse({})),
    /** Alert when the storage's free space falls below this: bytes, or a percentage such as "10%". */
    spaceAlertBelow: spaceThreshold.default('10%'),
    drill: drillSchema.default(() => drillSchema.parse({})),
    /** Media files the database names but the disk lacks: `warn` completes the backup with warnings, `fail` fails it. */
    media: z
      .object({
        missing: z.enum(['warn', 'fail']).default('warn'),
        /**
         * A media file over 256 KB whose size and modification time match what a backup in the
         * last this many days hashed is not read twice (its SHA-256 reused; its bytes, read into
         * the archive, must still give it). 0: every file hashed every time.
         */
        rehashAfterDays: z.number().int().min(0).max(365).default(7),
      })
      .strict()
      .default({ missing: 'warn', rehashAfterDays: 7 }),
    log: logSchema.default(() => logSchema.parse({})),
    /** Imports (merge from another archive or a JSON export). */
    import: importSchema.default(() => importSchema.parse({})),
    /** Who is told what: e-mail through Strapi's e-mail plugin, webhooks. */
    notifications: notificationsSchema.default(() => notificationsSchema.parse({})),
  })
  .strict();

export type PluginConfig = z.infer<typeof configSchema>;
export type RetentionPolicy = PluginConfig['retention'];

/** Formats zod issues as `storage.folder: must be a non-empty path` lines. */
export const formatIssues = (error: z.ZodError) =>
  error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`).join('; ');

/** The fields an admin may change in Settings → Backups (unless config/plugins.ts sets them). */
export const SETTINGS_FIELDS = [
  'enabled',
  'schedule',
  'timezone',
  'retention.daily',
  'retention.weekly',
  'retention.monthly',
  'retention.keepLast',
  'retention.includeManual',
  'compression',
  'scope.contentTypes',
  'scope.media',
  'scope.adminUsers',
  'scope.config',
  'spaceAlertBelow',
  'drill.enabled',
  'drill.schedule',
  'notifications.events',
  'notifications.email.enabled',
  'notifications.email.recipients',
  'notifications.email.when',
  'notifications.email.digestSchedule',
  'notifications.email.language',
  'notifications.webhooks.enabled',
  'notifications.webhooks.targets',
  // Where copies go (backend, folder, endpoint, bucket, keys) is config/plugins.ts only: an admin
  // who could change it could send every backup (the whole database) anywhere.
  'offsite.enabled',
  'offsite.idleTimeoutSeconds',
  'offsite.deduplicate',
  'offsite.check.enabled',
  'offsite.check.schedule',
  'offsite.check.samplePercent',
] as const;

const partial = <T extends z.ZodRawShape>(shape: z.ZodObject<T>) => shape.partial().strict();

/** A change of settings: every field optional, no defaults filled in, nothing else allowed. */
export const settingsSchema = z
  .object({
    enabled: z.boolean(),
    schedule: cronExpression('0 2 * * *'),
    timezone: z.string().trim().refine(isTimeZone, 'must be an IANA time zone such as "Europe/Madrid" or "UTC"'),
    retention: partial(
      z.object({
        daily: z.number().int().min(0).max(3650),
        weekly: z.number().int().min(0).max(520),
        monthly: z.number().int().min(0).max(1200),
        keepLast: z.number().int().min(1, 'must be at least 1: the last good backup is never purged').max(1000),
        includeManual: z.boolean(),
      })
    ),
    compression: z.enum(['none', 'fast', 'best']),
    scope: partial(
      z.object({
        contentTypes: scopeContentTypes,
        media: z.boolean(),
        adminUsers: z.boolean(),
        config: z.boolean(),
      })
    ),
    spaceAlertBelow: spaceThreshold,
    drill: partial(z.object({ enabled: z.boolean(), schedule: cronExpression('0 4 * * 0') })),
    notifications: partial(
      z.object({
        events: notificationEvents,
        email: partial(
          z.object({
            enabled: z.boolean(),
            recipients,
            when: z.enum(['failures', 'always', 'digest']),
            digestSchedule: cronExpression('0 8 * * *'),
            language: z.enum(NOTIFICATION_LANGUAGES),
          })
        ),
        webhooks: partial(z.object({ enabled: z.boolean(), targets: z.array(webhookTargetSchema).max(20) })),
      })
    ),
    offsite: partial(
      z.object({
        enabled: z.boolean(),
        idleTimeoutSeconds: z.number().int().min(1).max(3600),
        deduplicate: z.boolean(),
        check: partial(z.object({ enabled: z.boolean(), schedule: cronExpression('0 5 * * 0'), samplePercent: z.number().min(0).max(100) })),
      })
    ),
  })
  .partial()
  .strict();

export type Settings = z.infer<typeof settingsSchema>;
