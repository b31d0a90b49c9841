import type { AddressInfo } from 'node:net';

import type { Browser, Page } from 'playwright-core';

import pkg from '../../package.json';
import { loginAsSuperAdmin, superAdminCredentials } from '../helpers/agent';
import { startApp, type TestApp } from '../helpers/app';
import { launchBrowser, loginInBrowser, screenshot } from '../helpers/browser';
import { createRestrictedAdmin, editorPermissions } from '../helpers/roles';

describe('the Backups page in the admin panel', () => {
  let app: TestApp;
  let browser: Browser;
  let baseUrl: string;
  let editor: { email: string; password: string };

  beforeAll(async () => {
    app = await startApp();
    await loginAsSuperAdmin(app.strapi);
    editor = (await createRestrictedAdmin(app.strapi, { name: 'Editor', permissions: editorPermissions }))
      .credentials;
    const { port } = app.strapi.server.httpServer.address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const newPage = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    return context.newPage();
  };

  it('shows a Backups menu link to the super admin, and the page loads with the installation', async () => {
    const page = await newPage();
    await loginInBrowser(page, baseUrl, superAdminCredentials);

    await page.getByRole('navigation').getByRole('link', { name: 'Backups' }).click();
    await page.waitForURL(/\/admin\/plugins\/pacta-backup$/);
    await page.getByRole('heading', { name: 'Installation' }).waitFor();

    const card = page.locator('main');
    await expect(card.getByText(pkg.version, { exact: true }).isVisible()).resolves.toBe(true);
    await expect(card.getByText('sqlite', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(
      card.getByText(app.strapi.config.get('plugin::pacta-backup.storage.folder') as string, { exact: true }).isVisible()
    ).resolves.toBe(true);
    await screenshot(page, 'backups-home');
  });

  it('hides the menu link from an editor without the plugin permissions and refuses the direct URL', async () => {
    const page = await newPage();
    await loginInBrowser(page, baseUrl, editor);
    await expect(page.getByRole('navigation').getByRole('link', { name: 'Backups' }).count()).resolves.toBe(0);

    await page.goto(`${baseUrl}/admin/plugins/pacta-backup`);
    await page.getByText("You don't have the permissions to access that content").waitFor();
    await expect(page.getByRole('heading', { name: 'Installation' }).count()).resolves.toBe(0);
    await screenshot(page, 'backups-no-permission');
  });

  it("speaks the admin's interface language: Spanish labels when the admin chose Español", async () => {
    const page = await newPage();
    await loginInBrowser(page, baseUrl, superAdminCredentials);
    // Where the admin panel keeps the language chosen in Profile → Interface language.
    await page.evaluate("window.localStorage.setItem('strapi-admin-language', 'es')");
    await page.reload();

    await page.getByRole('navigation').getByRole('link', { name: 'Copias de seguridad' }).click();
    await page.getByRole('heading', { name: 'Instalación' }).waitFor();
    await expect(page.getByText('Versión del plugin').isVisible()).resolves.toBe(true);
    await expect(page.getByText('Carpeta de copias').isVisible()).resolves.toBe(true);
    await screenshot(page, 'backups-home-es');
  });
});
