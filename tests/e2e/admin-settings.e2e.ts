import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Browser, Locator, Page } from 'playwright-core';

import type { Job } from '../../server/src/contracts/backups';
import { previewSchedule } from '../../server/src/utils/cron';
import { createAgent, loginAsSuperAdmin, superAdminCredentials, type Agent } from '../helpers/agent';
import { startApp, type TestApp } from '../helpers/app';
import { launchBrowser, loginInBrowser, screenshot } from '../helpers/browser';
import { createRestrictedAdmin, editorPermissions } from '../helpers/roles';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

/** The webhook target's signing secret: the settings hold the variable's name only. */
const SECRET_ENV = 'BACKUP_HOOK_SECRET';
const SECRET = 'e2e-webhook-secret';

/** One webhook request as the receiver got it. */
interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback that answers 200 and keeps what it got. */
const startReceiver = async () => {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/backups-hook`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
};

/** A date as the admin panel formats the next runs (react-intl's formatDate is Intl underneath). */
const formatRun = (iso: string, locale: string, timeZone: string) =>
  new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short', timeZone }).format(new Date(iso));
/** Intl puts narrow no-break spaces before AM/PM: compare words, not the kind of space. */
const words = (text: string | null) => (text ?? '').replace(/[\s\u202f\u00a0]+/g, ' ').trim();

interface BarMeasure {
  /** Computed background colours of the fill, the track, and what the bar sits on. */
  fill: string;
  track: string;
  background: string;
  /** The share of the track's width the fill covers (the fill slides in with a transform). */
  share: number;
  width: number;
}

/** The little of the DOM the measure uses (the tests are compiled without the DOM's types). */
interface PageElement {
  firstElementChild: PageElement | null;
  parentElement: PageElement | null;
  getBoundingClientRect(): { left: number; right: number; width: number };
}
declare const getComputedStyle: (element: PageElement) => { backgroundColor: string };

/** Measures a design-system progress bar in the page: the track, with the fill as its child. */
const measureBar = (bar: Locator): Promise<BarMeasure> =>
  bar.evaluate((track: PageElement) => {
    const fill = track.firstElementChild!;
    const outer = track.getBoundingClientRect();
    const inner = fill.getBoundingClientRect();
    const covered = Math.max(0, Math.min(inner.right, outer.right) - Math.max(inner.left, outer.left));
    let background = 'rgba(0, 0, 0, 0)';
    // What the bar sits on: the first ancestor with a background of its own.
    for (let node = track.parentElement; node; node = node.parentElement) {
      const colour = getComputedStyle(node).backgroundColor;
      if (colour !== 'rgba(0, 0, 0, 0)' && colour !== 'transparent') {
        background = colour;
        break;
      }
    }
    return {
      fill: getComputedStyle(fill).backgroundColor,
      track: getComputedStyle(track).backgroundColor,
      background,
      share: outer.width ? covered / outer.width : 0,
      width: outer.width,
    };
  });

/**
 * Settings → Backups in the admin panel: notifications (saved, reloaded, Send a test), cron
 * expressions in words in both languages with their next runs, the progress bars filled and
 * coloured, and the backups the next purge would remove.
 */
describe('the admin panel: settings, notifications, progress and purge preview', () => {
  let app: TestApp;
  let browser: Browser;
  let baseUrl: string;
  let page: Page;
  let agent: Agent;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    // The time zone is fixed so the expected next runs do not depend on the machine's; the
    // webhook target's signing secret is in the environment, where the settings name it.
    app = await startApp({ env: { PACTA_BACKUP_TIMEZONE: 'Europe/Madrid', [SECRET_ENV]: SECRET } });
    await seed(app.strapi, { documents: 3, media: 1, seed: 13 });
    agent = await loginAsSuperAdmin(app.strapi);
    receiver = await startReceiver();
    const { port } = app.strapi.server.httpServer.address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    await loginInBrowser(page, baseUrl, superAdminCredentials);
  });

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await app?.stop();
  });

  const config = () => app.strapi.plugin('pacta-backup').service('config').get();
  const openSettings = async () => {
    await page.goto(`${baseUrl}/admin/settings/pacta-backup`);
    await page.getByRole('heading', { name: /^(Backup settings|Ajustes de copias)$/ }).waitFor();
  };

  it('fills the create dialog\'s progress bar at 100% with a colour that is neither the track\'s nor the dialog\'s', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Backups' }).click();
    await page.getByRole('button', { name: 'Create backup' }).first().click();
    const modal = page.getByRole('dialog');
    await modal.getByRole('heading', { name: 'Create a backup' }).waitFor();
    await modal.getByRole('textbox', { name: 'Name' }).fill('Progress bar check');

    // The storage bar: used space, coloured by the threshold (this machine's disk is not below 10%).
    const storage = modal.getByTestId('storage-bar');
    await storage.waitFor();
    const space = await measureBar(storage);
    expect(space.fill).not.toBe(space.track);
    expect(space.fill).not.toBe('rgb(255, 255, 255)');
    await expect(storage.getAttribute('data-tone')).resolves.toMatch(/^(success|warning|danger)$/);

    await modal.getByRole('button', { name: 'Start backup' }).click();
    await modal.getByTestId('job-percent').filter({ hasText: '100%' }).waitFor({ timeout: 60_000 });
    const bar = modal.getByRole('progressbar');
    await bar.waitFor();
    // The fill slides in (a 320 ms transition): measure once it has arrived.
    let measured = await measureBar(bar);
    for (let i = 0; i < 20 && measured.share < 0.99; i += 1) {
      await page.waitForTimeout(100);
      measured = await measureBar(bar);
    }
    expect(measured.width).toBeGreaterThan(100);
    expect(measured.share).toBeGreaterThanOrEqual(0.99);
    expect(measured.fill).not.toBe(measured.track);
    expect(measured.fill).not.toBe(measured.background);
    expect(measured.fill).not.toBe('rgb(255, 255, 255)');
    // The theme's primary600 (#4945ff): the job succeeded.
    expect(measured.fill).toBe('rgb(73, 69, 255)');
    await screenshot(page, 'progress-filled');
    await page.getByText('The backup is written and verified.').waitFor();
    await modal.getByRole('button', { name: 'Close', exact: true }).click();
  });

  it('fills the bars in the dark theme too', async () => {
    await page.evaluate("window.localStorage.setItem('STRAPI_THEME', 'dark')");
    try {
      await page.reload();
      await page.getByRole('button', { name: 'Create backup' }).first().click();
      const modal = page.getByRole('dialog');
      await modal.getByRole('heading', { name: 'Create a backup' }).waitFor();
      const storage = modal.getByTestId('storage-bar');
      await storage.waitFor();
      const measured = await measureBar(storage);
      expect(measured.background).toBe('rgb(33, 33, 52)'); // the dark theme's neutral0: the dialog
      expect(measured.fill).not.toBe(measured.track);
      expect(measured.fill).not.toBe(measured.background);
      expect(measured.share).toBeGreaterThan(0);
      await screenshot(page, 'progress-dark');
      await modal.getByRole('button', { name: 'Cancel' }).click();
    } finally {
      await page.evaluate("window.localStorage.setItem('STRAPI_THEME', 'light')");
    }
  });

  it('says what a cron expression means in English, lists its next three runs, and refuses a wrong one', async () => {
    await openSettings();
    const preview = page.getByTestId('cron-schedule');
    await preview.getByText('At 02:00 AM').waitFor();
    const expected = previewSchedule('0 2 * * *', 'Europe/Madrid').nextRuns.map((at) => words(formatRun(at, 'en', 'Europe/Madrid')));
    const runs = page.getByTestId('cron-schedule-runs').getByRole('listitem');
    await expect(runs.count()).resolves.toBe(3);
    expect((await runs.allTextContents()).map(words)).toEqual(expected);
    await expect(preview.getByText('Next runs (Europe/Madrid):').isVisible()).resolves.toBe(true);
    // The drill's schedule too.
    await page.getByTestId('cron-drill-schedule').getByText('At 04:00 AM, only on Sunday').waitFor();

    // As the admin types: the words and the runs follow.
    const field = page.getByRole('textbox', { name: 'Schedule (cron)' }).first();
    await field.fill('*/15 * * * 1-5');
    await preview.getByText('Every 15 minutes, Monday through Friday').waitFor();
    await expect(page.getByTestId('cron-schedule-runs').getByRole('listitem').count()).resolves.toBe(3);
    await field.fill('61 2 * * *');
    await preview.getByText(/^Not a schedule: is not a cron expression \(minute: /).waitFor();
    await expect(page.getByTestId('cron-schedule-runs').count()).resolves.toBe(0);
    await screenshot(page, 'settings-cron-invalid');
    await field.fill('0 2 * * *');
    await preview.getByText('At 02:00 AM').waitFor();
  });

  it('says it in Spanish when the admin chose Español', async () => {
    await page.evaluate("window.localStorage.setItem('strapi-admin-language', 'es')");
    try {
      await openSettings();
      const preview = page.getByTestId('cron-schedule');
      await preview.getByText('A las 02:00', { exact: true }).waitFor();
      await expect(preview.getByText('Próximas ejecuciones (Europe/Madrid):').isVisible()).resolves.toBe(true);
      const expected = previewSchedule('0 2 * * *', 'Europe/Madrid').nextRuns.map((at) => words(formatRun(at, 'es', 'Europe/Madrid')));
      expect((await page.getByTestId('cron-schedule-runs').getByRole('listitem').allTextContents()).map(words)).toEqual(expected);
      await page.getByTestId('cron-drill-schedule').getByText('A las 04:00, sólo el domingo').waitFor();
      await page.getByRole('heading', { name: 'Notificaciones' }).waitFor();
      await screenshot(page, 'settings-cron-es');
    } finally {
      await page.evaluate("window.localStorage.setItem('strapi-admin-language', 'en')");
    }
  });

  it('saves the notifications settings and shows them again after a reload', async () => {
    await openSettings();
    const section = page.getByRole('heading', { name: 'Notifications' });
    await section.scrollIntoViewIfNeeded();

    await page.getByRole('checkbox', { name: 'E-mail' }).click();
    await page.getByRole('checkbox', { name: 'Webhooks' }).click();
    const address = page.getByRole('textbox', { name: 'Recipients' });
    await address.fill('not an address');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText('Not an e-mail address').waitFor();
    await address.fill('ops@example.com');
    await address.press('Enter');
    await address.fill('cto@example.com');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await address.fill('intern@example.com');
    await address.press('Enter');
    await page.getByRole('button', { name: 'Remove intern@example.com' }).click();

    await page.getByRole('radio', { name: 'A daily digest' }).click();
    const digest = page.getByRole('textbox', { name: 'Digest schedule (cron)' });
    await digest.fill('30 7 * * 1-5');
    await page.getByTestId('cron-digest').getByText('At 07:30 AM, Monday through Friday').waitFor();
    await expect(page.getByTestId('cron-digest-runs').getByRole('listitem').count()).resolves.toBe(3);

    await page.getByRole('combobox', { name: 'Default language of e-mails' }).click();
    await page.getByRole('option', { name: 'Español' }).click();
    await page.getByRole('checkbox', { name: 'A backup succeeded' }).click();
    await page.getByRole('checkbox', { name: 'An import was applied' }).click();

    await page.getByRole('button', { name: 'Add a webhook target' }).click();
    const target = page.getByRole('group', { name: 'Webhook target 1' });
    // What the server's schema refuses is said under the field it concerns, and nothing is saved.
    await target.getByRole('textbox', { name: 'Receiver URL' }).fill('hooks.example.com/backups');
    await page.getByRole('button', { name: 'Save' }).click();
    await target.getByText('must be a URL such as https://hooks.example.com/backups').waitFor();
    expect(config().notifications.webhooks.targets).toEqual([]);
    await target.getByRole('textbox', { name: 'Receiver URL' }).fill(receiver.url);
    await target.getByRole('textbox', { name: 'Secret: environment variable name' }).fill(SECRET_ENV);
    await target.getByRole('combobox', { name: 'Events' }).click();
    await page.getByRole('option', { name: 'A backup failed' }).click();
    await page.getByRole('option', { name: 'An alert was raised' }).click();
    await page.keyboard.press('Escape');

    await page.getByRole('checkbox', { name: 'The automatic purge also removes manual backups' }).click();
    // Unsaved: the test would use the old settings, so it waits for the save.
    await expect(page.getByRole('button', { name: 'Send a test' }).isDisabled()).resolves.toBe(true);
    await page.getByRole('heading', { name: 'Notifications' }).scrollIntoViewIfNeeded();
    await screenshot(page, 'settings-notifications');
    await page.getByRole('button', { name: 'Send a test' }).scrollIntoViewIfNeeded();
    await screenshot(page, 'settings-notifications-targets');

    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved. The schedule is updated.').waitFor();
    const saved = config();
    expect(saved.notifications.email).toEqual({
      enabled: true,
      recipients: ['ops@example.com', 'cto@example.com'],
      when: 'digest',
      digestSchedule: '30 7 * * 1-5',
      language: 'es',
    });
    expect(saved.notifications.events).toEqual(['backup.failed', 'backup.warning', 'restore.succeeded', 'restore.failed', 'drill.failed', 'alert.raised', 'alert.cleared']);
    expect(saved.notifications.webhooks).toMatchObject({
      enabled: true,
      targets: [{ url: receiver.url, events: ['backup.failed', 'alert.raised'], secretEnv: SECRET_ENV }],
    });
    expect(saved.retention.includeManual).toBe(true);

    await page.reload();
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    await expect(page.getByRole('checkbox', { name: 'E-mail' }).isChecked()).resolves.toBe(true);
    await expect(page.getByRole('checkbox', { name: 'Webhooks' }).isChecked()).resolves.toBe(true);
    await expect(page.getByRole('list', { name: 'Recipients' }).getByRole('listitem').allTextContents()).resolves.toEqual(['ops@example.com', 'cto@example.com']);
    await expect(page.getByRole('radio', { name: 'A daily digest' }).getAttribute('aria-checked')).resolves.toBe('true');
    await expect(page.getByRole('textbox', { name: 'Digest schedule (cron)' }).inputValue()).resolves.toBe('30 7 * * 1-5');
    await expect(page.getByRole('combobox', { name: 'Default language of e-mails' }).textContent()).resolves.toContain('Español');
    await expect(page.getByRole('checkbox', { name: 'A backup succeeded' }).isChecked()).resolves.toBe(false);
    await expect(page.getByRole('checkbox', { name: 'A backup failed' }).isChecked()).resolves.toBe(true);
    const reloaded = page.getByRole('group', { name: 'Webhook target 1' });
    await expect(reloaded.getByRole('textbox', { name: 'Receiver URL' }).inputValue()).resolves.toBe(receiver.url);
    await expect(reloaded.getByRole('textbox', { name: 'Secret: environment variable name' }).inputValue()).resolves.toBe(SECRET_ENV);
    await expect(page.getByRole('checkbox', { name: 'The automatic purge also removes manual backups' }).isChecked()).resolves.toBe(true);
    // The settings API carries the variable's name, never a secret.
    const settings = await agent.get('/pacta-backup/settings');
    expect(settings.body.data.values['notifications.webhooks.targets']).toEqual([{ url: receiver.url, events: ['backup.failed', 'alert.raised'], secretEnv: SECRET_ENV }]);
  });

  // POST /pacta-backup/notifications/test through the page, to a real receiver that checks the signature.
  it('sends a test to the webhook target and shows each delivery\'s result in the page', async () => {
    await openSettings();
    await page.getByRole('combobox', { name: 'Channel' }).click();
    await page.getByRole('option', { name: 'Webhook', exact: true }).click();
    const before = receiver.received.length;
    await page.getByRole('button', { name: 'Send a test' }).click();
    const result = page.getByRole('status', { name: 'Test result' });
    await result.waitFor({ timeout: 30_000 });
    const delivery = result.getByTestId('test-delivery').filter({ hasText: receiver.url });
    await delivery.getByText('Delivered').waitFor();
    await expect(delivery.getByText('Webhook', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(delivery.getByText('HTTP 200').isVisible()).resolves.toBe(true);
    await result.scrollIntoViewIfNeeded();
    await screenshot(page, 'settings-notifications-test');

    const hooks = receiver.received.slice(before);
    expect(hooks.length).toBeGreaterThanOrEqual(1);
    expect(hooks[0]).toMatchObject({ method: 'POST', url: '/backups-hook' });
    expect(JSON.parse(hooks[0].body)).toMatchObject({ test: true });
    // Signed with the secret the variable holds (the page only ever had the variable's name).
    expect(hooks[0].headers['x-pacta-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(hooks[0].body, 'utf8').digest('hex')}`);
    await expect(page.locator('main').getByText(SECRET).count()).resolves.toBe(0);

    // A receiver that is gone: the page says which delivery failed and why.
    await agent.put('/pacta-backup/settings', { notifications: { webhooks: { targets: [{ url: 'http://127.0.0.1:9/gone' }] } } });
    await page.reload();
    await page.getByRole('combobox', { name: 'Channel' }).click();
    await page.getByRole('option', { name: 'Webhook', exact: true }).click();
    await page.getByRole('button', { name: 'Send a test' }).click();
    const failed = page.getByRole('status', { name: 'Test result' }).getByTestId('test-delivery').filter({ hasText: 'http://127.0.0.1:9/gone' });
    await failed.getByText('Failed', { exact: true }).waitFor({ timeout: 120_000 });
  });

  it('badges the backups the next purge would remove, with the reason as a tooltip', async () => {
    // Two scheduled backups on the same day: the policy (7 days, keep the newest) keeps the newest only.
    const backups = app.strapi.plugin('pacta-backup').service('backups');
    const jobs = app.strapi.plugin('pacta-backup').service('jobs');
    const made: Job[] = [];
    for (let i = 0; i < 2; i += 1) {
      const started = await backups.startBackup({ name: `Nightly ${i + 1}` }, { kind: 'scheduled', trigger: 'scheduled' });
      made.push(await jobs.wait(started.id, { pollMs: 100 }));
    }
    expect(made.map((job) => job.status)).toEqual(['succeeded', 'succeeded']);
    const preview = await agent.get('/pacta-backup/purge/preview');
    expect(preview.status).toBe(200);
    expect(preview.body.data.dryRun).toBe(true);
    const older = made[0].backupId;
    expect(preview.body.data.removed.map((entry: { id: string }) => entry.id)).toContain(older);
    expect(preview.body.data.removed.map((entry: { id: string }) => entry.id)).not.toContain(made[1].backupId);

    await page.goto(`${baseUrl}/admin/plugins/pacta-backup`);
    const doomed = page.getByRole('row', { name: /Nightly 1/ });
    await doomed.getByText('Removed by the next purge').waitFor();
    await expect(page.getByRole('row', { name: /Nightly 2/ }).getByText('Removed by the next purge').count()).resolves.toBe(0);
    await doomed.getByTestId('purge-badge').hover();
    await page.getByRole('tooltip').filter({ hasText: 'Outside the retention policy: not among the backups it keeps' }).first().waitFor();
    await screenshot(page, 'backups-purge-badge');
    // A preview: nothing was deleted.
    await expect(agent.get(`/pacta-backup/backups/${older}`).then((res) => res.status)).resolves.toBe(200);
  });

  it('refuses the previews without a login or without the read permission, and a preview without an expression', async () => {
    const anonymous = createAgent(app.strapi);
    await expect(anonymous.get('/pacta-backup/purge/preview').then((res) => res.status)).resolves.toBe(401);
    await expect(anonymous.get('/pacta-backup/schedule/preview?expression=0%202%20*%20*%20*').then((res) => res.status)).resolves.toBe(401);
    const editor = await createRestrictedAdmin(app.strapi, { name: 'Editor', permissions: editorPermissions });
    await expect(editor.get('/pacta-backup/purge/preview').then((res) => res.status)).resolves.toBe(403);
    await expect(editor.get('/pacta-backup/schedule/preview?expression=0%202%20*%20*%20*').then((res) => res.status)).resolves.toBe(403);
    const missing = await agent.get('/pacta-backup/schedule/preview');
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/^expression: /);
  });
});
