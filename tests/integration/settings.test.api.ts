import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, describeOn, startApp, type TestApp } from '../helpers/app';

/**
 * Settings → Backups: what config/plugins.ts sets is fixed; the rest is edited through the
 * API, kept in Strapi's store, validated, and takes effect at once (the next run moves).
 * Strapi's store is the same on every engine: SQLite only.
 */
describeOn('sqlite')(`settings on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;

  beforeAll(async () => {
    // The example app fixes the retention's daily count through its environment variable.
    app = await startApp({ env: { PACTA_BACKUP_ENABLED: 'true', PACTA_BACKUP_RETENTION_DAILY: '5', PACTA_BACKUP_TIMEZONE: 'UTC' } });
    admin = await loginAsSuperAdmin(app.strapi);
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('lists every setting with the ones config/plugins.ts fixes', async () => {
    const res = await admin.get('/pacta-backup/settings');
    expect(res.status).toBe(200);
    const { values, fixed, schedule } = res.body.data;
    expect(values).toMatchObject({ enabled: true, schedule: '0 2 * * *', timezone: 'UTC', 'retention.daily': 5, 'retention.keepLast': 1, compression: 'best' });
    expect(fixed.sort()).toEqual(['enabled', 'retention.daily', 'timezone']);
    expect(new Date(schedule.backup.nextRun).getUTCHours()).toBe(2);
  });

  it('saves a change, which takes effect at once: the next run moves', async () => {
    const res = await admin.put('/pacta-backup/settings', { schedule: '30 23 * * *', retention: { weekly: 4 }, compression: 'fast' });
    expect(res.status).toBe(200);
    expect(res.body.data.values).toMatchObject({ schedule: '30 23 * * *', 'retention.weekly': 4, 'retention.daily': 5, compression: 'fast' });
    const next = new Date(res.body.data.schedule.backup.nextRun);
    expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([23, 30]);
    // Kept in the store: read back, and used by the services.
    expect((await admin.get('/pacta-backup/settings')).body.data.values.schedule).toBe('30 23 * * *');
    expect(app.strapi.plugin('pacta-backup').service('config').get()).toMatchObject({ compression: 'fast', retention: { daily: 5, weekly: 4 } });
  });

  it('refuses a field config/plugins.ts sets, and a bad value, naming them, and changes nothing', async () => {
    const fixed = await admin.put('/pacta-backup/settings', { retention: { daily: 30 } });
    expect(fixed.status).toBe(400);
    expect(fixed.body.error.message).toBe('Set in config/plugins.ts, not editable here: retention.daily');
    const bad = await admin.put('/pacta-backup/settings', { schedule: 'every night', drill: { schedule: '99 * * * *' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^schedule: must be a cron expression .*; drill\.schedule: must be a cron expression/);
    const unknown = await admin.put('/pacta-backup/settings', { storage: { folder: '/tmp/elsewhere' } });
    expect(unknown.status).toBe(400);
    expect((await admin.get('/pacta-backup/settings')).body.data.values).toMatchObject({ schedule: '30 23 * * *', 'retention.daily': 5 });
  });

  it('refuses unknown content types in the scope, a threshold above 100 % and an endless schedule, naming them', async () => {
    const unknown = await admin.put('/pacta-backup/settings', { scope: { contentTypes: ['api::contract.contract', 'api::nope.nope'] } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({
      message: 'scope.contentTypes: not a content type of this app: api::nope.nope',
      details: { errors: [{ path: ['scope', 'contentTypes', '1'], message: 'not a content type of this app: api::nope.nope' }] },
    });
    const percent = await admin.put('/pacta-backup/settings', { spaceAlertBelow: '200%' });
    expect([percent.status, percent.body.error.message]).toEqual([400, 'spaceAlertBelow: must be a percentage of at most 100%']);
    // A 40 KB cron string that node-cron itself would accept.
    const longCron = `0 2 * * ${Array.from({ length: 8000 }, (_, i) => i % 7).join(',')}`;
    expect(longCron.length).toBeGreaterThan(16_000);
    const cron = await admin.put('/pacta-backup/settings', { schedule: longCron, drill: { schedule: `${' '.repeat(300)}0 4 * * 0` } });
    expect([cron.status, cron.body.error.message]).toEqual([400, 'schedule: must be a cron expression of at most 200 characters']);
    const retention = await admin.put('/pacta-backup/settings', { retention: { weekly: 100_000, keepLast: 0 } });
    expect(retention.status).toBe(400);
    expect(retention.body.error.message).toMatch(/^retention\.weekly: Too big: .*<=520; retention\.keepLast: must be at least 1/);

    const values = (await admin.get('/pacta-backup/settings')).body.data.values;
    expect(values).toMatchObject({ 'scope.contentTypes': 'all', spaceAlertBelow: '10%', schedule: '30 23 * * *', 'retention.weekly': 4, 'retention.keepLast': 1 });
    // What the app has is accepted.
    const good = await admin.put('/pacta-backup/settings', { scope: { contentTypes: ['api::contract.contract', 'api::tag.tag'] }, spaceAlertBelow: '100%' });
    expect(good.status).toBe(200);
    expect(good.body.data.values).toMatchObject({ 'scope.contentTypes': ['api::contract.contract', 'api::tag.tag'], spaceAlertBelow: '100%' });
  });

  it("in production, refuses a webhook target an admin points into the server's own network; accepts a public one", async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const internal = await admin.put('/pacta-backup/settings', {
        notifications: { webhooks: { targets: [{ url: 'https://hooks.example.com/ok' }, { url: 'http://169.254.169.254/latest/meta-data' }, { url: 'http://localhost:9000/' }] } },
      });
      expect(internal.status).toBe(400);
      expect(internal.body.error.message).toBe(
        'notifications.webhooks.targets.1.url: 169.254.169.254 is an internal address; an internal URL can only be set in config/plugins.ts; ' +
          'notifications.webhooks.targets.2.url: localhost is this server; an internal URL can only be set in config/plugins.ts'
      );
      expect((await admin.get('/pacta-backup/settings')).body.data.values['notifications.webhooks.targets']).toEqual([]);
      // A public address literal (no DNS needed here).
      const ok = await admin.put('/pacta-backup/settings', { notifications: { webhooks: { targets: [{ url: 'https://93.184.215.14/hooks' }] } } });
      expect(ok.status).toBe(200);
      expect(ok.body.data.values['notifications.webhooks.targets']).toEqual([{ url: 'https://93.184.215.14/hooks' }]);
    } finally {
      process.env.NODE_ENV = previous;
    }
    // Outside production (this suite, the demo), a receiver on loopback is fine.
    const local = await admin.put('/pacta-backup/settings', { notifications: { webhooks: { targets: [{ url: 'http://127.0.0.1:9/x' }] } } });
    expect(local.status).toBe(200);
  });
});
