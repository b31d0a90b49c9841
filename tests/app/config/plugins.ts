import path from 'path';

const appRoot = path.resolve(__dirname, '..', '..');

/** The object without its undefined fields (at any depth): what is not set stays editable. */
const defined = <T extends Record<string, unknown>>(value: T): T =>
  Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, v && typeof v === 'object' && !Array.isArray(v) ? defined(v as Record<string, unknown>) : v])
      .filter(([, v]) => !(v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0))
  ) as T;

/**
 * The plugin's configuration (reference: the README). What an environment variable sets here
 * is fixed (shown read-only in Settings → Backups); the rest is edited in the admin panel.
 * E.g. PACTA_BACKUP_SCHEDULE="* * * * *" npm run demo runs a backup every minute.
 */
export default ({ env }) => {
  const set = (name: string, read: (name: string) => unknown) => (process.env[name] === undefined ? undefined : read(name));
  return {
    // Strapi's e-mail plugin through the nodemailer provider, to the SMTP server the e-mail tests
    // start on loopback (tests/helpers/smtp.ts). Without PACTA_TEST_SMTP_PORT, Strapi's default.
    ...(process.env.PACTA_TEST_SMTP_PORT
      ? {
          email: {
            config: {
              provider: 'nodemailer',
              providerOptions: {
                host: env('PACTA_TEST_SMTP_HOST', '127.0.0.1'),
                port: env.int('PACTA_TEST_SMTP_PORT'),
                secure: false,
                ignoreTLS: true,
                connectionTimeout: 10_000,
              },
              settings: { defaultFrom: 'PACTA Backup <backups@pacta.test>', defaultReplyTo: 'admin@pacta.test' },
            },
          },
        }
      : {}),
    'pacta-backup': {
      enabled: true,
      config: defined({
        enabled: set('PACTA_BACKUP_ENABLED', (n) => env.bool(n)),
        schedule: set('PACTA_BACKUP_SCHEDULE', (n) => env(n)),
        timezone: set('PACTA_BACKUP_TIMEZONE', (n) => env(n)),
        retention: {
          daily: set('PACTA_BACKUP_RETENTION_DAILY', (n) => env.int(n)),
          weekly: set('PACTA_BACKUP_RETENTION_WEEKLY', (n) => env.int(n)),
        },
        storage: {
          folder: path.resolve(appRoot, env('PACTA_BACKUP_STORAGE', 'backups')),
        },
        spaceAlertBelow: set('PACTA_BACKUP_SPACE_ALERT_BELOW', (n) => env(n)),
        media: {
          missing: set('PACTA_BACKUP_MEDIA_MISSING', (n) => env(n)),
          rehashAfterDays: set('PACTA_BACKUP_MEDIA_REHASH_AFTER_DAYS', (n) => env.int(n)),
        },
        log: { folder: path.resolve(appRoot, env('PACTA_BACKUP_LOG_DIR', 'logs/pacta-backup')) },
        // E.g. the Ceph RADOS Gateway the off-site tests start (tests/s3/rgw.sh); the access keys
        // in PACTA_BACKUP_S3_ACCESS_KEY_ID and PACTA_BACKUP_S3_SECRET_ACCESS_KEY. Or a folder:
        // PACTA_BACKUP_OFFSITE_BACKEND=local PACTA_BACKUP_OFFSITE_FOLDER=/mnt/nas/pacta.
        offsite: {
          enabled: set('PACTA_BACKUP_OFFSITE_ENABLED', (n) => env.bool(n)),
          backend: set('PACTA_BACKUP_OFFSITE_BACKEND', (n) => env(n)),
          folder: set('PACTA_BACKUP_OFFSITE_FOLDER', (n) => env(n)),
          idleTimeoutSeconds: set('PACTA_BACKUP_OFFSITE_IDLE_TIMEOUT', (n) => env.int(n)),
          deduplicate: set('PACTA_BACKUP_OFFSITE_DEDUPLICATE', (n) => env.bool(n)),
          collectAfterMinutes: set('PACTA_BACKUP_OFFSITE_COLLECT_AFTER_MINUTES', (n) => env.int(n)),
          endpoint: set('PACTA_BACKUP_OFFSITE_ENDPOINT', (n) => env(n)),
          bucket: set('PACTA_BACKUP_OFFSITE_BUCKET', (n) => env(n)),
          prefix: set('PACTA_BACKUP_OFFSITE_PREFIX', (n) => env(n)),
        },
      }),
    },
  };
};
