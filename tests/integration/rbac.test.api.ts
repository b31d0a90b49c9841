import adminRoutes from '../../server/src/routes/admin';
import { createAgent, loginAsSuperAdmin } from '../helpers/agent';
import { databaseClient, describeOn, startApp, type TestApp } from '../helpers/app';
import { runJob, waitForJob } from '../helpers/jobs';
import { createRestrictedAdmin, editorPermissions } from '../helpers/roles';

const MISSING = '20990101-000000-none00';
const NO_UPLOAD = '0'.repeat(32);
const NO_PREVIEW = '00000000-0000-4000-8000-000000000000';

type Method = 'get' | 'post' | 'delete' | 'patch' | 'put';

/**
 * Every admin route of the plugin (`route` as the router declares it), a request to it and the
 * action a role needs for it. Checked against the router below: a route added without an
 * entry here fails the test.
 */
const ROUTES: Array<{ route: string; url: string; action: string; body?: object; allowed: number }> = [
  { route: 'GET /health', url: '/pacta-backup/health', action: 'read', allowed: 200 },
  { route: 'GET /backups', url: '/pacta-backup/backups', action: 'read', allowed: 200 },
  { route: 'POST /backups', url: '/pacta-backup/backups', action: 'create', body: { compression: 'max' }, allowed: 400 },
  { route: 'GET /backups/:id', url: `/pacta-backup/backups/${MISSING}`, action: 'read', allowed: 404 },
  { route: 'GET /backups/:id/download', url: `/pacta-backup/backups/${MISSING}/download`, action: 'download', allowed: 404 },
  { route: 'DELETE /backups/:id', url: `/pacta-backup/backups/${MISSING}`, action: 'delete', allowed: 404 },
  { route: 'PATCH /backups/:id', url: `/pacta-backup/backups/${MISSING}`, action: 'delete', body: { keep: true }, allowed: 404 },
  { route: 'PUT /backups/:id', url: `/pacta-backup/backups/${MISSING}`, action: 'delete', body: { keep: true }, allowed: 404 },
  { route: 'POST /backups/:id/verify', url: `/pacta-backup/backups/${MISSING}/verify`, action: 'create', allowed: 404 },
  { route: 'POST /backups/:id/restore', url: `/pacta-backup/backups/${MISSING}/restore`, action: 'restore', body: { confirm: true }, allowed: 404 },
  { route: 'POST /backups/:id/drill', url: `/pacta-backup/backups/${MISSING}/drill`, action: 'create', allowed: 404 },
  { route: 'POST /purge', url: '/pacta-backup/purge', action: 'delete', body: { dryRun: true }, allowed: 200 },
  { route: 'GET /purge/preview', url: '/pacta-backup/purge/preview', action: 'read', allowed: 200 },
  { route: 'GET /schedule/preview', url: '/pacta-backup/schedule/preview?expression=0%202%20*%20*%20*', action: 'read', allowed: 200 },
  { route: 'POST /notifications/test', url: '/pacta-backup/notifications/test', action: 'settings', body: { channel: 'sms' }, allowed: 400 },
  // No off-site location in the test app's config: a clear 400 once the permission lets it through.
  { route: 'POST /offsite/test', url: '/pacta-backup/offsite/test', action: 'settings', allowed: 400 },
  { route: 'GET /offsite', url: '/pacta-backup/offsite', action: 'read', allowed: 200 },
  // Off-site copies are off in the test app: 400 once the permission lets it through.
  { route: 'POST /offsite/:id/fetch', url: `/pacta-backup/offsite/${MISSING}/fetch`, action: 'create', allowed: 400 },
  { route: 'POST /offsite/check', url: '/pacta-backup/offsite/check', action: 'create', allowed: 400 },
  { route: 'GET /notifications/events', url: '/pacta-backup/notifications/events', action: 'read', allowed: 200 },
  { route: 'GET /jobs', url: '/pacta-backup/jobs', action: 'read', allowed: 200 },
  { route: 'GET /jobs/:id', url: '/pacta-backup/jobs/00000000-0000-4000-8000-000000000000', action: 'read', allowed: 404 },
  { route: 'GET /alerts', url: '/pacta-backup/alerts', action: 'read', allowed: 200 },
  { route: 'GET /metrics', url: '/pacta-backup/metrics', action: 'read', allowed: 200 },
  { route: 'GET /metrics', url: '/pacta-backup/metrics?format=prometheus', action: 'read', allowed: 200 },
  { route: 'GET /schedule', url: '/pacta-backup/schedule', action: 'read', allowed: 200 },
  { route: 'GET /settings', url: '/pacta-backup/settings', action: 'read', allowed: 200 },
  { route: 'PUT /settings', url: '/pacta-backup/settings', action: 'settings', body: { schedule: 'never' }, allowed: 400 },
  { route: 'GET /storage', url: '/pacta-backup/storage', action: 'read', allowed: 200 },
  { route: 'GET /content-types', url: '/pacta-backup/content-types', action: 'read', allowed: 200 },
  { route: 'GET /backups/:id/export', url: `/pacta-backup/backups/${MISSING}/export?format=json`, action: 'download', allowed: 404 },
  // Not multipart: refused by the upload itself once the role may import.
  { route: 'POST /imports/uploads', url: '/pacta-backup/imports/uploads', action: 'import', body: { file: 'x' }, allowed: 400 },
  { route: 'DELETE /imports/uploads/:id', url: `/pacta-backup/imports/uploads/${NO_UPLOAD}`, action: 'import', allowed: 404 },
  { route: 'POST /imports/preview', url: '/pacta-backup/imports/preview', action: 'import', body: { source: {} }, allowed: 400 },
  { route: 'GET /imports/previews', url: '/pacta-backup/imports/previews', action: 'import', allowed: 200 },
  { route: 'GET /imports/previews/:id', url: `/pacta-backup/imports/previews/${NO_PREVIEW}`, action: 'import', allowed: 404 },
  { route: 'GET /imports/previews/:id/documents', url: `/pacta-backup/imports/previews/${NO_PREVIEW}/documents`, action: 'import', allowed: 404 },
  {
    route: 'GET /imports/previews/:id/documents/:key',
    url: `/pacta-backup/imports/previews/${NO_PREVIEW}/documents/${encodeURIComponent('api::contract.contract|abc|en|draft')}`,
    action: 'import',
    allowed: 404,
  },
  { route: 'POST /imports/previews/:id/apply', url: `/pacta-backup/imports/previews/${NO_PREVIEW}/apply`, action: 'import', body: { confirm: true }, allowed: 404 },
  { route: 'GET /imports/previews/:id/log', url: `/pacta-backup/imports/previews/${NO_PREVIEW}/log`, action: 'import', allowed: 404 },
];

/** The actions the plugin registers, without the `plugin::pacta-backup.` prefix. */
const ACTION_UIDS = ['read', 'download', 'create', 'restore', 'delete', 'import', 'settings'];

/**
 * Strapi's own permission engine in front of the plugin's routes: nothing here depends on the
 * database, so it runs on SQLite only (each route's work on every engine is tested elsewhere).
 */
describeOn('sqlite')(`RBAC of every admin route on ${databaseClient}`, () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
    await loginAsSuperAdmin(app.strapi);
  });

  afterAll(async () => {
    await app?.stop();
  });

  const send = (agent: ReturnType<typeof createAgent>, route: (typeof ROUTES)[number]) => {
    const method = route.route.split(' ')[0].toLowerCase() as Method;
    return method === 'get' ? agent.get(route.url) : method === 'delete' ? agent.delete(route.url) : agent[method](route.url, route.body);
  };

  it('tests every route the plugin declares and the router serves, and no other', () => {
    const tested = [...new Set(ROUTES.map((r) => r.route))].sort();
    // The route table of the source…
    const declared = adminRoutes.routes.map((r) => `${r.method} ${r.path}`).sort();
    expect(tested).toEqual(declared);
    // …and what the running app mounted from the built plugin, with the action that guards each.
    const mounted = app.strapi.server
      .api('admin')
      .listRoutes()
      .filter((layer) => layer.path.startsWith('/pacta-backup/'))
      .flatMap((layer) => (layer.methods as string[]).filter((m) => m !== 'HEAD').map((m) => `${m} ${layer.path.slice('/pacta-backup'.length)}`))
      .sort();
    expect(tested).toEqual(mounted);
    const guarded = Object.fromEntries(
      adminRoutes.routes.map((r) => [`${r.method} ${r.path}`, (r.config.policies[1] as { config: { actions: string[] } }).config.actions])
    );
    for (const route of ROUTES) {
      expect({ route: route.route, actions: guarded[route.route] }).toEqual({ route: route.route, actions: [`plugin::pacta-backup.${route.action}`] });
    }
  });

  it('registers each action once, download and verify included', async () => {
    const registered = app.strapi
      .service('admin::permission')
      .actionProvider.values()
      .filter((a: { pluginName?: string }) => a.pluginName === 'pacta-backup')
      .map((a: { actionId: string }) => a.actionId)
      .sort();
    expect(registered).toEqual(ACTION_UIDS.map((uid) => `plugin::pacta-backup.${uid}`).sort());
  });

  it('answers 401 to every route without a login', async () => {
    for (const route of ROUTES) {
      const res = await send(createAgent(app.strapi), route);
      expect({ route: route.route, url: route.url, status: res.status }).toEqual({ route: route.route, url: route.url, status: 401 });
    }
  });

  it("answers 403 to every route for an editor without the plugin's actions", async () => {
    const editor = await createRestrictedAdmin(app.strapi, { name: 'Editor', permissions: editorPermissions });
    for (const route of ROUTES) {
      const res = await send(editor, route);
      expect({ route: route.route, url: route.url, status: res.status }).toEqual({ route: route.route, url: route.url, status: 403 });
    }
  });

  it('lets a role through a route exactly when it holds that route’s action', async () => {
    for (const action of ACTION_UIDS) {
      const agent = await createRestrictedAdmin(app.strapi, { name: `Only ${action}`, permissions: [{ action: `plugin::pacta-backup.${action}` }] });
      for (const route of ROUTES) {
        const res = await send(agent, route);
        const expected = route.action === action ? route.allowed : 403;
        expect({ route: route.route, url: route.url, action, status: res.status }).toEqual({ route: route.route, url: route.url, action, status: expected });
      }
    }
  });

  it('keeps archives from a role with read only: 403 on download and verify of a real backup', async () => {
    const admin = await loginAsSuperAdmin(app.strapi);
    const job = await runJob(admin, '/pacta-backup/backups', { name: 'rbac', encrypt: false });
    expect(job.status).toBe('succeeded');
    const id = job.backupId!;

    const reader = await createRestrictedAdmin(app.strapi, { name: 'Reader', permissions: [{ action: 'plugin::pacta-backup.read' }] });
    expect((await reader.get(`/pacta-backup/backups/${id}`)).status).toBe(200);
    const download = await reader.get(`/pacta-backup/backups/${id}/download`);
    expect([download.status, download.headers['content-type']]).toEqual([403, expect.stringMatching(/^application\/json/)]);
    expect((await reader.post(`/pacta-backup/backups/${id}/verify`)).status).toBe(403);
    // Nothing was started for it.
    expect(((await reader.get('/pacta-backup/jobs?type=verify')).body.data as unknown[]).length).toBe(0);

    const downloader = await createRestrictedAdmin(app.strapi, { name: 'Downloader', permissions: [{ action: 'plugin::pacta-backup.download' }] });
    const archive = await downloader.get(`/pacta-backup/backups/${id}/download`).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect(archive.status).toBe(200);
    expect((archive.body as Buffer).subarray(0, 2).toString()).toBe('PK');

    const creator = await createRestrictedAdmin(app.strapi, { name: 'Creator', permissions: [{ action: 'plugin::pacta-backup.create' }] });
    const verify = await creator.post(`/pacta-backup/backups/${id}/verify`);
    expect(verify.status).toBe(202);
    expect((await waitForJob(admin, verify.body.data.id)).status).toBe('succeeded');
  });
});
