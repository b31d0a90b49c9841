import { createAgent, loginAsSuperAdmin } from '../helpers/agent';
import { databaseClient, startApp, type TestApp } from '../helpers/app';
import { createRestrictedAdmin, editorPermissions } from '../helpers/roles';

const MISSING = '20990101-000000-none00';

/** Every admin route of the plugin, with the action a role needs for it. */
const ROUTES: Array<{ method: 'get' | 'post' | 'delete' | 'patch' | 'put'; url: string; action: string; body?: object; allowed: number }> = [
  { method: 'get', url: '/pacta-backup/health', action: 'read', allowed: 200 },
  { method: 'get', url: '/pacta-backup/backups', action: 'read', allowed: 200 },
  { method: 'post', url: '/pacta-backup/backups', action: 'create', body: { compression: 'max' }, allowed: 400 },
  { method: 'get', url: `/pacta-backup/backups/${MISSING}`, action: 'read', allowed: 404 },
  { method: 'get', url: `/pacta-backup/backups/${MISSING}/download`, action: 'read', allowed: 404 },
  { method: 'delete', url: `/pacta-backup/backups/${MISSING}`, action: 'delete', allowed: 404 },
  { method: 'post', url: `/pacta-backup/backups/${MISSING}/verify`, action: 'read', allowed: 404 },
  { method: 'post', url: `/pacta-backup/backups/${MISSING}/restore`, action: 'restore', body: { confirm: true }, allowed: 404 },
  { method: 'get', url: '/pacta-backup/jobs/00000000-0000-4000-8000-000000000000', action: 'read', allowed: 404 },
  { method: 'get', url: '/pacta-backup/storage', action: 'read', allowed: 200 },
  { method: 'get', url: '/pacta-backup/content-types', action: 'read', allowed: 200 },
  { method: 'patch', url: `/pacta-backup/backups/${MISSING}`, action: 'delete', body: { keep: true }, allowed: 404 },
  { method: 'post', url: `/pacta-backup/backups/${MISSING}/drill`, action: 'create', allowed: 404 },
  { method: 'post', url: '/pacta-backup/purge', action: 'delete', body: { dryRun: true }, allowed: 200 },
  { method: 'get', url: '/pacta-backup/jobs', action: 'read', allowed: 200 },
  { method: 'get', url: '/pacta-backup/alerts', action: 'read', allowed: 200 },
  { method: 'get', url: '/pacta-backup/metrics', action: 'read', allowed: 200 },
  { method: 'get', url: '/pacta-backup/metrics?format=prometheus', action: 'read', allowed: 200 },
  { method: 'get', url: '/pacta-backup/schedule', action: 'read', allowed: 200 },
  { method: 'get', url: '/pacta-backup/settings', action: 'read', allowed: 200 },
  { method: 'put', url: '/pacta-backup/settings', action: 'settings', body: { schedule: 'never' }, allowed: 400 },
];

describe(`RBAC of every admin route on ${databaseClient}`, () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
    await loginAsSuperAdmin(app.strapi);
  });

  afterAll(async () => {
    await app?.stop();
  });

  const send = (agent: ReturnType<typeof createAgent>, route: (typeof ROUTES)[number]) =>
    route.method === 'get'
      ? agent.get(route.url)
      : route.method === 'delete'
        ? agent.delete(route.url)
        : route.method === 'patch'
          ? agent.patch(route.url, route.body)
          : route.method === 'put'
            ? agent.put(route.url, route.body)
            : agent.post(route.url, route.body);

  it('answers 401 to every route without a login', async () => {
    for (const route of ROUTES) {
      const res = await send(createAgent(app.strapi), route);
      expect({ route: `${route.method} ${route.url}`, status: res.status }).toEqual({ route: `${route.method} ${route.url}`, status: 401 });
    }
  });

  it("answers 403 to every route for an editor without the plugin's actions", async () => {
    const editor = await createRestrictedAdmin(app.strapi, { name: 'Editor', permissions: editorPermissions });
    for (const route of ROUTES) {
      const res = await send(editor, route);
      expect({ route: `${route.method} ${route.url}`, status: res.status }).toEqual({ route: `${route.method} ${route.url}`, status: 403 });
    }
  });

  it('lets a role through a route exactly when it holds that route’s action', async () => {
    for (const action of ['read', 'create', 'restore', 'delete', 'settings']) {
      const agent = await createRestrictedAdmin(app.strapi, { name: `Only ${action}`, permissions: [{ action: `plugin::pacta-backup.${action}` }] });
      for (const route of ROUTES) {
        const res = await send(agent, route);
        const expected = route.action === action ? route.allowed : 403;
        expect({ route: `${route.method} ${route.url}`, action, status: res.status }).toEqual({ route: `${route.method} ${route.url}`, action, status: expected });
      }
    }
  });
});
