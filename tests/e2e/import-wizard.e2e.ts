import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import type { Browser, Locator, Page } from 'playwright-core';

import { loginAsSuperAdmin, superAdminCredentials, type Agent } from '../helpers/agent';
import { startApp, type TestApp } from '../helpers/app';
import { launchBrowser, loginInBrowser, screenshot } from '../helpers/browser';
import { runJob } from '../helpers/jobs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

const CONTRACT = 'api::contract.contract';
const STAGING_TITLE = 'Renamed in staging';
const HERE_TITLE = 'Edited here in production';
// Staging encrypts its backups with its own key; this app (production) has another one.
const STAGING_KEY = 'staging: correct horse battery staple';
const PRODUCTION_KEY = 'production: a different passphrase';

/** The words the wizard shows, in the two languages of the admin panel. */
const words = {
  en: {
    importLink: 'Import',
    importOnBackup: 'Import…',
    next: 'Next',
    checks: 'Checks',
    passed: 'Passed',
    compatibility: 'Schema compatibility',
    previewRegion: 'What the import would change',
    documentsOf: (type: string) => `Documents of ${type}`,
    draft: 'Draft',
    compare: /^Compare /,
    conflictsOf: (type: string) => `Conflicts of ${type}`,
    fieldsOf: /^Choose field by field for /,
    whichValue: (field: string) => `Which value of ${field}`,
    current: 'Current',
    incoming: 'Incoming',
    close: 'Close',
    left: /^(\d+) conflicts? ha(?:s|ve) no decision yet$/,
    allDecided: 'Every conflict has a decision.',
    policyFor: (type: string) => `Policy for ${type}`,
    keep: 'Keep current',
    confirmRegion: 'Import into this app?',
    safety: /^A safety backup of the current data is taken first/,
    apply: 'Import now',
    report: 'Imported',
    log: 'Download the log',
    undo: 'Undo',
    undoConfirm: 'Undo the import',
    undone: 'The import was undone: the data is back as it was before it.',
    uploaded: /^Uploaded: /,
    upload: 'Archive file',
    noKey: 'This app’s key does not open it: type the passphrase it was encrypted with.',
    wrongKey: 'The passphrase does not open this archive. Type it again.',
    passphrase: 'Passphrase',
    unlock: 'Open the archive',
  },
  es: {
    importLink: 'Importar',
    importOnBackup: 'Importar…',
    next: 'Siguiente',
    checks: 'Comprobaciones',
    passed: 'Superada',
    compatibility: 'Compatibilidad de esquemas',
    previewRegion: 'Qué cambiaría la importación',
    documentsOf: (type: string) => `Documentos de ${type}`,
    draft: 'Borrador',
    compare: /^Comparar /,
    conflictsOf: (type: string) => `Conflictos de ${type}`,
    fieldsOf: /^Elegir campo a campo para /,
    whichValue: (field: string) => `Qué valor de ${field}`,
    current: 'Actual',
    incoming: 'Entrante',
    close: 'Cerrar',
    left: /^(\d+) conflictos? no tienen? decisión todavía$/,
    allDecided: 'Todos los conflictos tienen una decisión.',
    policyFor: (type: string) => `Política para ${type}`,
    keep: 'Mantener la actual',
    confirmRegion: '¿Importar en esta aplicación?',
    safety: /^Primero se hace una copia de seguridad de los datos actuales/,
    apply: 'Importar ahora',
    report: 'Importado',
    log: 'Descargar el registro',
    undo: 'Deshacer',
    undoConfirm: 'Deshacer la importación',
    undone: 'La importación se deshizo: los datos están como antes de ella.',
    uploaded: /^Subido: /,
    upload: 'Archivo de copia',
    noKey: 'La clave de esta aplicación no lo abre: escribe la frase de paso con la que se cifró.',
    wrongKey: 'La frase de paso no abre este archivo. Escríbela de nuevo.',
    passphrase: 'Frase de paso',
    unlock: 'Abrir el archivo',
  },
};
type Words = (typeof words)['en'];

/**
 * The import wizard in the browser, on the example app. Production's backup P is restored (this
 * app descends from P); "staging" renames a contract and is backed up (the archive, descending
 * from P); back to P, production edits the same contract's title and amount. Importing staging's
 * archive is a three-way merge on base P: the title is a conflict, the amount merges. Staging's
 * archive is encrypted with staging's key, so the wizard asks for its passphrase. The archive is
 * uploaded as a file in English and picked from its page in Spanish: validation, passphrase,
 * preview with a field diff, the conflict resolved field by field, apply, report, log, undo.
 */
describe('the import wizard in the admin panel', () => {
  let app: TestApp;
  let agent: Agent;
  let browser: Browser;
  let baseUrl: string;
  let page: Page;
  let backupId: string;
  let baseId: string;
  let archiveFile: string;
  let jsonExport: string;
  let edited: { documentId: string; title: string; amount: number };

  /** The English draft of the edited contract, as the database has it. */
  const draft = async () =>
    (await app.strapi.documents(CONTRACT).findOne({ documentId: edited.documentId, locale: 'en', status: 'draft' })) as unknown as {
      title: string;
      amount: number | string;
    };

  beforeAll(async () => {
    app = await startApp();
    await seed(app.strapi, { documents: 4, media: 1, seed: 41 });
    agent = await loginAsSuperAdmin(app.strapi);
    // Production's backup P, restored: this app now descends from P.
    const base = await runJob(agent, '/pacta-backup/backups', { name: 'Production', encrypt: false });
    expect(base.status).toBe('succeeded');
    baseId = base.backupId!;
    const restoreBase = async () => expect((await runJob(agent, `/pacta-backup/backups/${base.backupId}/restore`, { confirm: true })).status).toBe('succeeded');
    await restoreBase();
    const contracts = app.strapi.documents(CONTRACT);
    const original = (await contracts.findFirst({ locale: 'en', status: 'draft', sort: 'number:asc' })) as unknown as {
      documentId: string;
      title: string;
      amount: number | string;
    };
    edited = { documentId: original.documentId, title: original.title, amount: Number(original.amount) };

    // Staging: the title changes, and staging's backup (descending from P) is the archive to import.
    await contracts.update({ documentId: edited.documentId, locale: 'en', data: { title: STAGING_TITLE } as never });
    // (The key is read from the environment when a backup is written: staging's, then this app's.)
    process.env.PACTA_BACKUP_KEY = STAGING_KEY;
    const staging = await runJob(agent, '/pacta-backup/backups', { name: 'Contracts from staging', encrypt: true });
    expect(staging.status).toBe('succeeded');
    backupId = staging.backupId!;
    process.env.PACTA_BACKUP_KEY = PRODUCTION_KEY;

    // Back to P, and production edits the same contract: title and amount. The title changed on
    // both sides since P (a conflict); the amount here only (merged without asking).
    await restoreBase();
    await contracts.update({ documentId: edited.documentId, locale: 'en', data: { title: HERE_TITLE, amount: 4321 } as never });

    // The archive, as someone would have it on their disk.
    const res = await agent.get(`/pacta-backup/backups/${backupId}/download`).buffer(true).parse((response, callback) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => callback(null, Buffer.concat(chunks)));
    });
    expect(res.status).toBe(200);
    archiveFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-import-e2e-')), 'contracts-from-staging.pacta.zip');
    fs.writeFileSync(archiveFile, res.body as Buffer);

    const { port } = app.strapi.server.httpServer.address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    page = await context.newPage();
    await loginInBrowser(page, baseUrl, superAdminCredentials);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (archiveFile) fs.rmSync(path.dirname(archiveFile), { recursive: true, force: true });
  });

  /**
   * Validation: the archive does not open with this app's key; the passphrase is asked for (a
   * wrong one is refused); then every check passed and the compatibility report is shown.
   */
  const validate = async (w: Words, lang: string, { wrongFirst }: { wrongFirst: boolean }) => {
    await page.getByRole('alert').filter({ hasText: w.noKey }).waitFor({ timeout: 60_000 });
    await screenshot(page, `import-passphrase${lang}`);
    if (wrongFirst) {
      await page.getByLabel(w.passphrase).fill('not the passphrase');
      await page.getByRole('button', { name: w.unlock }).click();
      await page.getByRole('alert').filter({ hasText: w.wrongKey }).waitFor({ timeout: 60_000 });
    }
    await page.getByLabel(w.passphrase).fill(STAGING_KEY);
    await page.getByRole('button', { name: w.unlock }).click();
    const checks = page.getByRole('region', { name: w.checks });
    await checks.waitFor({ timeout: 60_000 });
    await page.getByRole('region', { name: w.compatibility }).waitFor({ timeout: 60_000 });
    // structure, manifest, format, key, checksums, compatibility: each listed, each passed.
    await expect(checks.getByText(w.passed, { exact: true }).count()).resolves.toBe(6);
    await page.getByRole('button', { name: w.next }).click();
  };

  /** Preview: the Contract row's conflict count opens the conflicting documents; one opens its diff. */
  const preview = async (w: Words, lang: string) => {
    const region = page.getByRole('region', { name: w.previewRegion });
    await region.waitFor();
    const row = region.getByRole('row', { name: 'Contract' });
    await row.waitFor();
    await screenshot(page, `import-preview-table${lang}`);
    const count = row.getByRole('button', { name: /Conflict/ });
    await count.waitFor();
    await count.click();
    const list = page.getByRole('region', { name: w.documentsOf('Contract') });
    await list.getByRole('row').nth(1).waitFor();
    await screenshot(page, `import-preview${lang}`);
    const docRow = documentRow(list);
    await docRow.waitFor();
    await expect(docRow.getByText(w.draft, { exact: true }).isVisible()).resolves.toBe(true);
    await docRow.getByRole('button', { name: w.compare }).click();
    const modal = page.getByRole('dialog');
    const title = modal.getByRole('row', { name: 'title', exact: true });
    await title.waitFor();
    await screenshot(page, `import-diff${lang}`);
    // Side by side: this app's title and the archive's, highlighted and marked as a conflict.
    await expect(title.getAttribute('data-changed')).resolves.toBe('true');
    await expect(title.getAttribute('data-conflict')).resolves.toBe('true');
    await expect(title.getByText(HERE_TITLE, { exact: true }).isVisible()).resolves.toBe(true);
    await expect(title.getByText(STAGING_TITLE, { exact: true }).isVisible()).resolves.toBe(true);
    // The amount changed here only: highlighted, not a conflict (the merge keeps this app's).
    const amount = modal.getByRole('row', { name: 'amount', exact: true });
    await expect(amount.getAttribute('data-changed')).resolves.toBe('true');
    await expect(amount.getAttribute('data-conflict')).resolves.toBe('false');
    await modal.getByRole('button', { name: w.close }).first().click();
    await modal.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: w.next }).click();
  };

  /** The row of the edited contract's English draft in a list of documents (by its document key). */
  const documentRow = (list: Locator) => list.locator(`tr[data-key="${CONTRACT}|${edited.documentId}|en|draft"]`);

  /** Conflicts: the edited draft field by field (title from the archive, the rest kept), the others by the type's policy. */
  const resolve = async (w: Words, lang: string) => {
    const status = page.getByTestId('unresolved');
    await status.filter({ hasText: w.left }).waitFor();
    const before = Number(w.left.exec((await status.textContent())!.trim())![1]);
    expect(before).toBeGreaterThanOrEqual(1);
    const list = page.getByRole('region', { name: w.conflictsOf('Contract') });
    const docRow = documentRow(list);
    await docRow.waitFor();
    await docRow.getByRole('button', { name: w.fieldsOf }).click();
    const modal = page.getByRole('dialog');
    const title = modal.getByRole('radiogroup', { name: w.whichValue('title') });
    await title.waitFor();
    // Every conflicting field gets a side: the title the archive's, every other one this app's.
    for (const group of await modal.getByRole('radiogroup').all()) {
      const name = await group.getAttribute('aria-label');
      await group.getByRole('radio', { name: name === w.whichValue('title') ? w.incoming : w.current, exact: true }).click();
    }
    await screenshot(page, `import-resolve-fields${lang}`);
    await modal.getByRole('button', { name: w.close }).first().click();
    await modal.waitFor({ state: 'detached' });
    // The count is live: that document is decided.
    if (before > 1) {
      await status.filter({ hasText: w.left }).filter({ hasText: String(before - 1) }).waitFor();
      // The others: this app's version stays.
      await page.getByRole('combobox', { name: w.policyFor('Contract') }).click();
      await page.getByRole('option', { name: w.keep, exact: true }).click();
    }
    await status.filter({ hasText: w.allDecided }).waitFor();
    await screenshot(page, `import-conflicts${lang}`);
    await page.getByRole('button', { name: w.next }).click();
  };

  /** Confirm → progress → report; the title came from the archive, the amount changed here stayed. */
  const apply = async (w: Words, lang: string) => {
    const confirm = page.getByRole('region', { name: w.confirmRegion });
    await confirm.waitFor();
    await expect(confirm.getByText(w.safety).isVisible()).resolves.toBe(true);
    // The preview kept no passphrase: the apply asks for it again.
    await expect(page.getByRole('button', { name: w.apply }).isDisabled()).resolves.toBe(true);
    await page.getByLabel(w.passphrase).fill(STAGING_KEY);
    await screenshot(page, `import-confirm${lang}`);
    await page.getByRole('button', { name: w.apply }).click();
    const report = page.getByRole('region', { name: w.report });
    await report.waitFor({ timeout: 120_000 });
    await report.getByRole('row', { name: 'Contract' }).waitFor();
    await screenshot(page, `import-report${lang}`);
    const after = await draft();
    expect(after.title).toBe(STAGING_TITLE);
    expect(Number(after.amount)).toBe(4321);
  };

  /** Undo restores the safety backup: the edit made here is back. */
  const undo = async (w: Words) => {
    await page.getByRole('button', { name: w.undo, exact: true }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.getByRole('button', { name: w.undoConfirm }).click();
    await page.getByRole('status').filter({ hasText: w.undone }).waitFor({ timeout: 120_000 });
    const after = await draft();
    expect(after.title).toBe(HERE_TITLE);
    expect(Number(after.amount)).toBe(4321);
  };

  it('exports a backup as JSON from its page', async () => {
    await page.goto(`${baseUrl}/admin/plugins/pacta-backup/${baseId}`);
    await page.getByRole('button', { name: 'Export JSON' }).click();
    const modal = page.getByRole('dialog');
    await modal.getByRole('checkbox', { name: /^Contract \(\d+ entries\)$/ }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), modal.getByRole('button', { name: 'Download', exact: true }).click()]);
    jsonExport = path.join(path.dirname(archiveFile), 'production-documents.json');
    await download.saveAs(jsonExport);
    const exported = JSON.parse(fs.readFileSync(jsonExport, 'utf8'));
    expect(exported.format).toBe('pacta-backup-documents');
    expect(exported.backup.id).toBe(baseId);
    expect(exported.documents.some((d: { documentId: string }) => d.documentId === edited.documentId)).toBe(true);
    expect(download.suggestedFilename()).toBe(`${baseId}-documents.json`);
  });

  it('exports the contracts alone as CSV from the same page', async () => {
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const modal = page.getByRole('dialog');
    const types = modal.getByRole('group', { name: 'Content types' });
    await types.getByRole('checkbox').first().waitFor();
    // Every content type of the backup is ticked: untick all but Contract.
    const details = await agent.get(`/pacta-backup/backups/${baseId}`);
    for (const { displayName } of details.body.data.manifest.contentTypes as Array<{ displayName: string }>) {
      if (displayName !== 'Contract') await types.getByRole('checkbox', { name: new RegExp(`^${displayName} \\(`) }).click();
    }
    await expect(types.getByRole('checkbox', { checked: true }).count()).resolves.toBe(1);
    await expect(types.getByRole('checkbox', { name: /^Contract \(\d+ entries\)$/ }).isChecked()).resolves.toBe(true);
    const [download] = await Promise.all([page.waitForEvent('download'), modal.getByRole('button', { name: 'Download', exact: true }).click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^${baseId}-.+\\.csv$`));
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    // A byte-order mark first, so that spreadsheets read it as UTF-8.
    expect(csv.split(/\r?\n/)[0]).toMatch(/^\uFEFFdocumentId,locale,version,/);
    expect(csv).toContain(edited.documentId);
  });

  it('uploads the archive with its progress, previews, diffs, resolves per field, applies, reports and undoes (English)', async () => {
    const w = words.en;
    await page.goto(`${baseUrl}/admin/plugins/pacta-backup`);
    await page.getByRole('link', { name: w.importLink, exact: true }).click();
    await page.getByText('Drop a backup archive (.pacta.zip) or a JSON export here').waitFor();
    await screenshot(page, 'import-source');
    await page.getByLabel(w.upload).setInputFiles(archiveFile);
    await page.getByRole('status').filter({ hasText: w.uploaded }).filter({ hasText: 'contracts-from-staging.pacta.zip' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: w.next }).click();
    await validate(w, '', { wrongFirst: true });
    await preview(w, '');

    await resolve(w, '');
    // Going back keeps the choices: the conflicts step still has every decision.
    await page.getByRole('button', { name: 'Back', exact: true }).last().click();
    await page.getByTestId('unresolved').filter({ hasText: w.allDecided }).waitFor();
    await page.getByRole('button', { name: w.next }).click();

    await apply(w, '');
    const [log] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: w.log }).click()]);
    expect(log.suggestedFilename()).toMatch(/^import-.+\.jsonl$/);
    const lines = fs.readFileSync((await log.path())!, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    await undo(w);
    await screenshot(page, 'import-undone');
  });

  it('picks the backup from its page and does the same in Spanish', async () => {
    const w = words.es;
    await page.evaluate("window.localStorage.setItem('strapi-admin-language', 'es')");
    try {
      await page.goto(`${baseUrl}/admin/plugins/pacta-backup/${backupId}`);
      await page.getByRole('link', { name: w.importOnBackup }).click();
      // This app's key does not open staging's backup: it is listed locked, by its id, and can be imported.
      await expect(page.getByRole('radio', { name: backupId }).isChecked()).resolves.toBe(true);
      await page.getByRole('button', { name: w.next }).click();
      await validate(w, '-es', { wrongFirst: false });
      await preview(w, '-es');
      await resolve(w, '-es');
      await apply(w, '-es');
      await undo(w);
    } finally {
      await page.evaluate("window.localStorage.setItem('strapi-admin-language', 'en')");
    }
  });

  it('takes a JSON export as a source too: dropped on the page, uploaded with its progress, checked and previewed two-way', async () => {
    const w = words.en;
    await page.goto(`${baseUrl}/admin/plugins/pacta-backup/import`);
    const dropzone = page.getByTestId('import-dropzone');
    await dropzone.waitFor();
    // A slow link (32 KB/s up), so that the upload's progress is there to see.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 32 * 1024 });
    try {
      // Dropped as a file from the desktop would be.
      const dataTransfer = await page.evaluateHandle(
        ({ base64, name }) => {
          // The browser's own classes (this file is type-checked without the DOM library).
          const web = globalThis as unknown as {
            atob(text: string): string;
            DataTransfer: new () => { items: { add(file: unknown): void } };
            File: new (parts: unknown[], name: string, options: { type: string }) => unknown;
          };
          const bytes = Uint8Array.from(web.atob(base64), (c) => c.charCodeAt(0));
          const transfer = new web.DataTransfer();
          transfer.items.add(new web.File([bytes], name, { type: 'application/json' }));
          return transfer;
        },
        { base64: fs.readFileSync(jsonExport).toString('base64'), name: 'production-documents.json' }
      );
      await dropzone.dispatchEvent('drop', { dataTransfer });
      await page.getByRole('progressbar', { name: 'Upload progress' }).waitFor();
      await page.getByTestId('upload-percent').waitFor();
      await screenshot(page, 'import-uploading');
    } finally {
      await page.getByRole('status').filter({ hasText: w.uploaded }).waitFor({ timeout: 120_000 });
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    }
    await page.getByRole('status').filter({ hasText: w.uploaded }).filter({ hasText: 'production-documents.json' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: w.next }).click();
    await page.getByRole('region', { name: w.compatibility }).waitFor({ timeout: 60_000 });
    await expect(page.getByRole('region', { name: w.checks }).getByText('Failed', { exact: true }).count()).resolves.toBe(0);
    await page.getByRole('button', { name: w.next }).click();
    const region = page.getByRole('region', { name: w.previewRegion });
    await region.getByText('Two-way', { exact: true }).waitFor();
    await region.getByRole('row', { name: 'Contract' }).waitFor();
    await screenshot(page, 'import-preview-json');
  });

  it('reopens an earlier preview from the first step: an applied one shows its report', async () => {
    await page.goto(`${baseUrl}/admin/plugins/pacta-backup/import`);
    const earlier = page.getByRole('region', { name: 'Earlier previews' });
    // The uploaded archive's preview, applied in the English run (case-sensitive: not "Not applied").
    const row = earlier.getByRole('row').filter({ hasText: 'contracts-from-staging.pacta.zip' }).filter({ hasText: /Applied/ });
    await row.first().getByRole('button', { name: 'Reopen' }).click();
    const report = page.getByRole('region', { name: 'Imported' });
    await report.waitFor({ timeout: 60_000 });
    await report.getByRole('row', { name: 'Contract' }).waitFor();
    await expect(page.getByRole('button', { name: 'Download the log' }).isVisible()).resolves.toBe(true);
  });
});
