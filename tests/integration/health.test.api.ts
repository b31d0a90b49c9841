import pkg from '../../package.json';
import { createAgent, loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, startApp, type TestApp } from '../helpers/app';
import { createRestrictedAdmin, editorPermissions } from '../helpers/roles';

const ACTIONS = ['read', 'download', 'create', 'restore', 'delete', 'settings', 'import'].map(
  (uid) => `plugin::pacta-backup.${uid}`
);

describe(`plugin skeleton on ${databaseClient}`, () => {
  let app: TestApp;
  let superAdmin: Agent;

  beforeAll(async () => {
    app = await startApp();
    superAdmin = await loginAsSuperAdmin(app.strapi);
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('registers its RBAC actions, so roles can be granted them in Settings → Roles', async () => {
    const res = await superAdmin.get('/admin/permissions');
    expect(res.status).toBe(200);
    const plugins = res.body.data.sections.plugins as Array<{ action: string; plugin: string }>;
    const ours = plugins.filter((action) => action.plugin === 'pacta-backup').map((a) => a.action);
    expect(ours.sort()).toEqual([...ACTIONS].sort());
  });

  describe('GET /pacta-backup/health', () => {
    it('answers 401 without a login', async () => {
      const res = await createAgent(app.strapi).get('/pacta-backup/health');
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ data: null, error: { name: 'UnauthorizedError' } });
    });

    it('answers 401 with a forged token', async () => {
      const res = await createAgent(app.strapi, 'not-a-token').get('/pacta-backup/health');
      expect(res.status).toBe(401);
    });

    it("answers 403 to an admin whose role lacks the plugin's read action", async () => {
      const editor = await createRestrictedAdmin(app.strapi, {
        name: 'Editor',
        permissions: editorPermissions,
      });
      const res = await editor.get('/pacta-backup/health');
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ data: null, error: { name: 'PolicyError' } });
    });

    it('answers 403 to a role holding every plugin action but read', async () => {
      const operator = await createRestrictedAdmin(app.strapi, {
        name: 'Operator',
        permissions: ACTIONS.filter((a) => !a.endsWith('.read')).map((action) => ({ action })),
      });
      expect((await operator.get('/pacta-backup/health')).status).toBe(403);
    });

    it('answers 200 to a role that holds the read action only', async () => {
      const reader = await createRestrictedAdmin(app.strapi, {
        name: 'Backup reader',
        permissions: [{ action: 'plugin::pacta-backup.read' }],
      });
      const res = await reader.get('/pacta-backup/health');
      expect(res.status).toBe(200);
    });

    it('tells the super admin the plugin version, storage folder and database client', async () => {
      const res = await superAdmin.get('/pacta-backup/health');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        data: {
          plugin: { id: 'pacta-backup', version: pkg.version },
          strapiVersion: pkg.devDependencies['@strapi/strapi'],
          database: { client: databaseClient },
          storage: { folder: app.strapi.config.get('plugin::pacta-backup.storage.folder') },
        },
      });
      expect(res.body.data.storage.folder).toBe(app.backupsDir);
    });
  });
});
