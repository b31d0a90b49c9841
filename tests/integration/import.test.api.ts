import fs from 'node:fs';
import path from 'node:path';

import type { Core } from '@strapi/strapi';

import { writeJsonExport } from '../../server/src/engine/export/json';

import type { Job } from '../../server/src/contracts/backups';
import type { ImportReport, PreviewJobResult } from '../../server/src/contracts/imports';
import { databaseClient, startApp, type TestApp } from '../helpers/app';
import { dumpDatabase } from '../helpers/dump';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

/**
 * The import engine through its service (the HTTP routes and the merge-semantics suite are
 * tested in import-input / import-merge): preview counts, apply, re-import, staleness.
 */

const CONTRACT = 'api::contract.contract';

const service = <T = Record<string, (...args: never[]) => Promise<unknown>>>(strapi: Core.Strapi, name: string) =>
  strapi.plugin('pacta-backup').service(name) as T;

describe(`import service on ${databaseClient}`, () => {
  let app: TestApp;
  const jobs = () => service<{ wait(id: string, o?: object): Promise<Job> }>(app.strapi, 'jobs');
  const imports = () => app.strapi.plugin('pacta-backup').service('imports');
  const backups = () => app.strapi.plugin('pacta-backup').service('backups');

  const backup = async () => {
    const job = await backups().startBackup({});
    const done = await jobs().wait(job.id);
    expect(done.error).toBeNull();
    return done.backupId as string;
  };
  const preview = async (body: object) => {
    const job = await imports().startPreview(body);
    const done = await jobs().wait(job.id);
    if (done.error) throw new Error(`${done.error.code}: ${done.error.message}`);
    const result = done.result as unknown as PreviewJobResult;
    return imports().getPreview(result.previewId);
  };
  const apply = async (id: string, body: object) => {
    const job = await imports().startApply(id, { confirm: true, ...body });
    const done = await jobs().wait(job.id);
    if (done.error) throw new Error(`${done.error.code}: ${done.error.message}`);
    return done.result as unknown as ImportReport;
  };

  beforeAll(async () => {
    app = await startApp();
    await seed(app.strapi, { documents: 12, media: 3, seed: 9 });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('previews its own backup as unchanged, and applying it changes nothing', async () => {
    const id = await backup();
    const before = await dumpDatabase(app.strapi, { only: ['contracts', 'contracts_cmps', 'components_contract_clauses', 'contracts_tags_lnk', 'files'] });
    const p = await preview({ source: { backupId: id } });
    expect(p.mode).toBe('three-way');
    const contracts = p.types.find((t: { uid: string }) => t.uid === CONTRACT);
    expect(contracts.counts).toMatchObject({ create: 0, update: 0, conflict: 0, absent: 0 });
    expect(contracts.counts.unchanged).toBeGreaterThan(0);
    const report = await apply(p.id, {});
    expect(report.types.find((t) => t.uid === CONTRACT)).toMatchObject({ created: 0, updated: 0 });
    expect(await dumpDatabase(app.strapi, { only: ['contracts', 'contracts_cmps', 'components_contract_clauses', 'contracts_tags_lnk', 'files'] })).toEqual(before);
  });

  it('brings back deleted documents and archive-side edits (two-way, without a stored base), and a second import changes nothing', async () => {
    const id = await backup();
    const docs = app.strapi.documents(CONTRACT as never);
    const all = (await docs.findMany({ locale: 'en', limit: 3 } as never)) as unknown as Array<{ documentId: string; title: string }>;
    await docs.delete({ documentId: all[0].documentId, locale: '*' } as never);
    await docs.update({ documentId: all[1].documentId, locale: 'en', data: { title: 'Edited here' } } as never);
    // Forget the lineage: the archive has no common base with this app any more.
    await app.strapi.plugin('pacta-backup').service('lineage').reset();

    const p = await preview({ source: { backupId: id } });
    expect(p.mode).toBe('two-way');
    const counts = p.types.find((t: { uid: string }) => t.uid === CONTRACT).counts;
    expect(counts.create).toBeGreaterThan(0);
    expect(counts.conflict).toBeGreaterThan(0);

    const page = await imports().listDocuments(p.id, { uid: CONTRACT, state: 'conflict' });
    const edited = page.results.find((d: { documentId: string; locale: string }) => d.documentId === all[1].documentId && d.locale === 'en');
    expect(edited.conflicts).toContain('title');
    const diff = await imports().getDocument(p.id, edited.key);
    expect(diff.diff.find((d: { field: string }) => d.field === 'title')).toMatchObject({ current: 'Edited here', incoming: all[1].title });

    const report = await apply(p.id, { policies: { [CONTRACT]: 'incoming' } });
    expect(report.safetyBackupId).toBeTruthy();
    const back = (await docs.findOne({ documentId: all[0].documentId, locale: 'en', populate: ['clauses', 'tags', 'supplier'] } as never)) as unknown as { title: string } | null;
    expect(back).not.toBeNull();
    expect(((await docs.findOne({ documentId: all[1].documentId, locale: 'en' } as never)) as unknown as { title: string }).title).toBe(all[1].title);

    const again = await preview({ source: { backupId: id } });
    const c2 = again.types.find((t: { uid: string }) => t.uid === CONTRACT).counts;
    expect(c2).toMatchObject({ create: 0, update: 0, conflict: 0 });
  });

  it('refuses to apply a preview whose documents changed since', async () => {
    const id = await backup();
    const docs = app.strapi.documents(CONTRACT as never);
    const [one] = (await docs.findMany({ locale: 'en', limit: 1 } as never)) as unknown as Array<{ documentId: string }>;
    await docs.update({ documentId: one.documentId, locale: 'en', data: { title: 'Before the preview' } } as never);
    await app.strapi.plugin('pacta-backup').service('lineage').reset();
    const p = await preview({ source: { backupId: id } });
    await docs.update({ documentId: one.documentId, locale: 'en', data: { title: 'After the preview' } } as never);
    await expect(imports().startApply(p.id, { confirm: true })).rejects.toMatchObject({ code: 'STALE_PREVIEW' });
  });

  it('merges three-way: changed on one side only takes that side, fields changed on different sides merge, both sides is a conflict', async () => {
    const docs = app.strapi.documents(CONTRACT as never);
    const restore = async (id: string) => {
      const job = await backups().startRestore(id, { confirm: true });
      const done = await jobs().wait(job.id);
      expect(done.error).toBeNull();
    };
    const [a, b, c] = (await docs.findMany({ locale: 'en', limit: 3, sort: 'id' } as never)) as unknown as Array<{ documentId: string; title: string; notes: string | null }>;
    const base = await backup();
    // "Staging": restored from the base, edited, backed up (its archive names the base).
    await restore(base);
    await docs.update({ documentId: a.documentId, locale: 'en', data: { title: 'Staging title A' } } as never);
    await docs.update({ documentId: b.documentId, locale: 'en', data: { title: 'Staging title B' } } as never);
    await docs.update({ documentId: c.documentId, locale: 'en', data: { title: 'Staging title C' } } as never);
    const staging = await backup();
    // "Prod": back to the base, edited on its own.
    await restore(base);
    await docs.update({ documentId: b.documentId, locale: 'en', data: { notes: 'Prod notes B' } } as never);
    await docs.update({ documentId: c.documentId, locale: 'en', data: { title: 'Prod title C' } } as never);

    const p = await preview({ source: { backupId: staging } });
    expect(p.mode).toBe('three-way');
    expect(p.base).toBe(base);
    const rows = (await imports().listDocuments(p.id, { uid: CONTRACT, pageSize: 100 })).results as Array<{ documentId: string; locale: string; version: string; state: string; conflicts: string[] }>;
    const draft = (id: string) => rows.find((r) => r.documentId === id && r.locale === 'en' && r.version === 'draft')!;
    expect(draft(a.documentId)).toMatchObject({ state: 'update', conflicts: [] });
    expect(draft(b.documentId)).toMatchObject({ state: 'update', conflicts: [] });
    expect(draft(c.documentId)).toMatchObject({ state: 'conflict', conflicts: ['title'] });
    expect(rows.filter((r) => r.state === 'conflict')).toHaveLength(1);

    await apply(p.id, { policies: { [CONTRACT]: 'keep' } });
    const now = async (id: string) => (await docs.findOne({ documentId: id, locale: 'en' } as never)) as unknown as { title: string; notes: string | null };
    expect((await now(a.documentId)).title).toBe('Staging title A');
    expect(await now(b.documentId)).toMatchObject({ title: 'Staging title B', notes: 'Prod notes B' });
    expect((await now(c.documentId)).title).toBe('Prod title C');
  });

  it('imports a JSON export: the same preview and apply as an archive', async () => {
    const id = await backup();
    const opened = await imports().openDocuments({ backupId: id }, { contentTypes: [CONTRACT] });
    const file = path.join(app.backupsDir, 'contracts.json');
    try {
      const documents = (async function* () {
        for (const uid of opened.contentTypes) yield* opened.documents(uid);
      })();
      await writeJsonExport({ meta: { backup: { id, createdAt: opened.manifest.createdAt } }, contentTypes: [opened.model.get(CONTRACT)], documents }, fs.createWriteStream(file));
    } finally {
      await opened.close();
    }
    const docs = app.strapi.documents(CONTRACT as never);
    const [one] = (await docs.findMany({ locale: 'en', limit: 1 } as never)) as unknown as Array<{ documentId: string; title: string }>;
    await docs.update({ documentId: one.documentId, locale: 'en', data: { title: 'Changed after the export' } } as never);

    const p = await preview({ source: { file } });
    expect(p.mode).toBe('two-way');
    expect(p.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
    const contracts = p.types.find((t: { uid: string }) => t.uid === CONTRACT);
    expect(contracts.counts.conflict).toBeGreaterThan(0);
    expect(contracts.counts.create).toBe(0);
    const key = `${CONTRACT}|${one.documentId}|en|draft`;
    await apply(p.id, { documents: { [key]: 'incoming' } });
    expect(((await docs.findOne({ documentId: one.documentId, locale: 'en' } as never)) as unknown as { title: string }).title).toBe(one.title);
  });
});
