import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Backup } from '../../server/src/contracts/backups';
import type { ImportReport } from '../../server/src/contracts/imports';
import { databaseClient, startApp, type TestApp } from '../helpers/app';
import { CLI, runCli } from '../helpers/cli';
import { dumpDatabase, hashUploads } from '../helpers/dump';
import { CONTENT_TYPES, contentOf, expectImport, readDocuments, relationsOf, type Documents } from '../helpers/import-model';

/* eslint-disable @typescript-eslint/no-require-imports */
const { seed } = require('../app/scripts/seed/index');
const { makePdf } = require('../app/scripts/seed/media') as { makePdf: (text: string) => Buffer };
/* eslint-enable @typescript-eslint/no-require-imports */

type State = { rows: Awaited<ReturnType<typeof dumpDatabase>>; uploads: Record<string, string> };

const CONTRACT = 'api::contract.contract';

/**
 * `kill -9` in the middle of an import's apply: with its rows written in the transaction
 * (import:rows), and with its new media files half placed (import:swap). The import runs in the
 * CLI, a process of its own that kills itself with SIGKILL at the point named by
 * PACTA_BACKUP_TEST_CRASH_AT; the next start (another CLI run) recovers. Afterwards the database
 * and the uploads folder are exactly as before the import, and the next import runs and gives
 * what the model expects.
 */
describe(`kill -9 during an import on ${databaseClient}`, () => {
  let app: TestApp;
  let archive: Backup;
  let before: State;
  let theirs: Documents;

  const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: { ...process.env, ...env } });

  const json = async <T,>(args: string[]): Promise<T> => {
    const result = await run([...args, '--json']);
    if (result.code !== 0) throw new Error(`pacta-backup ${args.join(' ')} exited with ${result.code}:\n${result.stderr}\n${result.stdout}`);
    return JSON.parse(result.stdout) as T;
  };

  const state = async (): Promise<State> => ({ rows: await dumpDatabase(app.strapi), uploads: hashUploads(app.publicDir) });

  /** Uploads a file through Strapi's upload service; returns its row id. */
  const upload = async (name: string, bytes: Buffer) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-import-crash-'));
    try {
      const filepath = path.join(dir, name);
      fs.writeFileSync(filepath, bytes);
      const [row] = await app.strapi
        .plugin('upload')
        .service('upload')
        .upload({ data: { fileInfo: { name } }, files: { filepath, originalFilename: name, mimetype: 'application/pdf', size: bytes.length } });
      return (row as { id: number }).id;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  beforeAll(async () => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build it with npm run build`);
    app = await startApp();
    await seed(app.strapi, { documents: 10, media: 3, seed: 43 });
    const start = await json<Backup>(['backup', '--name', 'Start']);

    // The archive's side: new documents, an edited one, two new files (rows and files to write).
    const contracts = app.strapi.documents(CONTRACT);
    const [first, second] = await contracts.findMany({ locale: 'en', limit: 2 } as never);
    await contracts.update({ documentId: first.documentId, locale: 'en', data: { title: 'Edited in the archive', document: await upload('archive-one.pdf', makePdf('one')) } as never });
    await contracts.update({ documentId: second.documentId, locale: 'en', data: { attachments: [await upload('archive-two.pdf', makePdf('two'))] } as never });
    await app.strapi.documents('api::tag.tag').create({ data: { name: 'archive-tag' } as never });
    await contracts.create({ locale: 'en', data: { title: 'New in the archive', number: 'PC-ARCHIVE-9' } as never });
    theirs = await readDocuments(app.strapi, app.publicDir);
    archive = await json<Backup>(['backup', '--name', 'The archive']);

    // This app: back to the start, then its own changes.
    await json(['restore', start.id, '--yes']);
    await app.strapi.documents('api::tag.tag').create({ data: { name: 'here-tag' } as never });
    // No common base stored: a two-way import.
    await app.strapi.plugin('pacta-backup').service('backups').remove(start.id);
    before = await state();
  });

  afterAll(async () => {
    await app?.stop();
  });

  it.each(['import:rows', 'import:swap'])('killed at %s: database and uploads are as before the import', async (point) => {
    const crashed = await run(['import', archive.id, '--policy', 'incoming', '--yes', '--json'], { PACTA_BACKUP_TEST_CRASH_AT: point });
    expect({ code: crashed.code, signal: crashed.signal, stderr: crashed.signal ? '' : crashed.stderr }).toEqual({ code: null, signal: 'SIGKILL', stderr: '' });

    // The next start recovers.
    await json<Backup[]>(['list']);
    expect(await state()).toEqual(before);
    // No work folder left beside the uploads.
    expect(fs.readdirSync(app.publicDir)).toEqual(['uploads']);
  });

  it('runs the next import at once after a crash; killed after its commit, the next start finishes it: rows and files as the model expects', async () => {
    const crashed = await run(['import', archive.id, '--policy', 'incoming', '--yes'], { PACTA_BACKUP_TEST_CRASH_AT: 'import:rows' });
    expect(crashed.signal).toBe('SIGKILL');
    const here = await readDocuments(app.strapi, app.publicDir);
    const expected = expectImport(here, theirs, relationsOf(app.strapi), { contentTypes: CONTENT_TYPES, policies: Object.fromEntries(CONTENT_TYPES.map((uid) => [uid, 'incoming'])) });

    // Killed after the commit, the journal and its folders still there.
    const committed = await run(['import', archive.id, '--policy', 'incoming', '--yes', '--json'], { PACTA_BACKUP_TEST_CRASH_AT: 'import:committed' });
    expect({ code: committed.code, signal: committed.signal }).toEqual({ code: null, signal: 'SIGKILL' });
    await json<Backup[]>(['list']);
    expect(contentOf(await readDocuments(app.strapi, app.publicDir))).toEqual(contentOf(expected.after));
    const imported = await state();
    expect(Object.keys(imported.uploads).length).toBe(Object.keys(before.uploads).length + 2);
    expect(fs.readdirSync(app.publicDir)).toEqual(['uploads']);

    // Done: importing it again changes nothing.
    const { report } = await json<{ report: ImportReport }>(['import', archive.id, '--policy', 'incoming', '--yes']);
    expect(report.types.reduce((sum, t) => sum + t.created + t.updated, 0)).toBe(0);
    expect(await state()).toEqual(imported);
  });
});
