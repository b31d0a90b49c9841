import path from 'path';

const appRoot = path.resolve(__dirname, '..', '..');

/**
 * The plugin's configuration (reference: the README). Schedule, retention and folders come
 * from environment variables, so the demo can be tried with another schedule without editing
 * files, e.g. PACTA_BACKUP_SCHEDULE="* * * * *" npm run demo.
 */
export default ({ env }) => ({
  'pacta-backup': {
    enabled: true,
    config: {
      enabled: env.bool('PACTA_BACKUP_ENABLED', true),
      schedule: env('PACTA_BACKUP_SCHEDULE', '0 2 * * *'),
      timezone: env('PACTA_BACKUP_TIMEZONE', 'Europe/Madrid'),
      retention: {
        daily: env.int('PACTA_BACKUP_RETENTION_DAILY', 7),
        weekly: env.int('PACTA_BACKUP_RETENTION_WEEKLY', 4),
        monthly: env.int('PACTA_BACKUP_RETENTION_MONTHLY', 0),
        keepLast: 1,
      },
      storage: {
        folder: path.resolve(appRoot, env('PACTA_BACKUP_STORAGE', 'backups')),
      },
      compression: 'best',
      encryptionKeyEnv: 'PACTA_BACKUP_KEY',
      scope: { contentTypes: 'all', media: true, adminUsers: false, config: false },
      spaceAlertBelow: env('PACTA_BACKUP_SPACE_ALERT_BELOW', '10%'),
      drill: { enabled: true, schedule: env('PACTA_BACKUP_DRILL_SCHEDULE', '0 4 * * 0') },
      log: { folder: path.resolve(appRoot, env('PACTA_BACKUP_LOG_DIR', 'logs/pacta-backup')), level: 'info', maxDays: 14 },
    },
  },
});
