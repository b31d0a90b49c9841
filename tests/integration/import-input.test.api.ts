import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import request from 'supertest';

import type { Job } from '../../server/src/contracts/backups';
import type { ImportUpload, PreviewJobResult, ValidationCheck } from '../../server/src/contracts/imports';
import adminRoutes from '../../server/src/routes/admin';
import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, describeOn, itOn, startApp, type TestApp } from '../helpers/app';
import { runCli } from '../helpers/cli';
import { dumpDatabase, hashUploads } from '../helpers/dump';
import { runJob, waitForJob } from '../helpers/jobs';
import { createRestrictedAdmin } from '../helpers/roles';
import { deflateBomb, readZip, zipBytes, type RawEntry } from '../helpers/zip';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

const KEY = 'correct horse battery staple';
const MiB = 1024 * 1024;
/** The cap the tests set (config import.maxUploadBytes), small enough to pass quickly. */
const LIMIT = 4 * MiB;
const UPLOAD_ID = /^[0-9a-f]{32}$/;

type Method = 'get' | 'post' | 'delete';

/**
 * What an import cannot be fed: uploads past the cap (refused while they stream), uploads cut
 * off, and archives that are no archive of ours or that lie (zip-slip, symbolic link, zip bomb,
 * a flipped byte, a wrong passphrase, another format). Each is refused with a clear error, and
 * the database, the uploads folder and the staging folder are as before. What is refused never
 * reaches the database, so those parts run on SQLite only; the imports that apply (the CLI's into
 * the app itself, the JSON export edited and imported back) run on every engine.
 */
describe(`import input: uploads and untrusted archives, on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;
  let plainId: string;
  let encryptedId: string;

  const staging = () => path.join(app.backupsDir, '.imports', 'uploads');
  const staged = () => (fs.existsSync(staging()) ? fs.readdirSync(staging()).sort() : []);
  const archivePath = (id: string) => path.join(app.backupsDir, `${id}.pacta.zip`);
  const port = () => (app.strapi.server.httpServer.address() as AddressInfo).port;

  /** POST /imports/uploads as the admin panel sends it (multipart, field `file`). */
  const upload = (data: Buffer, name = 'archive.pacta.zip', agent: Agent = admin, field = 'file') =>
    request(app.strapi.server.httpServer)
      .post('/pacta-backup/imports/uploads')
      .set('Authorization', `Bearer ${agent.token}`)
      .attach(field, data, name);

  const uploadOk = async (data: Buffer, name?: string): Promise<ImportUpload> => {
    const res = await upload(data, name);
    expect([res.status, res.body.error]).toEqual([201, undefined]);
    return res.body.data;
  };

  /**
   * A multipart upload over a bare connection, chunked (no Content-Length: the cap can only be
   * enforced as bytes arrive), `total` bytes of file in 64 KiB chunks. Stops writing as soon as
   * an answer comes, or after `abortAfter` bytes by destroying the connection.
   */
  const streamUpload = (total: number, { abortAfter, onStarted }: { abortAfter?: number; onStarted?: () => Promise<void> } = {}) =>
    new Promise<{ status: number | null; body: { error?: { message: string; name: string } } | null; sent: number }>((resolve, reject) => {
      const boundary = `----pacta${randomBytes(8).toString('hex')}`;
      const req = http.request({
        host: '127.0.0.1',
        port: port(),
        method: 'POST',
        path: '/pacta-backup/imports/uploads',
        headers: {
          Authorization: `Bearer ${admin.token}`,
          'Content-Type': `multipart/form-data; boundary=${boundary}`,
          'Transfer-Encoding': 'chunked',
        },
      });
      let sent = 0;
      let answered: { status: number; body: { error?: { message: string; name: string } } | null } | null = null;
      let done = false;
      const finish = (value: { status: number | null; body: { error?: { message: string; name: string } } | null }) => {
        if (done) return;
        done = true;
        resolve({ ...value, sent });
      };
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body = null;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            // not JSON
          }
          answered = { status: res.statusCode ?? 0, body };
          finish(answered);
        });
      });
      req.on('error', (error) => {
        // The server may close the connection after answering: the answer is what counts.
        if (answered) finish(answered);
        else if (abortAfter !== undefined) finish({ status: null, body: null });
        else reject(error);
      });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const write = (buffer: Buffer) => new Promise<void>((ok) => (req.write(buffer) ? ok() : req.once('drain', () => ok())));
      (async () => {
        await write(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pacta.zip"\r\nContent-Type: application/zip\r\n\r\n`));
        let started = false;
        while (sent < total && !answered && !done) {
          await write(chunk);
          sent += chunk.length;
          if (abortAfter !== undefined && sent >= abortAfter) {
            if (onStarted && !started) {
              started = true;
              await onStarted();
            }
            req.destroy();
            finish({ status: null, body: null });
            return;
          }
        }
        if (!answered && !done) req.end(`\r\n--${boundary}--\r\n`);
      })().catch((error) => {
        if (!done) reject(error);
      });
    });

  /** Waits until `check` holds (polling), or fails with what it last saw. */
  const eventually = async (check: () => boolean, what: string, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const state = async () => ({ database: await dumpDatabase(app.strapi), uploads: hashUploads(app.publicDir) });

  /** Uploads `data`, runs a preview of it and returns the finished job. */
  const previewOf = async (data: Buffer, body: Record<string, unknown> = {}): Promise<Job & { result: PreviewJobResult | null }> => {
    const { uploadId } = await uploadOk(data);
    const res = await admin.post('/pacta-backup/imports/preview', { source: { uploadId }, ...body });
    expect([res.status, res.body.error]).toEqual([202, undefined]);
    expect(res.body.data.type).toBe('import-preview');
    return (await waitForJob(admin, res.body.data.id)) as Job & { result: PreviewJobResult | null };
  };

  /** The preview failed, and its checks say which one and why, the others before it passing. */
  const expectFailedCheck = (job: Job & { result: PreviewJobResult | null }, id: ValidationCheck['id'], message: RegExp) => {
    expect(job.status).toBe('failed');
    const checks = job.result?.checks ?? [];
    const failed = checks.filter((c) => !c.ok);
    expect(failed.map((c) => c.id)).toEqual([id]);
    expect(failed[0].message).toMatch(message);
    expect(job.error?.message).toEqual(expect.any(String));
  };

  beforeAll(async () => {
    app = await startApp();
    await seed(app.strapi, { documents: 6, media: 2, seed: 31 });
    admin = await loginAsSuperAdmin(app.strapi);
    app.strapi.config.set('plugin::pacta-backup.import.maxUploadBytes', LIMIT);
    plainId = (await runJob(admin, '/pacta-backup/backups', { encrypt: false, compression: 'none' })).backupId!;
    process.env.PACTA_BACKUP_KEY = KEY;
    encryptedId = (await runJob(admin, '/pacta-backup/backups', { encrypt: true })).backupId!;
  });

  afterAll(async () => {
    delete process.env.PACTA_BACKUP_KEY;
    await app?.stop();
  });

  describeOn('sqlite')('uploads', () => {
    it('streams an upload to its own staging folder (0700) and answers 201 with a random id', async () => {
      const data = fs.readFileSync(archivePath(plainId));
      const res = await upload(data, '../../etc/passwd\u0007 staging.pacta.zip');
      expect(res.status).toBe(201);
      const body = res.body.data as ImportUpload;
      expect(body).toEqual({ uploadId: expect.stringMatching(UPLOAD_ID), name: 'passwd staging.pacta.zip', size: data.length, createdAt: expect.any(String) });
      const folder = path.join(staging(), body.uploadId);
      expect(fs.statSync(folder).mode & 0o777).toBe(0o700);
      expect(fs.statSync(staging()).mode & 0o777).toBe(0o700);
      const files = fs.readdirSync(folder).sort();
      expect(files).toEqual(['upload', 'upload.json']);
      expect(fs.readFileSync(path.join(folder, 'upload')).equals(data)).toBe(true);

      expect((await admin.delete(`/pacta-backup/imports/uploads/${body.uploadId}`)).status).toBe(200);
      expect(fs.existsSync(folder)).toBe(false);
      const again = await admin.delete(`/pacta-backup/imports/uploads/${body.uploadId}`);
      expect([again.status, again.body.error?.name]).toEqual([404, 'NotFoundError']);
    });

    it('never takes an upload id for a path', async () => {
      fs.mkdirSync(path.join(app.backupsDir, 'victim'), { recursive: true });
      for (const id of ['..', '..%2F..%2Fvictim', '%2E%2E', 'ABCDEF0123456789ABCDEF0123456789', 'victim']) {
        const res = await admin.delete(`/pacta-backup/imports/uploads/${id}`);
        expect({ id, status: res.status }).toEqual({ id, status: 404 });
      }
      expect(fs.existsSync(path.join(app.backupsDir, 'victim'))).toBe(true);
      fs.rmSync(path.join(app.backupsDir, 'victim'), { recursive: true });
    });

    it('refuses an upload that is not multipart, has no file, has the file in another field, or is empty', async () => {
      const before = staged();
      const json = await admin.post('/pacta-backup/imports/uploads', { file: 'x' });
      expect([json.status, json.body.error?.message]).toEqual([400, 'Send the archive as multipart/form-data, in the field "file"']);
      const other = await upload(Buffer.from('PK'), 'a.zip', admin, 'archive');
      expect([other.status, other.body.error?.message]).toEqual([400, 'Unexpected file field "archive": send the archive in the field "file"']);
      const noFile = await request(app.strapi.server.httpServer)
        .post('/pacta-backup/imports/uploads')
        .set('Authorization', `Bearer ${admin.token}`)
        .field('name', 'x');
      expect([noFile.status, noFile.body.error?.message]).toEqual([400, 'No file in the upload: send the archive in the field "file"']);
      const empty = await upload(Buffer.alloc(0), 'empty.zip');
      expect([empty.status, empty.body.error?.message]).toEqual([400, 'The uploaded file is empty']);
      expect(staged()).toEqual(before);
    });

    it('refuses an upload whose Content-Length is over the cap before reading it (413)', async () => {
      const before = staged();
      const res = await upload(Buffer.alloc(LIMIT + 128 * 1024, 1), 'big.pacta.zip');
      expect(res.status).toBe(413);
      expect(res.body.error).toMatchObject({
        name: 'PayloadTooLargeError',
        message: `The file is larger than the import upload limit of ${LIMIT} bytes (4 MiB): nothing was kept. The limit is the plugin setting import.maxUploadBytes.`,
      });
      expect(staged()).toEqual(before);
    });

    it('stops a chunked upload at the cap while it streams: 413 before the client is done, nothing kept', async () => {
      const before = staged();
      const total = 64 * MiB;
      const result = await streamUpload(total);
      expect(result.status).toBe(413);
      expect(result.body?.error?.name).toBe('PayloadTooLargeError');
      // Answered while the client was still sending: far fewer bytes went out than it had.
      expect(result.sent).toBeLessThan(total / 2);
      expect(result.sent).toBeGreaterThan(LIMIT);
      await eventually(() => staged().length === before.length, 'the partial upload to be deleted');
      expect(staged()).toEqual(before);
    });

    it('accepts an upload of exactly the cap', async () => {
      const { uploadId, size } = await uploadOk(Buffer.alloc(LIMIT, 7), 'exact.bin');
      expect(size).toBe(LIMIT);
      await admin.delete(`/pacta-backup/imports/uploads/${uploadId}`);
    });

    it('leaves nothing behind when the client breaks off an upload', async () => {
      const before = staged();
      let during: string[] = [];
      await streamUpload(3 * MiB, {
        abortAfter: MiB,
        onStarted: async () => {
          // The upload is under way: its folder exists and holds part of the file.
          await eventually(() => staged().length > before.length, 'the upload to start');
          during = staged().filter((id) => !before.includes(id));
        },
      });
      expect(during).toHaveLength(1);
      await eventually(() => !fs.existsSync(path.join(staging(), during[0])), 'the interrupted upload to be deleted');
      expect(staged()).toEqual(before);
    });

    it('receives nothing from a role without the import action: 403 before a byte is stored', async () => {
      const others = ['read', 'download', 'create', 'restore', 'delete', 'settings'].map((uid) => ({ action: `plugin::pacta-backup.${uid}` }));
      const agent = await createRestrictedAdmin(app.strapi, { name: 'All but import', permissions: others });
      const before = staged();
      const res = await upload(Buffer.alloc(MiB, 3), 'x.pacta.zip', agent);
      expect(res.status).toBe(403);
      expect(staged()).toEqual(before);
    });
  });

  describeOn('sqlite')('a role without the import action', () => {
    it('gets 403 on every import route', async () => {
      const others = ['read', 'download', 'create', 'restore', 'delete', 'settings'].map((uid) => ({ action: `plugin::pacta-backup.${uid}` }));
      const agent = await createRestrictedAdmin(app.strapi, { name: 'No import', permissions: others });
      const importRoutes = adminRoutes.routes.filter((r) => r.path.startsWith('/imports'));
      expect(importRoutes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
        [
          'POST /imports/uploads',
          'DELETE /imports/uploads/:id',
          'POST /imports/preview',
          'GET /imports/previews',
          'GET /imports/previews/:id',
          'GET /imports/previews/:id/documents',
          'GET /imports/previews/:id/documents/:key',
          'POST /imports/previews/:id/apply',
          'GET /imports/previews/:id/log',
        ].sort()
      );
      const key = encodeURIComponent('api::contract.contract|abc|en|draft');
      for (const route of importRoutes) {
        const url = `/pacta-backup${route.path.replace(':id', 'f'.repeat(32)).replace(':key', key)}`;
        const method = route.method.toLowerCase() as Method;
        const res = method === 'get' ? await agent.get(url) : method === 'delete' ? await agent.delete(url) : await agent.post(url, { confirm: true });
        expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({ route: `${route.method} ${route.path}`, status: 403 });
      }
    });
  });

  describeOn('sqlite')('previews of archives that must not be imported', () => {
    let before: Awaited<ReturnType<typeof state>>;
    let entries: RawEntry[];

    beforeAll(async () => {
      before = await state();
      entries = (await readZip(archivePath(plainId))).map((e) => ({ name: e.name, data: e.data }));
    });

    afterEach(async () => {
      // Nothing an untrusted archive does reaches the database or the uploads folder.
      expect(await state()).toEqual(before);
    });

    it('previews the intact archive (the baseline the others break)', async () => {
      const job = await previewOf(zipBytes(entries));
      expect(job.status).toBe('succeeded');
      expect(job.result?.checks.every((c) => c.ok)).toBe(true);
    });

    it('refuses a zip-slip entry (../)', async () => {
      const job = await previewOf(zipBytes([...entries, { name: '../../evil.js', data: Buffer.from('owned') }]));
      expectFailedCheck(job, 'structure', /\.\.\/\.\.\/evil\.js/);
      expect(fs.existsSync(path.join(app.backupsDir, '..', 'evil.js'))).toBe(false);
    });

    it('refuses a symbolic link entry', async () => {
      const job = await previewOf(zipBytes([...entries, { name: 'media/link', data: Buffer.from('/etc/passwd'), mode: 0o120777 }]));
      expectFailedCheck(job, 'structure', /link/i);
    });

    it('refuses a zip bomb without inflating it', async () => {
      const victim = entries.find((e) => e.name.endsWith('.ndjson'))!;
      const rss = process.memoryUsage().rss;
      const job = await previewOf(
        zipBytes(entries.map((e) => (e === victim ? { name: e.name, data: Buffer.alloc(0), deflated: deflateBomb(1024 * MiB), declaredSize: victim.data.length } : e)))
      );
      expectFailedCheck(job, 'structure', /ratio|larger|size|bomb/i);
      expect(process.memoryUsage().rss - rss).toBeLessThan(256 * MiB);
    });

    it('refuses an archive with a flipped byte (every entry has a SHA-256)', async () => {
      const victim = entries.find((e) => e.name.endsWith('.ndjson') && e.data.length > 10)!;
      const flipped = Buffer.from(victim.data);
      flipped[Math.floor(flipped.length / 2)] ^= 0x01;
      const job = await previewOf(zipBytes(entries.map((e) => (e === victim ? { name: e.name, data: flipped } : e))));
      expectFailedCheck(job, 'checksums', new RegExp(victim.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    });

    it('previews an encrypted archive with its passphrase, never echoing it', async () => {
      const job = await previewOf(fs.readFileSync(archivePath(encryptedId)), { passphrase: KEY });
      expect(job.status).toBe('succeeded');
      expect(job.result?.checks.find((c) => c.id === 'key')).toMatchObject({ ok: true });
      expect(JSON.stringify(job)).not.toContain(KEY);
    });

    it('refuses an encrypted archive with a wrong passphrase, and never echoes it', async () => {
      const job = await previewOf(fs.readFileSync(archivePath(encryptedId)), { passphrase: 'not the passphrase' });
      expectFailedCheck(job, 'key', /passphrase|key/i);
      expect(JSON.stringify(job)).not.toContain('not the passphrase');
    });

    it('refuses an archive of another format: a plain zip, a PDF', async () => {
      const plainZip = await previewOf(zipBytes([{ name: 'hello.txt', data: Buffer.from('hello') }]));
      expectFailedCheck(plainZip, 'manifest', /manifest/i);
      const pdf = await previewOf(Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'));
      expectFailedCheck(pdf, 'structure', /zip|archive|format/i);
    });
  });

  describeOn('sqlite')('the export of a backup (GET /backups/:id/export)', () => {
    const download = (url: string) =>
      admin
        .get(url)
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        });

    it('streams the documents as JSON by default: the import document model, an attachment', async () => {
      const res = await download(`/pacta-backup/backups/${plainId}/export`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="${plainId}-documents.json"; filename*=UTF-8''${plainId}-documents.json`);
      const exported = JSON.parse((res.body as Buffer).toString('utf8'));
      expect(exported).toMatchObject({ format: 'pacta-backup-documents', formatVersion: 1, backup: { id: plainId } });
      const contracts = (exported.documents as Array<{ uid: string; documentId: string }>).filter((d) => d.uid === 'api::contract.contract');
      expect(contracts.length).toBeGreaterThan(0);
      const here = await app.strapi.db.connection('contracts').countDistinct('document_id as n');
      expect(new Set(contracts.map((d) => d.documentId)).size).toBe(Number(here[0].n));
    });

    it('writes one content type as text/csv and several as a zip of CSVs', async () => {
      const one = await download(`/pacta-backup/backups/${plainId}/export?format=csv&contentTypes=api::contract.contract`);
      expect([one.status, one.headers['content-type']]).toEqual([200, 'text/csv; charset=utf-8']);
      expect(one.headers['content-disposition']).toMatch(new RegExp(`^attachment; filename="${plainId}-contract\\.csv"`));
      expect((one.body as Buffer).toString('utf8').replace(/^\uFEFF/, '').split('\r\n')[0]).toMatch(/^documentId,locale,version,createdAt,updatedAt,publishedAt,/);
      const several = await download(`/pacta-backup/backups/${plainId}/export?format=csv&contentTypes=api::contract.contract,api::tag.tag`);
      expect([several.status, several.headers['content-type']]).toEqual([200, 'application/zip']);
      const file = path.join(os.tmpdir(), `pacta-export-${process.pid}.zip`);
      fs.writeFileSync(file, several.body as Buffer);
      try {
        expect((await readZip(file)).map((e) => e.name).sort()).toEqual(['contract.csv', 'tag.csv']);
      } finally {
        fs.rmSync(file, { force: true });
      }
    });

    it('refuses a bad format, an unknown content type and a missing backup before sending a byte', async () => {
      const format = await admin.get(`/pacta-backup/backups/${plainId}/export?format=xml`);
      expect([format.status, format.body.error?.message]).toEqual([400, 'format: must be json or csv']);
      const unknown = await admin.get(`/pacta-backup/backups/${plainId}/export?contentTypes=api::ghost.ghost`);
      expect(unknown.status).toBe(400);
      expect(unknown.body.error?.message).toMatch(/api::ghost\.ghost/);
      const missing = await admin.get('/pacta-backup/backups/20990101-000000-none00/export');
      expect(missing.status).toBe(404);
    });
  });

  describe('the CLI', () => {
    let before: Awaited<ReturnType<typeof state>>;
    let tmp: string;
    const cli = (...args: string[]) => runCli(args, { env: { ...process.env } });

    beforeAll(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-import-cli-'));
      // A Strapi boot outside jest rewrites the content manager's stored layouts of components
      // (its own sync, nothing of this plugin): one boot first, then the state every CLI run keeps.
      expect((await cli('list', '--json')).code).toBe(0);
      before = await state();
    });

    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    itOn('sqlite')('prints the failing check of a zip-slip archive and exits 1, nothing written', async () => {
      const entries = (await readZip(archivePath(plainId))).map((e) => ({ name: e.name, data: e.data }));
      const file = path.join(tmp, 'slip.pacta.zip');
      fs.writeFileSync(file, zipBytes([...entries, { name: '../evil.js', data: Buffer.from('x') }]));
      const run = await cli('import', file, '--preview', '--json');
      expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
      expect(run.stderr).toMatch(/FAIL {2}structure {5}.*\.\.\/evil\.js/);
      expect(run.stderr).toMatch(/pacta-backup: The import-preview failed: /);
      expect(await state()).toEqual(before);
    });

    itOn('sqlite')('previews a file: checks, mode and the per-type table; nothing written', async () => {
      const run = await cli('import', archivePath(plainId), '--preview');
      // Its own backup, unchanged since: nothing to decide.
      expect([run.code, run.stderr]).toEqual([0, expect.any(String)]);
      expect(run.stdout).toMatch(/^Preview \S+ of /);
      expect(run.stdout).toMatch(/ok {4}checksums/);
      expect(run.stdout).toMatch(/Mode: (three|two)-way \(/);
      expect(run.stdout).toMatch(/content type\s+create\s+update\s+unchanged\s+conflict\s+absent/);
      expect(run.stdout).toMatch(/api::contract\.contract\s+\d+/);
      expect(await state()).toEqual(before);
    });

    itOn('sqlite')('refuses to import off a terminal without --yes, and a passphrase variable that is not set', async () => {
      const noYes = await cli('import', archivePath(plainId));
      expect(noYes.code).toBe(2);
      expect(noYes.stderr).toMatch(/not a terminal to confirm it on: pass --yes/);
      const noVar = await cli('import', archivePath(plainId), '--preview', '--passphrase-env', 'PACTA_TEST_NO_SUCH_VARIABLE');
      expect(noVar.code).toBe(2);
      expect(noVar.stderr).toMatch(/--passphrase-env PACTA_TEST_NO_SUCH_VARIABLE: that environment variable is not set/);
      expect(await state()).toEqual(before);
    });

    itOn('sqlite')('exports the latest backup as CSV to a file, and never overwrites one', async () => {
      const out = path.join(tmp, 'contracts.csv');
      const run = await cli('export', 'latest', '--format', 'csv', '--content-types', 'api::contract.contract', '--out', out, '--json');
      expect([run.code, run.stderr]).toEqual([0, expect.any(String)]);
      const result = JSON.parse(run.stdout);
      expect(result).toMatchObject({ backupId: encryptedId, format: 'csv', contentTypes: ['api::contract.contract'], file: out, documents: expect.any(Number) });
      expect(fs.statSync(out).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(out, 'utf8').replace(/^\uFEFF/, '')).toMatch(/^documentId,locale,version,/);
      const again = await cli('export', 'latest', '--format', 'csv', '--out', out);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/exists: not overwritten/);
      expect(fs.readdirSync(tmp).filter((n) => n.includes('.partial-'))).toEqual([]);
    });

    it('imports a backup of this app into itself with --yes: nothing changes, a report and the undo command', async () => {
      const run = await cli('import', plainId, '--yes', '--policy', 'incoming');
      expect([run.code, run.stderr]).toEqual([0, expect.any(String)]);
      expect(run.stdout).toMatch(/Import done \((three|two)-way\)/);
      const undo = run.stdout.match(/pacta-backup restore (\d{8}-\d{6}-[0-9a-f]+) --app /);
      expect(undo).not.toBeNull();
      const backups = (await admin.get('/pacta-backup/backups')).body.data as Array<{ id: string; kind: string }>;
      expect(backups.find((b) => b.id === undo![1])?.kind).toBe('safety');
      // The content is what it was: the import of an unchanged backup of itself writes nothing.
      expect(await state()).toEqual(before);
    });
  });

  describe('a JSON export edited and imported back through the API', () => {
    type Exported = { documents: Array<{ uid: string; documentId: string; locale: string | null; published: boolean; fields: Record<string, unknown> }> };
    let exported: Exported;
    let target: Exported['documents'][number];
    let uploadId: string;

    const previewJob = async () => {
      const res = await admin.post('/pacta-backup/imports/preview', { source: { uploadId } });
      expect([res.status, res.body.error]).toEqual([202, undefined]);
      const job = (await waitForJob(admin, res.body.data.id)) as Job & { result: PreviewJobResult | null };
      expect([job.status, job.error]).toEqual(['succeeded', null]);
      return job.result!.previewId;
    };
    const title = async () =>
      (await app.strapi.db.connection('contracts').where({ document_id: target.documentId, locale: target.locale }).whereNull('published_at').first('title')).title;

    beforeAll(async () => {
      const res = await admin
        .get(`/pacta-backup/backups/${plainId}/export?contentTypes=api::contract.contract`)
        .buffer(true)
        .parse((r, done) => {
          const chunks: Buffer[] = [];
          r.on('data', (chunk: Buffer) => chunks.push(chunk));
          r.on('end', () => done(null, Buffer.concat(chunks)));
        });
      expect(res.status).toBe(200);
      exported = JSON.parse((res.body as Buffer).toString('utf8'));
      target = exported.documents.find((d) => d.uid === 'api::contract.contract' && !d.published)!;
      target.fields.title = 'Changed in the archive';
      ({ uploadId } = await uploadOk(Buffer.from(JSON.stringify(exported)), 'contracts.json'));
    });

    it('exits 4 from a CLI preview that finds the conflict', async () => {
      const file = path.join(os.tmpdir(), `pacta-edited-${process.pid}.json`);
      fs.writeFileSync(file, JSON.stringify(exported));
      try {
        const run = await runCli(['import', file, '--preview'], { env: { ...process.env } });
        expect([run.code, run.stderr]).toEqual([4, expect.any(String)]);
        expect(run.stdout).toMatch(/Mode: two-way/);
        expect(run.stdout).toContain('1 document versions are in conflict: an import settles them by the policy keep');
      } finally {
        fs.rmSync(file, { force: true });
      }
    });

    it('previews it: the edited draft is a conflict, listed and diffed through the document routes', async () => {
      const previewId = await previewJob();
      const preview = (await admin.get(`/pacta-backup/imports/previews/${previewId}`)).body.data;
      expect(preview).toMatchObject({ id: previewId, mode: 'two-way', source: { uploadId } });
      expect(preview.types.find((t: { uid: string }) => t.uid === 'api::contract.contract').counts.conflict).toBe(1);
      expect((await admin.get('/pacta-backup/imports/previews')).body.data.map((p: { id: string }) => p.id)).toContain(previewId);

      const page = await admin.get(`/pacta-backup/imports/previews/${previewId}/documents?uid=api::contract.contract&state=conflict&page=1&pageSize=10`);
      expect(page.status).toBe(200);
      expect(page.body.data.results).toHaveLength(1);
      const key = page.body.data.results[0].key as string;
      expect(key).toBe(`api::contract.contract|${target.documentId}|${target.locale ?? ''}|draft`);
      const diff = await admin.get(`/pacta-backup/imports/previews/${previewId}/documents/${encodeURIComponent(key)}`);
      expect(diff.status).toBe(200);
      expect(diff.body.data.diff.map((f: { field: string }) => f.field)).toEqual(['title']);

      const badQuery = await admin.get(`/pacta-backup/imports/previews/${previewId}/documents?state=maybe&pageSize=100000`);
      expect(badQuery.status).toBe(400);
      expect(badQuery.body.error.details.errors.map((e: { path: string[] }) => e.path.join('.')).sort()).toEqual(['pageSize', 'state']);
      const badKey = await admin.get(`/pacta-backup/imports/previews/${previewId}/documents/${encodeURIComponent('../../etc/passwd')}`);
      expect(badKey.status).toBe(400);
    });

    it('refuses the apply with 409 STALE_PREVIEW when the document changed here since the preview', async () => {
      const previewId = await previewJob();
      await app.strapi.db.connection('contracts').where({ document_id: target.documentId, locale: target.locale }).whereNull('published_at').update({ title: 'Changed here' });
      const res = await admin.post(`/pacta-backup/imports/previews/${previewId}/apply`, { policies: { 'api::contract.contract': 'incoming' }, confirm: true });
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ status: 409, name: 'ConflictError', details: { code: 'STALE_PREVIEW' } });
      expect(res.body.error.message).toMatch(/changed since the preview/);
      expect(await title()).toBe('Changed here');
    });

    it('applies a fresh preview with the incoming policy, reports it, and serves its log as JSON lines', async () => {
      const previewId = await previewJob();
      const res = await admin.post(`/pacta-backup/imports/previews/${previewId}/apply`, { policies: { 'api::contract.contract': 'incoming' }, confirm: true });
      expect([res.status, res.body.data?.type]).toEqual([202, 'import']);
      const job = await waitForJob(admin, res.body.data.id);
      expect([job.status, job.error]).toEqual(['succeeded', null]);
      const report = job.result as unknown as { safetyBackupId: string; conflicts: Array<{ key: string; policy: string }>; types: Array<{ uid: string; updated: number }> };
      expect(report.conflicts).toEqual([expect.objectContaining({ key: `api::contract.contract|${target.documentId}|${target.locale ?? ''}|draft`, policy: 'incoming' })]);
      expect(report.safetyBackupId).toMatch(/^\d{8}-\d{6}-/);
      expect(await title()).toBe('Changed in the archive');

      const log = await admin.get(`/pacta-backup/imports/previews/${previewId}/log`).buffer(true);
      expect(log.status).toBe(200);
      expect(log.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
      expect(log.headers['content-disposition']).toMatch(/^attachment; filename="[^"]+"/);
      const lines = log.text.trim().split('\n');
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();

      const again = await admin.post(`/pacta-backup/imports/previews/${previewId}/apply`, { confirm: true });
      expect(again.status).toBe(400);
    });
  });

  itOn('sqlite')('keeps the passphrase out of validation errors', async () => {
    const res = await admin.post('/pacta-backup/imports/preview', { source: { uploadId: 'nope' }, passphrase: 12345678901 });
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('12345678901');
    expect(res.body.error.details.errors.map((e: { path: string[] }) => e.path.join('.')).sort()).toEqual(['passphrase', 'source.uploadId']);
  });

  itOn('sqlite')('validates an apply body before anything else, naming each bad field', async () => {
    const res = await admin.post(`/pacta-backup/imports/previews/${'f'.repeat(32)}/apply`, { policies: { 'api::contract.contract': 'maybe' } });
    expect(res.status).toBe(400);
    expect(res.body.error.details.errors.map((e: { path: string[] }) => e.path.join('.')).sort()).toEqual(['confirm', 'policies.api::contract.contract']);
  });
});
