import config from '..';
import { configSchema, MAX_CRON_LENGTH, settingsSchema } from '../schema';

describe('plugin configuration', () => {
  it('has a complete default, so an app without config/plugins.ts entry works', () => {
    expect(config.default).toEqual({
      enabled: true,
      schedule: '0 2 * * *',
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      retention: { daily: 7, weekly: 0, monthly: 0, keepLast: 1, includeManual: false },
      storage: { folder: 'backups' },
      compression: 'best',
      encryptionKeyEnv: 'PACTA_BACKUP_KEY',
      scope: { contentTypes: 'all', media: true, adminUsers: false, config: false },
      spaceAlertBelow: '10%',
      drill: { enabled: true, schedule: '0 4 * * 0' },
      media: { missing: 'warn', rehashAfterDays: 7 },
      offsite: {
        enabled: false,
        backend: 's3',
        region: 'us-east-1',
        bucket: '',
        prefix: '',
        forcePathStyle: true,
        accessKeyIdEnv: 'PACTA_BACKUP_S3_ACCESS_KEY_ID',
        secretAccessKeyEnv: 'PACTA_BACKUP_S3_SECRET_ACCESS_KEY',
        idleTimeoutSeconds: 120,
        deduplicate: false,
        collectAfterMinutes: 60,
        check: { enabled: true, schedule: '0 5 * * 0', samplePercent: 10 },
      },
      log: { folder: 'logs/pacta-backup', level: 'info', maxDays: 14 },
      import: { maxUploadBytes: 5 * 1024 ** 3 },
      notifications: {
        events: [
          'backup.succeeded',
          'backup.failed',
          'backup.warning',
          'restore.succeeded',
          'restore.failed',
          'import.applied',
          'drill.failed',
          'alert.raised',
          'alert.cleared',
        ],
        email: { enabled: false, recipients: [], when: 'failures', digestSchedule: '0 8 * * *', language: 'en' },
        webhooks: { enabled: false, targets: [], retries: 3, backoffMs: 2000, timeoutMs: 10000 },
      },
    });
    expect(() => config.validator(config.default)).not.toThrow();
  });

  it('caps import uploads at 5 GiB unless told otherwise, and refuses a cap that is not a positive integer', () => {
    expect(configSchema.parse({ import: {} }).import).toEqual({ maxUploadBytes: 5368709120 });
    expect(configSchema.parse({ import: { maxUploadBytes: 1024 } }).import).toEqual({ maxUploadBytes: 1024 });
    expect(() => config.validator({ import: { maxUploadBytes: 0 } })).toThrow(/import\.maxUploadBytes: must be a positive number of bytes/);
    expect(() => config.validator({ import: { maxUploadBytes: 1.5 } })).toThrow(/import\.maxUploadBytes: /);
    expect(() => config.validator({ import: { maxUploadBytes: '5GB' } })).toThrow(/import\.maxUploadBytes: /);
    expect(() => config.validator({ import: { maxUploadByte: 10 } })).toThrow(/import: Unrecognized key.*maxUploadByte/);
  });

  it('checks the off-site bucket settings: a bucket when enabled, a URL endpoint, folder-like prefixes, variable names', () => {
    expect(() => config.validator({ offsite: { enabled: true, bucket: 'backups', endpoint: 'http://127.0.0.1:7480', prefix: 'pacta/prod/' } })).not.toThrow();
    expect(() => config.validator({ offsite: { enabled: true } })).toThrow(/offsite\.bucket: must name the bucket/);
    expect(() => config.validator({ offsite: { enabled: true, bucket: 'Bad_Bucket' } })).toThrow(/offsite\.bucket: must name the bucket/);
    expect(() => config.validator({ offsite: { enabled: true, bucket: 'ok-bucket', endpoint: 'not a url' } })).toThrow(/offsite\.endpoint: must be a URL/);
    expect(() => config.validator({ offsite: { prefix: 'no-slash' } })).toThrow(/offsite\.prefix: must be empty or folder names/);
    expect(() => config.validator({ offsite: { prefix: '../up/' } })).toThrow(/offsite\.prefix: /);
    expect(() => config.validator({ offsite: { secretAccessKeyEnv: 'my secret' } })).toThrow(/offsite\.secretAccessKeyEnv: must be an environment variable name/);
    expect(() => config.validator({ offsite: { secretAccessKey: 'x' } })).toThrow(/offsite: Unrecognized key.*secretAccessKey/);
    // A folder as the backend: no bucket needed, the folder is.
    expect(() => config.validator({ offsite: { enabled: true, backend: 'local', folder: '/mnt/nas/pacta' } })).not.toThrow();
    expect(() => config.validator({ offsite: { enabled: true, backend: 'local' } })).toThrow(/offsite\.folder: must name the folder/);
    expect(() => config.validator({ offsite: { enabled: true, backend: 'ftp', bucket: 'ok-bucket' } })).toThrow(/offsite\.backend: /);
    expect(() => config.validator({ offsite: { idleTimeoutSeconds: 0 } })).toThrow(/offsite\.idleTimeoutSeconds: /);
  });

  it('checks notification settings: e-mail addresses, webhook URLs, events and secret variable names', () => {
    const parsed = configSchema.parse({
      notifications: { email: { enabled: true, recipients: ['ops@example.com'] }, webhooks: { targets: [{ url: 'https://hooks.example.com/b', secretEnv: 'HOOK_SECRET' }] } },
    }).notifications;
    expect(parsed.email).toMatchObject({ enabled: true, recipients: ['ops@example.com'], when: 'failures', language: 'en' });
    expect(parsed.webhooks.targets).toEqual([{ url: 'https://hooks.example.com/b', secretEnv: 'HOOK_SECRET' }]);
    expect(() => config.validator({ notifications: { email: { recipients: ['not an address'] } } })).toThrow(/notifications\.email\.recipients\.0: must be an e-mail address/);
    expect(() => config.validator({ notifications: { webhooks: { targets: [{ url: 'ftp://example.com/x' }] } } })).toThrow(/notifications\.webhooks\.targets\.0\.url: must be an http/);
    expect(() => config.validator({ notifications: { events: ['backup.exploded'] } })).toThrow(/notifications\.events\.0/);
    expect(() => config.validator({ notifications: { webhooks: { targets: [{ url: 'https://x.example', secretEnv: 'not a name' }] } } })).toThrow(
      /secretEnv: must be an environment variable name/
    );
    expect(settingsSchema.parse({ notifications: { email: { recipients: ['a@example.com'] } } })).toEqual({ notifications: { email: { recipients: ['a@example.com'] } } });
    expect(() => settingsSchema.parse({ notifications: { webhooks: { retries: 5 } } })).toThrow();
  });

  it('fills the defaults of the fields a user leaves out', () => {
    expect(configSchema.parse({ storage: {} }).storage).toEqual({ folder: 'backups' });
  });

  it('refuses an empty storage folder and names the field', () => {
    expect(() => config.validator({ storage: { folder: '  ' } })).toThrow(
      'Invalid pacta-backup configuration: storage.folder: must be a non-empty path'
    );
  });

  it('refuses a value of the wrong type and names the field', () => {
    expect(() => config.validator({ storage: { folder: 42 } })).toThrow(/storage\.folder: .*string/);
  });

  it('refuses an encryption key variable that is not a variable name, and a bad compression', () => {
    expect(() => config.validator({ encryptionKeyEnv: 'my key' })).toThrow(/encryptionKeyEnv: must be an environment variable name/);
    expect(() => config.validator({ compression: 'max' })).toThrow(/compression: /);
  });

  it('refuses a misspelt option instead of ignoring it', () => {
    expect(() => config.validator({ storage: { folder: 'x' }, schedul: '0 2 * * *' })).toThrow(
      /\(root\): Unrecognized key.*schedul/
    );
  });

  it('refuses a schedule that is not a cron expression, and says what a good one looks like', () => {
    expect(() => config.validator({ schedule: 'every night' })).toThrow(/schedule: must be a cron expression such as "0 2 \* \* \*"/);
    expect(() => config.validator({ schedule: '0 25 * * *' })).toThrow(/schedule: .*hour/);
    expect(() => config.validator({ drill: { schedule: '61 * * * *' } })).toThrow(/drill\.schedule: /);
    expect(() => config.validator({ schedule: '*/10 * * * * *' })).not.toThrow();
  });

  it('refuses an unknown time zone, a retention that would keep nothing, and a bad alert threshold', () => {
    expect(() => config.validator({ timezone: 'Mars/Olympus' })).toThrow(/timezone: must be an IANA time zone/);
    expect(() => config.validator({ timezone: 'Europe/Madrid' })).not.toThrow();
    expect(() => config.validator({ retention: { keepLast: 0 } })).toThrow(/retention\.keepLast: must be at least 1/);
    expect(() => config.validator({ retention: { daily: -1 } })).toThrow(/retention\.daily: /);
    expect(() => config.validator({ retention: { dayly: 3 } })).toThrow(/retention: Unrecognized key.*dayly/);
    expect(() => config.validator({ spaceAlertBelow: 'ten percent' })).toThrow(/spaceAlertBelow: /);
    expect(() => config.validator({ spaceAlertBelow: 5_000_000_000 })).not.toThrow();
    expect(() => config.validator({ spaceAlertBelow: '12.5%' })).not.toThrow();
  });

  it('checks the scope of scheduled backups and the log options', () => {
    expect(() => config.validator({ scope: { contentTypes: ['contract'] } })).toThrow(/scope\.contentTypes\.0: must be a content type uid/);
    expect(() => config.validator({ scope: { contentTypes: ['api::contract.contract'], media: false } })).not.toThrow();
    expect(() => config.validator({ log: { level: 'verbose' } })).toThrow(/log\.level: /);
  });

  it('bounds what an admin can type: percentages up to 100 %, cron strings, retention counts, scope lists', () => {
    const issues = (body: unknown) => {
      const result = settingsSchema.safeParse(body);
      return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    };
    expect(issues({ spaceAlertBelow: '200%' })).toEqual(['spaceAlertBelow: must be a percentage of at most 100%']);
    expect(issues({ spaceAlertBelow: '100.5%' })).toEqual(['spaceAlertBelow: must be a percentage of at most 100%']);
    expect(issues({ spaceAlertBelow: `${'9'.repeat(40)}%` })).toEqual(['spaceAlertBelow: must be a number of bytes or a percentage such as "10%"']);
    expect(issues({ spaceAlertBelow: '100%' })).toEqual([]);
    expect(issues({ spaceAlertBelow: '0%' })).toEqual([]);
    expect(() => config.validator({ spaceAlertBelow: '150%' })).toThrow(/spaceAlertBelow: must be a percentage of at most 100%/);

    // A 40 KB schedule is refused by its length before node-cron reads it.
    expect(issues({ schedule: `0 2 * * ${'1,'.repeat(20_000)}1` })).toEqual([`schedule: must be a cron expression of at most ${MAX_CRON_LENGTH} characters`]);
    expect(issues({ drill: { schedule: `0 4 * * ${' '.repeat(MAX_CRON_LENGTH)}0` } })).toEqual([
      `drill.schedule: must be a cron expression of at most ${MAX_CRON_LENGTH} characters`,
    ]);
    // Every minute listed one by one is still a schedule.
    const everyMinute = `${Array.from({ length: 60 }, (_, i) => i).join(',')} * * * *`;
    expect(everyMinute.length).toBeLessThanOrEqual(MAX_CRON_LENGTH);
    expect(issues({ schedule: everyMinute })).toEqual([]);
    expect(issues({ schedule: '0 0 2 * * * *' })).toEqual(['schedule: must be a cron expression such as "0 2 * * *" (expression: expected 5 or 6 fields but got 7)']);

    expect(issues({ retention: { daily: 3651 } })).toEqual(['retention.daily: Too big: expected number to be <=3650']);
    expect(issues({ retention: { weekly: 521, monthly: 1201, keepLast: 1001 } })).toHaveLength(3);
    expect(issues({ retention: { daily: 1.5 } })).toHaveLength(1);
    expect(issues({ scope: { contentTypes: Array.from({ length: 501 }, (_, i) => `api::t${i}.t${i}`) } })).toEqual([
      'scope.contentTypes: Too big: expected array to have <=500 items',
    ]);
  });
});
