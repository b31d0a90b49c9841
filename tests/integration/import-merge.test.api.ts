import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Core } from '@strapi/strapi';
import request from 'supertest';

import type { ImportPolicy, PreviewDocument } from '../../server/src/contracts/imports';
import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, startApp, type TestApp } from '../helpers/app';
import { dumpDatabase, hashUploads } from '../helpers/dump';
import {
  CONTENT_TYPES,
  contentOf,
  expectImport,
  keyOf,
  readDocuments,
  relationsOf,
  same,
  type Documents,
  type Expected,
  type RelationMap,
} from '../helpers/import-model';
import { applyImport, previewDocuments, previewImport } from '../helpers/imports';
import { runJob } from '../helpers/jobs';

/* eslint-disable @typescript-eslint/no-require-imports */
const { seed } = require('../app/scripts/seed/index');
const { makePdf } = require('../app/scripts/seed/media') as { makePdf: (text: string) => Buffer };
/* eslint-enable @typescript-eslint/no-require-imports */

type Dump = Awaited<ReturnType<typeof dumpDatabase>>;

const CONTRACT = 'api::contract.contract';
const TAG = 'api::tag.tag';
const SUPPLIER = 'api::supplier.supplier';
const MATCH = { [CONTRACT]: 'number' };

/** The content types' tables, for rows compared by id. */
const TABLES: Record<string, string> = {
  contracts: CONTRACT,
  departments: 'api::department.department',
  settings: 'api::settings.settings',
  suppliers: SUPPLIER,
  tags: TAG,
};

/** Uploads a file through Strapi's upload service, as the admin panel would; returns its row. */
const upload = async (strapi: Core.Strapi, name: string, bytes: Buffer, mime: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-import-upload-'));
  try {
    const filepath = path.join(dir, name);
    fs.writeFileSync(filepath, bytes);
    const [row] = await strapi
      .plugin('upload')
      .service('upload')
      .upload({ data: { fileInfo: { name } }, files: { filepath, originalFilename: name, mimetype: mime, size: bytes.length } });
    return row as { id: number; url: string };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
};

/** How many files of the uploads folder have each SHA-256. */
const copiesByHash = (uploads: Record<string, string>) => {
  const out: Record<string, number> = {};
  for (const hash of Object.values(uploads)) out[hash] = (out[hash] ?? 0) + 1;
  return out;
};

/** The rows of a dump's content tables, by table and id, with the version they belong to. */
const contentRows = (dump: Dump) => {
  const out = new Map<string, { key: string; row: unknown[][] }>();
  for (const [table, uid] of Object.entries(TABLES)) {
    for (const pairs of dump[table] ?? []) {
      const row = Object.fromEntries(pairs as Array<[string, unknown]>);
      const key = keyOf({ uid, documentId: String(row.document_id), locale: (row.locale as string | null) || null, published: row.published_at !== null });
      out.set(`${table}#${row.id}`, { key, row: pairs as unknown[][] });
    }
  }
  return out;
};

/** Versions the import writes: created, or ending with content other than this app's. */
const writtenKeys = (here: Documents, expected: Expected) =>
  new Set([...expected.after].filter(([key, v]) => !here.has(key) || !same(here.get(key)!.fields, v.fields)).map(([key]) => key));

/** A preview document's version under this app's documentId (a document matched by number is listed under the archive's). */
const hereKey = (d: PreviewDocument) => keyOf({ uid: d.uid, documentId: d.hereDocumentId ?? d.documentId, locale: d.locale, published: d.version === 'published' });

/** The preview's documents as the model states them: key → state. */
const statesOf = (documents: PreviewDocument[]) => Object.fromEntries(documents.map((d) => [hereKey(d), d.state]).sort(([a], [b]) => (a < b ? -1 : 1)));

/**
 * Two-way import: this app and the archive have no common base. Both start from one seeded
 * state S0 (so they share documentIds) and then diverge:
 *
 *   here, early  (edited before the archive's edits, so the archive's are newer):
 *                 contract E: en title
 *   archive      contract C (both sides): en title; contract T (archive only): en title;
 *                contract E: en title; contract D: deleted; contract P: its Spanish draft published;
 *                contract L: a new Spanish locale; contract M: a new file as `document` (a PDF not
 *                here) and a new row of a file already here as attachment; contract R: other tags
 *                and supplier; contract N: deleted and created again with the same number (another
 *                documentId: matched by number) and another title; a new contract linked to N's
 *                new documentId (renewalOf) and to a new supplier; a new tag (its row id is also a
 *                new tag's here: an id collision).
 *   here, late   (after the archive's edits, so newer): contract C: en title; a new tag; a new
 *                contract; contract H: amount.
 *
 * The archive is a full backup A of the archive's state; the backups the two sides descend from
 * are deleted, so no common base is stored. For each policy, this app is put back in its state
 * (full restore of H, a backup of it), A is previewed and applied, and the documents after are
 * compared with the model's (tests/helpers/import-model.ts), the rows the import does not write
 * by id, and the uploads folder by hash. A second import of A then changes nothing.
 */
describe(`two-way import on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;
  let relations: RelationMap;
  let archiveId: string;
  let hereId: string;
  let here: Documents;
  let theirs: Documents;
  let hereDump: Dump;
  let hereUploads: Record<string, string>;
  /** documentIds of the contracts the scenario uses. */
  const ids: Record<string, string> = {};
  /** Row ids of the new tags on each side (the collision). */
  const tagRow: { theirs?: number; here?: number } = {};
  let newPdfHash: string;

  const backup = async (name: string) => {
    const job = await runJob(admin, '/pacta-backup/backups', { name });
    if (job.status !== 'succeeded') throw new Error(`backup ${name} failed: ${JSON.stringify(job.error)}`);
    return job.backupId!;
  };
  const restore = async (id: string) => {
    const job = await runJob(admin, `/pacta-backup/backups/${id}/restore`, { confirm: true });
    if (job.status !== 'succeeded') throw new Error(`restore ${id} failed: ${JSON.stringify(job.error)}`);
  };
  const read = () => readDocuments(app.strapi, app.publicDir);
  const contracts = () => app.strapi.documents(CONTRACT);
  const setTitle = (documentId: string, title: string, locale = 'en') => contracts().update({ documentId, locale, data: { title } as never });

  beforeAll(async () => {
    app = await startApp();
    admin = await loginAsSuperAdmin(app.strapi);
    await seed(app.strapi, { documents: 20, media: 4, seed: 31 });
    relations = relationsOf(app.strapi);
    const s0 = await read();

    // The contracts of the scenario, each used once (chosen by what they have in S0).
    const versions = [...s0.values()].filter((v) => v.uid === CONTRACT);
    const has = (documentId: string, locale: string, published: boolean) => s0.has(keyOf({ uid: CONTRACT, documentId, locale, published }));
    const renewed = new Set(versions.map((v) => v.fields.renewalOf).filter(Boolean));
    const free = [...new Set(versions.map((v) => v.documentId))].filter((id) => !renewed.has(id) && !versions.some((v) => v.documentId === id && v.fields.renewalOf));
    const take = (name: string, test: (id: string) => boolean) => {
      const id = free.find((candidate) => !Object.values(ids).includes(candidate) && test(candidate));
      if (!id) throw new Error(`the seed has no contract for ${name}`);
      ids[name] = id;
    };
    take('P', (id) => has(id, 'es', false) && !has(id, 'es', true));
    take('L', (id) => !has(id, 'es', false) && has(id, 'en', false));
    for (const name of ['C', 'T', 'E', 'D', 'M', 'R', 'N', 'H']) take(name, (id) => has(id, 'en', false));
    const b0 = await backup('S0');

    // Here, early.
    await setTitle(ids.E, 'Edited here first');
    const early = await backup('Here, early');

    // The archive's side: from S0.
    await restore(b0);
    await setTitle(ids.C, 'Edited in the archive');
    await setTitle(ids.T, 'Edited in the archive only');
    await setTitle(ids.E, 'Edited in the archive after');
    await contracts().delete({ documentId: ids.D, locale: '*' } as never);
    await contracts().publish({ documentId: ids.P, locale: 'es' } as never);
    await contracts().update({ documentId: ids.L, locale: 'es', data: { title: 'Traducido en el archivo' } as never });
    const pdf = makePdf('A file only the archive has');
    const added = await upload(app.strapi, 'only-in-the-archive.pdf', pdf, 'application/pdf');
    newPdfHash = hashUploads(app.publicDir)[added.url.replace(/^\/uploads\//, '')];
    const existing = Object.entries(hashUploads(app.publicDir)).find(([name]) => name.endsWith('.pdf') && !name.startsWith('only_in'))!;
    const again = await upload(app.strapi, 'same-bytes-again.pdf', fs.readFileSync(path.join(app.publicDir, 'uploads', existing[0])), 'application/pdf');
    await contracts().update({ documentId: ids.M, locale: 'en', data: { document: added.id, attachments: [again.id] } as never });
    const tags = app.strapi.documents(TAG);
    const newTag = await tags.create({ data: { name: 'archive-tag', color: '#123456' } as never });
    tagRow.theirs = (await app.strapi.db.query(TAG).findOne({ where: { documentId: newTag.documentId } })).id;
    const supplier = await app.strapi.documents(SUPPLIER).create({ data: { name: 'Archive Supplier', taxId: 'TX-ARCHIVE-1' } as never });
    const allTags = await tags.findMany({});
    await contracts().update({
      documentId: ids.R,
      locale: 'en',
      data: { tags: [newTag.documentId, allTags[0].documentId], supplier: supplier.documentId } as never,
    });
    const number = s0.get(keyOf({ uid: CONTRACT, documentId: ids.N, locale: 'en', published: false }))!.fields.number as string;
    await contracts().delete({ documentId: ids.N, locale: '*' } as never);
    const reborn = await contracts().create({ locale: 'en', data: { title: 'Same number, another documentId', number } as never });
    ids.N2 = reborn.documentId;
    const created = await contracts().create({
      locale: 'en',
      data: {
        title: 'New in the archive',
        number: 'PC-ARCHIVE-1',
        supplier: supplier.documentId,
        renewalOf: reborn.documentId,
        tags: [newTag.documentId],
        // A relation inside a component: remapped and, when its target is left out, dangling at clauses[1].counterparty.
        clauses: [{ heading: 'Bound to nobody', mandatory: false }, { heading: 'Bound to the archive supplier', mandatory: true, counterparty: supplier.documentId }],
      } as never,
    });
    ids.NEW = created.documentId;
    theirs = await read();
    archiveId = await backup('The archive');

    // Here, late: from here-early.
    await restore(early);
    await setTitle(ids.C, 'Edited here');
    const hereTag = await tags.create({ data: { name: 'here-tag', color: '#654321' } as never });
    tagRow.here = (await app.strapi.db.query(TAG).findOne({ where: { documentId: hereTag.documentId } })).id;
    await contracts().create({ locale: 'en', data: { title: 'New here', number: 'PC-HERE-1' } as never });
    await contracts().update({ documentId: ids.H, locale: 'en', data: { amount: 4242.5 } as never });
    here = await read();
    hereId = await backup('Here');
    hereDump = await dumpDatabase(app.strapi);
    hereUploads = hashUploads(app.publicDir);

    // No common base: only the archive and this app's state are stored.
    const listed = await admin.get('/pacta-backup/backups');
    for (const b of listed.body.data as Array<{ id: string }>) {
      if (b.id !== archiveId && b.id !== hereId) expect((await admin.delete(`/pacta-backup/backups/${b.id}`)).status).toBe(200);
    }
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('has the scenario it means to test', () => {
    // The two new tags share a row id: the import must give the archive's another.
    expect(tagRow.here).toBe(tagRow.theirs);
    // The archive's contract N is another documentId with N's number.
    const byNumber = (docs: Documents, documentId: string) => [...docs.values()].find((v) => v.documentId === documentId)?.fields.number;
    expect(byNumber(theirs, ids.N2)).toBe(byNumber(here, ids.N));
    expect(byNumber(theirs, ids.N)).toBeUndefined();
    // The new PDF is not here; the file uploaded again is (same bytes).
    expect(Object.values(hereUploads)).not.toContain(newPdfHash);
    const m = theirs.get(keyOf({ uid: CONTRACT, documentId: ids.M, locale: 'en', published: false }))!;
    expect(Object.values(hereUploads)).toContain((m.fields.attachments as string[])[0]);
  });

  describe.each(['keep', 'incoming', 'newer', 'skip'] as ImportPolicy[])('with policy %s', (policy) => {
    let expected: Expected;
    let previewId: string;
    let afterDump: Dump;

    beforeAll(async () => {
      await restore(hereId);
      expect(await read()).toEqual(here);
      expect(hashUploads(app.publicDir)).toEqual(hereUploads);
      expected = expectImport(here, theirs, relations, { match: MATCH, contentTypes: CONTENT_TYPES, policies: Object.fromEntries(CONTENT_TYPES.map((uid) => [uid, policy])) });
    });

    it('previews what the model expects: two-way, counts, states and conflicting fields', async () => {
      // The scenario has every state, and this policy writes something (but skip).
      expect(expected.counts[CONTRACT]).toEqual({ create: expect.any(Number), update: 0, unchanged: expect.any(Number), conflict: expect.any(Number), absent: expect.any(Number) });
      for (const state of ['create', 'unchanged', 'conflict', 'absent'] as const) expect({ state, n: expected.counts[CONTRACT][state] > 0 }).toEqual({ state, n: true });
      expect(expected.counts[TAG].create).toBe(1);
      expect(writtenKeys(here, expected).size > 0).toBe(policy !== 'skip');
      const { preview } = await previewImport(admin, { source: { backupId: archiveId }, match: MATCH });
      previewId = preview.id;
      expect(preview.mode).toBe('two-way');
      expect(preview.base).toBeNull();
      expect(preview.checks.every((check) => check.ok)).toBe(true);
      expect(Object.fromEntries(preview.types.map((t) => [t.uid, t.counts]))).toEqual(expected.counts);
      expect(preview.types.find((t) => t.uid === CONTRACT)?.matchBy).toBe('number');
      expect(preview.dangling).toEqual([]);
      expect(preview.media).toEqual({ reused: expect.any(Number), added: 1, missing: 0 });

      const documents = await previewDocuments(admin, preview.id);
      expect(statesOf(documents)).toEqual(Object.fromEntries([...expected.states].sort(([a], [b]) => (a < b ? -1 : 1))));
      for (const [key, fields] of expected.conflicts) {
        expect({ key, conflicts: [...(documents.find((d) => hereKey(d) === key)?.conflicts ?? [])].sort() }).toEqual({ key, conflicts: fields });
      }
      // The document matched by number is shown under this app's documentId, with the archive's.
      const matched = documents.find((d) => d.documentId === ids.N2 || d.hereDocumentId === ids.N);
      expect(matched).toMatchObject({ hereDocumentId: ids.N, state: 'conflict' });
    });

    it('applies exactly the expected documents, leaves the other rows as they were, and adds only the new file', async () => {
      const { job, report } = await applyImport(admin, previewId, { policies: Object.fromEntries(CONTENT_TYPES.map((uid) => [uid, policy])) });
      expect(job.error).toBeNull();
      expect(report!.mode).toBe('two-way');
      // The archive's new rows whose id is taken here get another (skip creates nothing).
      if (policy !== 'skip') expect(report!.remapped).toBeGreaterThan(0);

      const after = await read();
      expect(contentOf(after)).toEqual(contentOf(expected.after));

      // Rows of versions the import does not write are the same rows, by id, column for column.
      afterDump = await dumpDatabase(app.strapi);
      const written = writtenKeys(here, expected);
      const before = contentRows(hereDump);
      const now = contentRows(afterDump);
      const untouched = [...before].filter(([, { key }]) => !written.has(key));
      expect(untouched.length).toBeGreaterThan(0);
      for (const [id, { row }] of untouched) expect({ id, row: now.get(id)?.row }).toEqual({ id, row });
      // The tag here keeps its row id; the archive's got another.
      expect(now.get(`tags#${tagRow.here}`)?.row).toEqual(before.get(`tags#${tagRow.here}`)?.row);

      // Files: one copy of each; the new PDF added when a document that is written uses it.
      const uploads = hashUploads(app.publicDir);
      const usesNewPdf = [...expected.after.values()].some((v) => JSON.stringify(v.fields).includes(newPdfHash));
      expect(copiesByHash(uploads)).toEqual({ ...copiesByHash(hereUploads), ...(usesNewPdf ? { [newPdfHash]: 1 } : {}) });
    });

    it('a second import of the same archive changes nothing and creates nothing', async () => {
      const { preview } = await previewImport(admin, { source: { backupId: archiveId }, match: MATCH });
      // Nothing left to create, but what skip left out.
      for (const type of preview.types) {
        expect({ uid: type.uid, create: type.counts.create }).toEqual({ uid: type.uid, create: policy === 'skip' ? expected.counts[type.uid].create : 0 });
      }
      const { job } = await applyImport(admin, preview.id, { policies: Object.fromEntries(CONTENT_TYPES.map((uid) => [uid, policy])) });
      expect(job.error).toBeNull();
      expect(await dumpDatabase(app.strapi)).toEqual(afterDump);
      expect(contentOf(await read())).toEqual(contentOf(expected.after));
    });
  });

  describe('a relation to a document in neither side (a JSON export of contracts only)', () => {
    let uploadId: string;
    let expected: Expected;
    const policies = { [CONTRACT]: 'keep' as ImportPolicy };

    /** The dangling relations, once each (a version's draft and published both report theirs). */
    const unique = (list: Array<{ uid: string; documentId: string; locale: string | null; field: string; targetUid: string; targetDocumentId: string }>) =>
      [...new Set(list.map((d) => JSON.stringify([d.uid, d.documentId, d.locale, d.field, d.targetUid, d.targetDocumentId])))].sort();

    beforeAll(async () => {
      await restore(hereId);
      // The archive's contracts link to its new supplier and tag, which the export leaves out.
      const exported = await admin.get(`/pacta-backup/backups/${archiveId}/export?format=json&contentTypes=${encodeURIComponent(CONTRACT)}`).buffer(true);
      expect(exported.status).toBe(200);
      const res = await request(app.strapi.server.httpServer)
        .post('/pacta-backup/imports/uploads')
        .set('Authorization', `Bearer ${admin.token}`)
        .attach('file', Buffer.from(exported.text), 'contracts.json');
      expect(res.status).toBe(201);
      uploadId = res.body.data.uploadId;
      const contractsOnly = new Map([...theirs].filter(([, v]) => v.uid === CONTRACT));
      expected = expectImport(here, contractsOnly, relations, { match: MATCH, contentTypes: [CONTRACT], policies });
      expect(expected.dangling.map((d) => d.targetUid).sort()).toEqual(expect.arrayContaining([SUPPLIER, TAG]));
      expect(expected.dangling.map((d) => d.field)).toContain('clauses[1].counterparty');
    });

    it('lists it in the preview, and stop refuses the apply leaving the database as it was', async () => {
      const { preview } = await previewImport(admin, { source: { uploadId }, match: MATCH, contentTypes: [CONTRACT] });
      expect(unique(preview.dangling)).toEqual(unique(expected.dangling));
      const dump = await dumpDatabase(app.strapi);
      const { job } = await applyImport(admin, preview.id, { policies, dangling: 'stop' });
      expect(job.status).toBe('failed');
      expect(job.error?.code).toBe('DANGLING_RELATION');
      expect(await dumpDatabase(app.strapi)).toEqual(dump);
      expect(hashUploads(app.publicDir)).toEqual(hereUploads);
    });

    it('drops the link with drop, reports it, and writes the rest as the model does', async () => {
      const { preview } = await previewImport(admin, { source: { uploadId }, match: MATCH, contentTypes: [CONTRACT] });
      const { job, report } = await applyImport(admin, preview.id, { policies, dangling: 'drop' });
      expect(job.error).toBeNull();
      // What the written versions lost (the preview lists every version's, the report those written).
      const written = writtenKeys(here, expected);
      const dropped = expected.dangling.filter((d) => written.has(keyOf({ uid: d.uid, documentId: d.documentId, locale: d.locale, published: false })) || written.has(keyOf({ uid: d.uid, documentId: d.documentId, locale: d.locale, published: true })));
      expect(dropped.length).toBeGreaterThan(0);
      expect(contentOf(await read())).toEqual(contentOf(expected.after));
      expect(unique(report!.dangling)).toEqual(unique(dropped));
    });
  });

  describe('an archive of contracts only (a selective backup)', () => {
    let selectiveId: string;
    const policies = { [CONTRACT]: 'incoming' as ImportPolicy };

    beforeAll(async () => {
      // A backup of the archive's contracts alone: their links and files, not the suppliers, tags or files tables.
      await restore(archiveId);
      const job = await runJob(admin, '/pacta-backup/backups', { name: 'The archive, contracts only', contentTypes: [CONTRACT] });
      expect(job.status).toBe('succeeded');
      selectiveId = job.backupId!;
      await restore(hereId);
    });

    it('keeps the links to suppliers, tags and files that are here, and calls dangling only those in neither side', async () => {
      const contractsOnly = new Map([...theirs].filter(([, v]) => v.uid === CONTRACT));
      const expected = expectImport(here, contractsOnly, relations, { match: MATCH, contentTypes: [CONTRACT], policies });
      const { preview } = await previewImport(admin, { source: { backupId: selectiveId }, match: MATCH, contentTypes: [CONTRACT] });
      expect(preview.types.map((t) => [t.uid, t.counts])).toEqual([[CONTRACT, expected.counts[CONTRACT]]]);
      const { job } = await applyImport(admin, preview.id, { policies });
      expect(job.error).toBeNull();
      expect(contentOf(await read())).toEqual(contentOf(expected.after));
    });
  });
});

/**
 * Three-way import: prod is backed up (B), B is restored as staging, both are edited, staging is
 * backed up (A, which names B as its base), and A is imported into prod. One app plays both
 * parts in turn: staging is a restore of B edited, A its backup; prod is a restore of B again
 * (so it descends from B) edited in its own way before each import.
 *
 *   staging only: S1 en title; S5 deleted; S7 tags (and a new tag);
 *   prod only:    S4 en title; a new contract;
 *   both:         S2 en title (staging) and en notes (prod): merged field by field;
 *                 S3 en title on each side (a conflict) and en notes (staging): notes merged;
 *                 S6 en title, to the same value on both sides (nothing to do).
 */
describe(`three-way import on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;
  let relations: RelationMap;
  let baseId: string;
  let archiveId: string;
  let base: Documents;
  let theirs: Documents;
  const ids: Record<string, string> = {};

  const read = () => readDocuments(app.strapi, app.publicDir);
  const contracts = () => app.strapi.documents(CONTRACT);
  const edit = (documentId: string, data: Record<string, unknown>) => contracts().update({ documentId, locale: 'en', data: data as never });
  const key = (documentId: string) => keyOf({ uid: CONTRACT, documentId, locale: 'en', published: false });
  const restore = async (id: string) => {
    const job = await runJob(admin, `/pacta-backup/backups/${id}/restore`, { confirm: true });
    if (job.status !== 'succeeded') throw new Error(`restore ${id} failed: ${JSON.stringify(job.error)}`);
  };

  /** Prod: B restored, then prod's own edits. Returns prod's documents. */
  const prod = async () => {
    await restore(baseId);
    await edit(ids.S2, { notes: 'Notes edited in prod' });
    await edit(ids.S3, { title: 'S3 as prod has it' });
    await edit(ids.S4, { title: 'S4 edited in prod only' });
    await edit(ids.S6, { title: 'S6 edited the same way on both sides' });
    await contracts().create({ locale: 'en', data: { title: 'New in prod', number: 'PC-PROD-1' } as never });
    return read();
  };

  beforeAll(async () => {
    app = await startApp();
    admin = await loginAsSuperAdmin(app.strapi);
    await seed(app.strapi, { documents: 16, media: 3, seed: 37 });
    relations = relationsOf(app.strapi);
    base = await read();
    const candidates = [...new Set([...base.values()].filter((v) => v.uid === CONTRACT && base.has(key(v.documentId))).map((v) => v.documentId))];
    ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7'].forEach((name, index) => (ids[name] = candidates[index]));
    const backup = await runJob(admin, '/pacta-backup/backups', { name: 'Prod (B)' });
    baseId = backup.backupId!;

    // Staging.
    await restore(baseId);
    await edit(ids.S1, { title: 'S1 edited in staging only' });
    await edit(ids.S2, { title: 'S2 title edited in staging' });
    await edit(ids.S3, { title: 'S3 as staging has it', notes: 'Notes edited in staging' });
    await edit(ids.S6, { title: 'S6 edited the same way on both sides' });
    await contracts().delete({ documentId: ids.S5, locale: '*' } as never);
    const tag = await app.strapi.documents(TAG).create({ data: { name: 'staging-tag' } as never });
    await edit(ids.S7, { tags: [tag.documentId] });
    theirs = await read();
    const staged = await runJob(admin, '/pacta-backup/backups', { name: 'Staging (A)' });
    archiveId = staged.backupId!;
    const details = await admin.get(`/pacta-backup/backups/${archiveId}`);
    expect(details.body.data.manifest.lineage).toEqual({ instance: expect.any(String), basedOn: baseId });
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('previews three-way against B: one-sided changes merge, only both-sided ones are conflicts', async () => {
    const here = await prod();
    const expected = expectImport(here, theirs, relations, { base, contentTypes: CONTENT_TYPES });
    const { preview } = await previewImport(admin, { source: { backupId: archiveId } });
    expect({ mode: preview.mode, base: preview.base }).toEqual({ mode: 'three-way', base: baseId });
    expect(Object.fromEntries(preview.types.map((t) => [t.uid, t.counts]))).toEqual(expected.counts);
    const documents = await previewDocuments(admin, preview.id);
    expect(statesOf(documents)).toEqual(Object.fromEntries([...expected.states].sort(([a], [b]) => (a < b ? -1 : 1))));
    // The scenario's states, in words.
    expect(expected.states.get(key(ids.S1))).toBe('update');
    expect(expected.states.get(key(ids.S2))).toBe('update');
    expect(expected.states.get(key(ids.S3))).toBe('conflict');
    expect(expected.states.get(key(ids.S4))).toBe('unchanged');
    expect(expected.states.get(key(ids.S5))).toBe('absent');
    expect(expected.states.get(key(ids.S6))).toBe('unchanged');
    expect([...expected.conflicts.keys()]).toEqual([key(ids.S3)]);
    expect(documents.filter((d) => d.state === 'conflict').map((d) => [d.key, d.conflicts])).toEqual([[key(ids.S3), ['title']]]);

    // S2: title changed in the archive, notes here; no conflict.
    const s2 = await admin.get(`/pacta-backup/imports/previews/${preview.id}/documents/${encodeURIComponent(key(ids.S2))}`);
    expect(s2.status).toBe(200);
    const diff = Object.fromEntries((s2.body.data.diff as Array<{ field: string; changed: string; conflict: boolean }>).map((f) => [f.field, [f.changed, f.conflict]]));
    expect(diff).toEqual({ title: ['archive', false], notes: ['here', false] });
  });

  it.each(['keep', 'incoming', 'newer', 'skip'] as ImportPolicy[])('applies with %s exactly what the model merges', async (policy) => {
    const here = await prod();
    const policies = Object.fromEntries(CONTENT_TYPES.map((uid) => [uid, policy]));
    const expected = expectImport(here, theirs, relations, { base, contentTypes: CONTENT_TYPES, policies });
    const { preview } = await previewImport(admin, { source: { backupId: archiveId } });
    expect(preview.mode).toBe('three-way');
    const { job, report } = await applyImport(admin, preview.id, { policies });
    expect(job.error).toBeNull();
    expect(contentOf(await read())).toEqual(contentOf(expected.after));
    // The report lists the conflict and how it was settled (skip too).
    expect(report!.conflicts.map((c) => [c.key, c.policy])).toEqual([[key(ids.S3), policy]]);
  });

  it('refuses the apply with 409 STALE_PREVIEW when a previewed document changed since the preview', async () => {
    const here = await prod();
    const { preview } = await previewImport(admin, { source: { backupId: archiveId } });
    await edit(ids.S3, { title: 'S3 edited again after the preview' });
    const changed = await read();
    const dump = await dumpDatabase(app.strapi);
    const res = await admin.post(`/pacta-backup/imports/previews/${preview.id}/apply`, { confirm: true, policies: { [CONTRACT]: 'incoming' } });
    expect(res.status).toBe(409);
    expect(res.body.error.details.code).toBe('STALE_PREVIEW');
    expect(await dumpDatabase(app.strapi)).toEqual(dump);
    expect(changed.size).toBe(here.size);
    // A new preview sees the change and applies.
    const fresh = await previewImport(admin, { source: { backupId: archiveId } });
    const { job } = await applyImport(admin, fresh.preview.id, { policies: { [CONTRACT]: 'incoming' } });
    expect(job.error).toBeNull();
    expect((await read()).get(key(ids.S3))?.fields.title).toBe('S3 as staging has it');
  });
});
