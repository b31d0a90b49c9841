import type { AddressInfo } from 'node:net';

import type { Browser, Page } from 'playwright-core';

import { loginAsSuperAdmin } from '../helpers/agent';
import { startApp, type TestApp } from '../helpers/app';
import { launchBrowser, loginInBrowser, screenshot } from '../helpers/browser';
import { runJob } from '../helpers/jobs';
import { createRestrictedAdmin } from '../helpers/roles';

/** A backup's page shows Download, Verify, Export and Import only to roles whose actions allow them. */
describe('backup actions by role in the admin panel', () => {
  let app: TestApp;
  let browser: Browser;
  let baseUrl: string;
  let backupId: string;

  beforeAll(async () => {
    app = await startApp();
    const admin = await loginAsSuperAdmin(app.strapi);
    const job = await runJob(admin, '/pacta-backup/backups', { name: 'Seen by roles', encrypt: false });
    expect(job.status).toBe('succeeded');
    backupId = job.backupId!;
    const { port } = app.strapi.server.httpServer.address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const openAs = async (actions: string[]): Promise<Page> => {
    const { credentials } = await createRestrictedAdmin(app.strapi, {
      name: `Backups ${actions.join(' ')}`,
      permissions: actions.map((action) => ({ action: `plugin::pacta-backup.${action}` })),
    });
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    await loginInBrowser(page, baseUrl, credentials);
    await page.goto(`${baseUrl}/admin/plugins/pacta-backup/${backupId}`);
    await page.getByRole('heading', { name: 'Seen by roles' }).waitFor();
    return page;
  };

  it('hides Download and Verify from a role with read only, and says which actions it lacks', async () => {
    const page = await openAs(['read']);
    await page.getByText(/^Your role cannot download this archive nor verify it/).waitFor();
    await expect(page.getByRole('button', { name: 'Download', exact: true }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Verify', exact: true }).count()).resolves.toBe(0);
    await screenshot(page, 'backup-details-read-only');
  });

  it('shows Download to a role with download, and Verify to a role with create', async () => {
    const downloader = await openAs(['read', 'download']);
    await downloader.getByRole('button', { name: 'Download', exact: true }).waitFor();
    await expect(downloader.getByRole('button', { name: 'Verify', exact: true }).count()).resolves.toBe(0);
    await downloader.getByText(/^Your role cannot verify backups/).waitFor();
    const [download] = await Promise.all([downloader.waitForEvent('download'), downloader.getByRole('button', { name: 'Download', exact: true }).click()]);
    expect(download.suggestedFilename()).toBe(`${backupId}.pacta.zip`);

    const creator = await openAs(['read', 'create']);
    await creator.getByRole('button', { name: 'Verify', exact: true }).waitFor();
    await expect(creator.getByRole('button', { name: 'Download', exact: true }).count()).resolves.toBe(0);
    await creator.getByText(/^Your role cannot download archives/).waitFor();
  });

  it('shows no import entry to a role without import: not on the Backups page, not on a backup, and the wizard URL is refused', async () => {
    const reader = await openAs(['read', 'download', 'restore']);
    // The backup's page has loaded its actions (Export needs download): Import is not among them.
    await reader.getByRole('button', { name: 'Export JSON' }).waitFor();
    await expect(reader.getByRole('link', { name: 'Import…' }).count()).resolves.toBe(0);
    await reader.goto(`${baseUrl}/admin/plugins/pacta-backup`);
    await reader.getByRole('link', { name: 'Monitoring' }).waitFor();
    await reader.getByRole('row', { name: /Seen by roles/ }).waitFor();
    await expect(reader.getByRole('link', { name: 'Import', exact: true }).count()).resolves.toBe(0);
    await screenshot(reader, 'backups-no-import');
    await reader.goto(`${baseUrl}/admin/plugins/pacta-backup/import`);
    await reader.getByText("You don't have the permissions to access that content").waitFor();
    await expect(reader.getByRole('heading', { name: 'Import' }).count()).resolves.toBe(0);
  });

  it('shows the import entry on the Backups page and on a backup to a role with import', async () => {
    const importer = await openAs(['read', 'import']);
    await importer.getByRole('link', { name: 'Import…' }).click();
    await importer.waitForURL(new RegExp(`/admin/plugins/pacta-backup/import\\?backup=${backupId}$`));
    await importer.getByRole('heading', { name: 'Import' }).waitFor();
    await expect(importer.getByRole('radio', { name: 'Seen by roles' }).isChecked()).resolves.toBe(true);
    await importer.goto(`${baseUrl}/admin/plugins/pacta-backup`);
    await importer.getByRole('link', { name: 'Import', exact: true }).click();
    await importer.getByText('Drop a backup archive (.pacta.zip) or a JSON export here').waitFor();
    // A role without download has no export buttons on a backup's page.
    await importer.goto(`${baseUrl}/admin/plugins/pacta-backup/${backupId}`);
    await importer.getByRole('link', { name: 'Import…' }).waitFor();
    await expect(importer.getByRole('button', { name: 'Export JSON' }).count()).resolves.toBe(0);
  });
});
