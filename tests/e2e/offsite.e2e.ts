import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import type { Browser, Page } from 'playwright-core';

import type { Backup } from '../../server/src/contracts/backups';
import { loginAsSuperAdmin, superAdminCredentials, type Agent } from '../helpers/agent';
import { startApp, type TestApp } from '../helpers/app';
import { launchBrowser, loginInBrowser, screenshot } from '../helpers/browser';
import { runJob } from '../helpers/jobs';
import { RGW_ACCESS_KEY, RGW_SECRET_KEY, startRgw, type Rgw } from '../helpers/rgw';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

const BUCKET = 'pacta-panel';

/**
 * What an admin sees of the off-site copies: in the list, a badge per backup (copied, or the copy
 * failed, with the reason on hover); on a backup's page, when and where it was copied or why it
 * was not; on the monitoring page, the alert; in Settings, the bucket and a connection test; the
 * backups only in the bucket, and Bring back.
 * Against a real bucket (Ceph RGW on loopback).
 */
describe('off-site copies in the admin panel', () => {
  let rgw: Rgw;
  let app: TestApp;
  let admin: Agent;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let copied: Backup;
  let failed: Backup;

  beforeAll(async () => {
    rgw = await startRgw();
    await rgw.createBucket(BUCKET);
    app = await startApp({
      env: {
        PACTA_BACKUP_OFFSITE_ENABLED: 'true',
        PACTA_BACKUP_OFFSITE_ENDPOINT: rgw.endpoint,
        PACTA_BACKUP_OFFSITE_BUCKET: BUCKET,
        PACTA_BACKUP_S3_ACCESS_KEY_ID: RGW_ACCESS_KEY,
        PACTA_BACKUP_S3_SECRET_ACCESS_KEY: RGW_SECRET_KEY,
      },
    });
    await seed(app.strapi, { documents: 4, media: 1, seed: 31 });
    admin = await loginAsSuperAdmin(app.strapi);
    copied = (await runJob(admin, '/pacta-backup/backups', { name: 'Copied to the bucket' })).result!.backup as Backup;
    // The app reads the credentials at each copy: a wrong secret from now on.
    process.env.PACTA_BACKUP_S3_SECRET_ACCESS_KEY = 'a-wrong-secret-for-the-test-000000';
    failed = (await runJob(admin, '/pacta-backup/backups', { name: 'Not copied' })).result!.backup as Backup;
    process.env.PACTA_BACKUP_S3_SECRET_ACCESS_KEY = RGW_SECRET_KEY;

    const { port } = app.strapi.server.httpServer.address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    await loginInBrowser(page, baseUrl, superAdminCredentials);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await rgw?.stop();
  });

  it('marks each backup in the list: copied off-site, or the copy failed', async () => {
    expect(copied.offsite?.status).toBe('copied');
    expect(failed.offsite?.status).toBe('failed');
    await page.goto(`${baseUrl}/admin/plugins/pacta-backup`);
    const copiedRow = page.getByRole('row', { name: /Copied to the bucket/ });
    await copiedRow.waitFor();
    await expect(copiedRow.getByText('Off-site', { exact: true }).isVisible()).resolves.toBe(true);
    const failedRow = page.getByRole('row', { name: /Not copied/ });
    await expect(failedRow.getByText('Off-site copy failed', { exact: true }).isVisible()).resolves.toBe(true);
    // The reason on hover.
    await expect(failedRow.locator('[title*="SignatureDoesNotMatch"]').count()).resolves.toBe(1);
    await screenshot(page, 'offsite-list');
  });

  it("says on a backup's page where it was copied, or why not", async () => {
    await page.getByRole('link', { name: 'Copied to the bucket' }).click();
    await page.getByRole('heading', { name: 'Copied to the bucket' }).waitFor();
    await page.getByText(`copied to s3://${BUCKET}/`).waitFor();
    await screenshot(page, 'offsite-details-copied');

    await page.goto(`${baseUrl}/admin/plugins/pacta-backup/${failed.id}`);
    await page.getByRole('heading', { name: 'Not copied' }).waitFor();
    await page.getByText(/failed: .*SignatureDoesNotMatch/).waitFor();
    await screenshot(page, 'offsite-details-failed');
  });

  it('raises the alert on the monitoring page', async () => {
    const alerts = (await admin.get('/pacta-backup/alerts')).body.data as Array<{ type: string; backupId?: string }>;
    expect(alerts).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'offsite-failed', backupId: failed.id })]));
    await page.goto(`${baseUrl}/admin/plugins/pacta-backup/monitoring`);
    await page.getByText('Off-site copy failed').first().waitFor();
    await screenshot(page, 'offsite-alert');
  });

  it('Settings shows the bucket and tests the connection: it works, or says why not', async () => {
    await page.goto(`${baseUrl}/admin/settings/pacta-backup`);
    await page.getByRole('heading', { name: 'Off-site copies' }).waitFor();
    await expect(page.getByTestId('offsite-location').textContent()).resolves.toContain(`s3://${BUCKET}/`);
    // Switched on by config/plugins.ts here: shown, not editable.
    await expect(page.getByRole('checkbox', { name: 'Copy each new backup off-site' }).isDisabled()).resolves.toBe(true);

    await page.getByRole('button', { name: 'Test the connection' }).click();
    const result = page.getByRole('status', { name: 'Connection test' });
    await result.getByText('Works').waitFor();
    await expect(result.textContent()).resolves.toContain('Written, read back and deleted at s3://');
    await screenshot(page, 'offsite-settings-test');

    process.env.PACTA_BACKUP_S3_SECRET_ACCESS_KEY = 'a-wrong-secret-for-the-test-000000';
    try {
      await page.getByRole('button', { name: 'Test the connection' }).click();
      await result.getByText('Failed').waitFor();
      await expect(result.textContent()).resolves.toMatch(/SignatureDoesNotMatch.*check the access key/);
    } finally {
      process.env.PACTA_BACKUP_S3_SECRET_ACCESS_KEY = RGW_SECRET_KEY;
    }
  });

  it('lists the backups that are only off-site and brings one back into the list', async () => {
    // This server lost the archive; the bucket still has it.
    fs.rmSync(path.join(app.backupsDir, `${copied.id}.pacta.zip`));
    await page.goto(`${baseUrl}/admin/plugins/pacta-backup`);
    await page.getByRole('heading', { name: 'Only off-site' }).waitFor();
    await expect(page.getByRole('row', { name: /Copied to the bucket/ }).count()).resolves.toBe(0);
    const row = page.getByRole('row', { name: copied.id });
    await screenshot(page, 'offsite-only');

    const posts: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().includes('/offsite/')) posts.push(request.url());
    });
    await row.getByRole('button', { name: 'Bring back' }).click();
    await page.getByText(`Backup ${copied.id} is back in the list`).first().waitFor();
    await screenshot(page, 'offsite-toast');
    // One request, one job (Strapi's toaster may draw the notice twice while the list reloads under it).
    expect(posts).toEqual([expect.stringContaining(`/pacta-backup/offsite/${copied.id}/fetch`)]);
    await page.getByRole('row', { name: /Copied to the bucket/ }).waitFor();
    // Every copy is here again: the section is gone.
    await page.getByRole('heading', { name: 'Only off-site' }).waitFor({ state: 'detached' });
    const jobs = (await admin.get('/pacta-backup/jobs?type=fetch')).body.data as Array<{ status: string; backupId: string }>;
    expect(jobs).toEqual([expect.objectContaining({ status: 'succeeded', backupId: copied.id })]);
    await screenshot(page, 'offsite-brought-back');
  });

  it('Monitoring shows what the bucket stores and checks the copies on demand; Settings schedules the check', async () => {
    await page.goto(`${baseUrl}/admin/plugins/pacta-backup/monitoring`);
    const figures = page.getByTestId('offsite-figures');
    await figures.waitFor();
    // Measured by the last copied backup's collection: whole archives, so stored is what they are.
    await expect(figures.textContent()).resolves.toMatch(/stored for .* of backups \(100%\), 1 backup in 1 object;/);
    await page.getByRole('button', { name: 'Check the copies now' }).click();
    await page.getByText('The off-site copies are whole').first().waitFor();
    await screenshot(page, 'offsite-check');
    const jobs = (await admin.get('/pacta-backup/jobs?type=check')).body.data as Array<{ status: string; trigger: string }>;
    expect(jobs).toEqual([expect.objectContaining({ status: 'succeeded', trigger: 'manual' })]);

    await page.goto(`${baseUrl}/admin/settings/pacta-backup`);
    await page.getByTestId('offsite-next-check').waitFor();
    await expect(page.getByTestId('offsite-next-check').textContent()).resolves.toContain('Next check of the copies:');
    await expect(page.getByRole('checkbox', { name: 'Check the copies on a schedule' }).isChecked()).resolves.toBe(true);
    await expect(page.getByLabel('Objects read back at each check (%)').inputValue()).resolves.toBe('10');
    await page.getByTestId('offsite-next-check').scrollIntoViewIfNeeded();
    await screenshot(page, 'offsite-settings-check');
  });

  it("a deduplicated copy's page says what it sent and what was there already", async () => {
    expect((await admin.put('/pacta-backup/settings', { offsite: { deduplicate: true } })).status).toBe(200);
    const first = (await runJob(admin, '/pacta-backup/backups', { name: 'Deduplicated once' })).result!.backup as Backup;
    const second = (await runJob(admin, '/pacta-backup/backups', { name: 'Deduplicated twice' })).result!.backup as Backup;
    expect(first.offsite?.deduplicated?.sentBytes).toBeGreaterThan(0);
    expect(second.offsite?.deduplicated?.reusedBytes).toBeGreaterThan(0);
    await page.goto(`${baseUrl}/admin/plugins/pacta-backup/${second.id}`);
    await page.getByRole('heading', { name: 'Deduplicated twice' }).waitFor();
    await page.getByText(/copied to s3:\/\/.*, deduplicated: .* sent, .* already there/).waitFor();
    await screenshot(page, 'offsite-details-deduplicated');
  });
});
