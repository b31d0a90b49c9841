import type { AddressInfo } from 'node:net';

import type { Browser, Page } from 'playwright-core';

import { loginAsSuperAdmin, superAdminCredentials } from '../helpers/agent';
import { startApp, type TestApp } from '../helpers/app';
import { launchBrowser, loginInBrowser, screenshot } from '../helpers/browser';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

/**
 * What a person who has never seen the plugin does: create a selective backup and watch it
 * finish, find it in the list, open it, verify it, restore it with the confirmation, delete it.
 */
describe('backing up and restoring from the admin panel', () => {
  let app: TestApp;
  let browser: Browser;
  let baseUrl: string;
  let page: Page;

  beforeAll(async () => {
    // The schedule on: Settings shows its next run (the 02:00 default does not come during the test).
    app = await startApp({ env: { PACTA_BACKUP_ENABLED: 'true' } });
    await seed(app.strapi, { documents: 6, media: 2, seed: 21 });
    await loginAsSuperAdmin(app.strapi);
    const { port } = app.strapi.server.httpServer.address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    await loginInBrowser(page, baseUrl, superAdminCredentials);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const contracts = async () => Number((await app.strapi.db.connection('contracts').count({ n: '*' }))[0].n);

  it('starts from an empty list that says what to do', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Backups' }).click();
    await page.getByText('No backups yet. Create the first one now').waitFor();
    await screenshot(page, 'backups-empty');
  });

  it('creates a selective backup and follows its progress to 100%', async () => {
    await page.getByRole('button', { name: 'Create backup' }).first().click();
    const modal = page.getByRole('dialog');
    await modal.getByRole('heading', { name: 'Create a backup' }).waitFor();
    await modal.getByRole('textbox', { name: 'Name' }).fill('Contracts before the audit');
    // Only contracts: untick "all", tick Contract (the entry counts are shown).
    await modal.getByRole('checkbox', { name: /^All content types \(\d+ entries\)$/ }).click();
    await modal.getByRole('checkbox', { name: /^Contract \(\d+ entries\)$/ }).click();
    await modal.getByText(/free of .* backups use/).waitFor();
    await screenshot(page, 'backups-create');
    await modal.getByRole('button', { name: 'Start backup' }).click();

    await modal.getByTestId('job-percent').filter({ hasText: '100%' }).waitFor({ timeout: 60_000 });
    await expect(modal.getByRole('progressbar').isVisible()).resolves.toBe(true);
    await page.getByText('The backup is written and verified.').waitFor();
    await screenshot(page, 'backups-create-done');
    await modal.getByRole('button', { name: 'Close', exact: true }).click();

    const row = page.getByRole('row', { name: /Contracts before the audit/ });
    await row.waitFor();
    await expect(row.getByText('Manual').isVisible()).resolves.toBe(true);
    await expect(row.getByText('Verified').isVisible()).resolves.toBe(true);
    await expect(row.getByText('Contract', { exact: true }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'backups-list');
  });

  it('opens the details, verifies the backup and shows what it holds', async () => {
    await page.getByRole('link', { name: 'Contracts before the audit' }).click();
    await page.getByRole('heading', { name: 'Contracts before the audit' }).waitFor();
    await expect(page.getByRole('row', { name: /^Contract \d+$/ }).count()).resolves.toBe(1);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('status').filter({ hasText: /^Verified: \d+ entries match their checksums\.$/ }).waitFor();
    await screenshot(page, 'backup-details');
  });

  it('restores with a confirmation that lists what is replaced and says a safety backup comes first', async () => {
    const before = await contracts();
    // A change after the backup, which the restore undoes.
    await app.strapi.db.connection('contracts').limit(1).update({ title: 'Changed after the backup' });
    await page.getByRole('button', { name: 'Restore…' }).click();
    const modal = page.getByRole('dialog');
    await modal.getByRole('checkbox', { name: /^Contract \(\d+ entries\)$/ }).waitFor();
    await modal.getByRole('button', { name: 'Next' }).click();
    await modal.getByText('Replace this data?').waitFor();
    await expect(modal.getByText(/^Contract: \d+ entries$/).isVisible()).resolves.toBe(true);
    await expect(modal.getByText('A safety backup of the current data is taken first; if anything fails, nothing changes.').isVisible()).resolves.toBe(true);
    // A backup of one content type restores that type only: the others keep their data.
    await expect(modal.getByText(/^Other content types keep their data;/).isVisible()).resolves.toBe(true);
    await expect(modal.getByText(/Files in the uploads folder that the backup does not have are removed/).count()).resolves.toBe(0);
    await screenshot(page, 'restore-confirm');
    await modal.getByRole('button', { name: 'Restore now' }).click();

    const summary = modal.getByRole('status', { name: 'Restored' });
    await summary.waitFor({ timeout: 60_000 });
    await expect(summary.getByText(`Contract: ${before} entries`).isVisible()).resolves.toBe(true);
    await expect(summary.getByText(/^Safety backup: /).isVisible()).resolves.toBe(true);
    await screenshot(page, 'restore-done');
    await modal.getByRole('button', { name: 'Close', exact: true }).click();
    expect(Number((await app.strapi.db.connection('contracts').where({ title: 'Changed after the backup' }).count({ n: '*' }))[0].n)).toBe(0);
  });

  it('marks the backup kept and deletes it after a confirmation', async () => {
    await page.getByText('Purged by the retention policy').waitFor();
    await page.locator('input[name="keep"]').click();
    await page.getByText('Kept: never purged').waitFor();
    await page.getByText('Kept', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.getByText('Delete this backup?').waitFor();
    await screenshot(page, 'backup-delete-confirm');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('The backup was deleted.').waitFor();
    await page.waitForURL(/\/admin\/plugins\/pacta-backup$/);
    // The safety backup of the restore is what remains.
    await page.getByRole('row', { name: /Before restoring Contracts before the audit/ }).waitFor();
    await expect(page.getByRole('row', { name: /^Contracts before the audit/ }).count()).resolves.toBe(0);
  });

  it('changes the schedule in Settings and sees the next run move; values config/plugins.ts sets are read-only', async () => {
    await page.goto(`${baseUrl}/admin/settings/pacta-backup`);
    await page.getByRole('heading', { name: 'Backup settings' }).waitFor();
    const nextRun = page.getByTestId('next-run');
    await nextRun.filter({ hasText: /^Next backup: .*2:00/ }).waitFor();
    // The example app's environment sets `enabled` (PACTA_BACKUP_ENABLED): shown, not editable.
    await expect(page.getByRole('checkbox', { name: 'Automatic backups' }).isDisabled()).resolves.toBe(true);
    await expect(page.getByText('Set in config/plugins.ts: change it there').first().isVisible()).resolves.toBe(true);
    await screenshot(page, 'settings');

    await page.getByRole('textbox', { name: 'Schedule (cron)' }).first().fill('15 3 * * *');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved. The schedule is updated.').waitFor();
    await nextRun.filter({ hasText: /^Next backup: .*3:15/ }).waitFor();
    expect(app.strapi.plugin('pacta-backup').service('config').get().schedule).toBe('15 3 * * *');
    await screenshot(page, 'settings-saved');
  });

  it('monitors: alerts, last success, size and duration charts, the history and a job log', async () => {
    await page.goto(`${baseUrl}/admin/plugins/pacta-backup`);
    await page.getByRole('link', { name: 'Monitoring' }).click();
    await page.getByRole('heading', { name: 'Monitoring' }).waitFor();
    await page.getByRole('region', { name: 'Alerts' }).waitFor();
    await page.getByRole('img', { name: 'Backup size' }).waitFor();
    await page.getByRole('img', { name: 'Backup duration' }).waitFor();
    // The jobs of this test: the backup, its verify, the restore (and the safety backup inside it).
    for (const job of ['Backup', 'Verify', 'Restore']) await page.getByRole('row', { name: new RegExp(`${job} An admin Succeeded`) }).first().waitFor();
    await expect(page.getByTestId('job-log').textContent()).resolves.toMatch(/ (backup|verify|restore|drill) started\n/);
    await screenshot(page, 'monitoring');
  });

  it('shows the pages in Spanish when the admin chose Español', async () => {
    await page.evaluate("window.localStorage.setItem('strapi-admin-language', 'es')");
    await page.goto(`${baseUrl}/admin/plugins/pacta-backup`);
    await page.getByRole('button', { name: 'Crear copia' }).first().waitFor();
    await page.getByText('Tipos de contenido', { exact: true }).waitFor();
    await page.getByText(/^\d+ copias? ocupan? /).waitFor();
    await screenshot(page, 'backups-list-es');
    await page.goto(`${baseUrl}/admin/settings/pacta-backup`);
    await page.getByRole('heading', { name: 'Ajustes de copias' }).waitFor();
    await page.getByText('Retención', { exact: true }).waitFor();
    await screenshot(page, 'settings-es');
    await page.evaluate("window.localStorage.setItem('strapi-admin-language', 'en')");
  });
});
