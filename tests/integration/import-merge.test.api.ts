import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Core } from '@strapi/strapi';

import type { ImportPolicy } from '../../server/src/contracts/imports';
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

/** The preview's documents as the model states them: key → state, and conflicting fields. */
const statesOf = (documents: Array<{ key: string; state: string; conflicts: string[] }>) =>
  Object.fromEntries(documents.map((d) => [d.key, d.state]).sort(([a], [b]) => (a < b ? -1 : 1)));

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
      data: { title: 'New in the archive', number: 'PC-ARCHIVE-1', supplier: supplier.documentId, renewalOf: reborn.documentId, tags: [newTag.documentId] } as never,
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
      expected = expectImport(here, theirs, relations, { match: MATCH, policies: Object.fromEntries(CONTENT_TYPES.map((uid) => [uid, policy])) });
    });

    it('previews what the model expects: two-way, counts, states and conflicting fields', async () => {
      const { preview } = await previewImport(admin, { source: { backupId: archiveId }, match: MATCH });
      previewId = preview.id;
      expect(preview.mode).toBe('two-way');
      expect(preview.base).toBeNull();
      expect(preview.checks.every((check) => check.ok)).toBe(true);
      expect(Object.fromEntries(preview.types.map((t) => [t.uid, t.counts]))).toEqual(expected.counts);
      expect(preview.types.find((t) => t.uid === CONTRACT)?.matchBy).toBe('number');
      expect(preview.dangling).toEqual([]);
      expect(preview.media).toEqual({ reused: expect.any(Number), added: 1 });

      const documents = await previewDocuments(admin, preview.id);
      expect(statesOf(documents)).toEqual(Object.fromEntries([...expected.states].sort(([a], [b]) => (a < b ? -1 : 1))));
      for (const [key, fields] of expected.conflicts) {
        expect({ key, conflicts: [...documents.find((d) => d.key === key)!.conflicts].sort() }).toEqual({ key, conflicts: fields });
      }
      // The document matched by number is shown under this app's documentId, with the archive's.
      const matched = documents.find((d) => d.documentId === ids.N2 || d.hereDocumentId === ids.N);
      expect(matched).toMatchObject({ hereDocumentId: ids.N, state: 'conflict' });
    });

    it('applies exactly the expected documents, leaves the other rows as they were, and adds only the new file', async () => {
      const { job, report } = await applyImport(admin, previewId, { policies: Object.fromEntries(CONTENT_TYPES.map((uid) => [uid, policy])) });
      expect(job.error).toBeNull();
      expect(report!.mode).toBe('two-way');
      expect(report!.remapped).toBeGreaterThan(0);

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
      for (const type of preview.types) expect({ uid: type.uid, create: type.counts.create }).toEqual({ uid: type.uid, create: 0 });
      const { job } = await applyImport(admin, preview.id, { policies: Object.fromEntries(CONTENT_TYPES.map((uid) => [uid, policy])) });
      expect(job.error).toBeNull();
      expect(await dumpDatabase(app.strapi)).toEqual(afterDump);
      expect(contentOf(await read())).toEqual(contentOf(expected.after));
    });
  });
});
