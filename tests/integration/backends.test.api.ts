import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import archiver from 'archiver';

import {
  checkedBackend,
  createLocalDriver,
  createS3Driver,
  faultyDriver,
  type Backend,
  type BackendDriver,
  type Fault,
} from '../../server/src/engine/backends';
import { checkRepository, collectGarbage, fetchChunked, putChunked } from '../../server/src/engine/backends/chunked';
import { EngineError } from '../../server/src/engine/errors';
import { PASSPHRASE, defaultRows, writeFixture } from '../helpers/archive-fixture';
import { databaseClient, describeOn } from '../helpers/app';
import { RGW_ACCESS_KEY, RGW_SECRET_KEY, startRgw, type Rgw } from '../helpers/rgw';

const BUCKET = 'pacta-conformance';
/** Short, so that a stalled transfer is abandoned within the test; longer than an 8 MiB part's upload (S3 reports progress per part). */
const IDLE_MS = 4000;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A zip of these entries (deflated: the same content gives the same entry bytes). */
const zipOf = async (file: string, entries: Record<string, Buffer>) => {
  const zip = archiver('zip', { zlib: { level: 6 } });
  const done = new Promise<void>((resolve, reject) => {
    const out = fs.createWriteStream(file);
    out.on('close', () => resolve());
    out.on('error', reject);
    zip.on('error', reject);
    zip.pipe(out);
  });
  for (const [name, bytes] of Object.entries(entries)) zip.append(bytes, { name, date: new Date('2026-01-01T00:00:00Z') });
  await zip.finalize();
  await done;
  return file;
};

interface Subject {
  driver: () => BackendDriver;
  /** Stores an object as another program would: no SHA-256 recorded with it. */
  putForeign: (name: string, bytes: Buffer) => Promise<void>;
  /** Incomplete uploads (multipart parts, temporary files) the backend still holds. */
  leftovers: () => Promise<string[]>;
}

/**
 * One conformance suite for every storage backend (the local folder, and S3 on a real Ceph RADOS
 * Gateway): write, read, list, delete, whole objects only, writers in parallel, and a
 * fault-injecting driver (faulty.ts) that fails, stalls, truncates or corrupts the Nth call.
 * Every fault must end in a clear EngineError, never in a listed object that is not whole nor a
 * downloaded file that is wrong, and the next call must work. The backends do not depend on the
 * database engine: SQLite run only.
 */
describeOn('sqlite')(`storage backends conformance (${databaseClient} run)`, () => {
  let tmp: string;
  let rgw: Rgw;
  let files: { small: string; large: string; other: string };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-backends-'));
    const write = (name: string, bytes: Buffer) => {
      const file = path.join(tmp, name);
      fs.writeFileSync(file, bytes);
      return file;
    };
    // large: three multipart parts of 8 MiB on S3.
    files = { small: write('small.bin', randomBytes(4096)), large: write('large.bin', randomBytes(20 * 1024 * 1024)), other: write('other.bin', randomBytes(9000)) };
    rgw = await startRgw();
    await rgw.createBucket(BUCKET);
  });

  afterAll(async () => {
    await rgw?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const subjects: Record<string, () => Subject> = {
    local: () => {
      const folder = path.join(tmp, 'offsite');
      fs.mkdirSync(folder, { recursive: true });
      return {
        driver: () => createLocalDriver(folder),
        putForeign: async (name, bytes) => fs.promises.writeFile(path.join(folder, name), bytes),
        leftovers: async () => fs.readdirSync(folder).filter((name) => name.startsWith('.partial')),
      };
    },
    s3: () => {
      const prefix = 'conformance/';
      const options = {
        endpoint: rgw.endpoint,
        region: 'us-east-1',
        bucket: BUCKET,
        prefix,
        forcePathStyle: true,
        accessKeyIdEnv: 'TEST_KEY_ID',
        secretAccessKeyEnv: 'TEST_SECRET',
      };
      return {
        driver: () => createS3Driver(options, { TEST_KEY_ID: RGW_ACCESS_KEY, TEST_SECRET: RGW_SECRET_KEY }),
        putForeign: async (name, bytes) => {
          await rgw.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${name}`, Body: bytes }));
        },
        leftovers: async () => {
          const uploads = await rgw.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: prefix }));
          return (uploads.Uploads ?? []).map((upload) => upload.Key!);
        },
      };
    },
  };

  describe.each(Object.keys(subjects))('%s', (kind) => {
    let subject: Subject;
    const backends: Backend[] = [];
    const open = (faults: Fault[] = []) => {
      const driver = subject.driver();
      const backend = checkedBackend(faults.length ? faultyDriver(driver, faults) : driver, { idleTimeoutMs: IDLE_MS });
      backends.push(backend);
      return backend;
    };
    const digest = (file: string) => sha256(fs.readFileSync(file));
    const target = (name: string) => path.join(tmp, `fetched-${kind}-${name}`);
    /** What the backend lists, each listed object fetched and checked: nothing listed is ever partial. */
    const listedWhole = async () => {
      const backend = open();
      const names = (await backend.list()).map((object) => object.name).sort();
      for (const name of names) await backend.fetch(name, target(name));
      return names;
    };

    beforeAll(() => {
      subject = subjects[kind]();
    });
    beforeEach(async () => {
      const backend = open();
      for (const object of await backend.list()) await backend.delete(object.name);
    });
    afterEach(() => {
      for (const backend of backends.splice(0)) backend.close();
    });

    it('stores an object whole with its SHA-256, lists it, reads it back byte for byte', async () => {
      const backend = open();
      const progress: number[] = [];
      await backend.put('a.pacta.zip', files.large, digest(files.large), (sent, total) => {
        expect(total).toBe(fs.statSync(files.large).size);
        progress.push(sent);
      });
      await backend.put('b.pacta.zip', files.small, digest(files.small));
      expect(progress.at(-1)).toBe(fs.statSync(files.large).size);

      const listed = await backend.list();
      expect(listed.map((o) => o.name).sort()).toEqual(['a.pacta.zip', 'b.pacta.zip']);
      expect(listed.find((o) => o.name === 'a.pacta.zip')?.size).toBe(fs.statSync(files.large).size);
      expect(await backend.stat('a.pacta.zip')).toMatchObject({ size: fs.statSync(files.large).size, sha256: digest(files.large) });
      expect(await backend.stat('missing.pacta.zip')).toBeNull();

      const fetched = await backend.fetch('a.pacta.zip', target('a'));
      expect(fetched).toEqual({ size: fs.statSync(files.large).size, sha256: digest(files.large) });
      expect(digest(target('a'))).toBe(digest(files.large));
    });

    it('replaces an object whole; deletes it; a missing one is NOT_FOUND and leaves no file', async () => {
      const backend = open();
      await backend.put('a.pacta.zip', files.small, digest(files.small));
      await backend.put('a.pacta.zip', files.other, digest(files.other));
      await backend.fetch('a.pacta.zip', target('replaced'));
      expect(digest(target('replaced'))).toBe(digest(files.other));

      await backend.delete('a.pacta.zip');
      await backend.delete('a.pacta.zip');
      expect(await backend.list()).toEqual([]);
      await expect(backend.fetch('a.pacta.zip', target('gone'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(fs.existsSync(target('gone'))).toBe(false);
    });

    it('refuses names that are not one plain segment', async () => {
      const backend = open();
      for (const name of ['../escape.pacta.zip', 'a/b.pacta.zip', '.hidden', '']) {
        await expect(backend.put(name, files.small, digest(files.small))).rejects.toThrow(/Invalid stored file name/);
      }
      expect(await backend.list()).toEqual([]);
    });

    it('takes writers in parallel, several of them of one name (same bytes, as content-addressed objects are)', async () => {
      const sources = [files.small, files.other, files.large];
      const results = await Promise.allSettled([
        ...[0, 1, 2, 3, 4, 5].map((i) => open().put(`w${i}.pacta.zip`, sources[i % 3], digest(sources[i % 3]))),
        ...[0, 1, 2].map(() => open().put('same.pacta.zip', files.large, digest(files.large))),
      ]);
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(await listedWhole()).toEqual(['same.pacta.zip', 'w0.pacta.zip', 'w1.pacta.zip', 'w2.pacta.zip', 'w3.pacta.zip', 'w4.pacta.zip', 'w5.pacta.zip']);
      expect(digest(target('same.pacta.zip'))).toBe(digest(files.large));
      expect(await subject.leftovers()).toEqual([]);
    });

    it('never deletes another writer\'s object when the read back finds other bytes', async () => {
      // Between this writer's upload and its check, another writer replaces the object with other bytes.
      const driver = subject.driver();
      const racing: BackendDriver = {
        ...driver,
        write: async (...args) => {
          await driver.write(...args);
          await open().put('other.pacta.zip', files.other, digest(files.other));
        },
      };
      const backend = checkedBackend(racing, { idleTimeoutMs: IDLE_MS });
      backends.push(backend);
      await expect(backend.put('other.pacta.zip', files.small, digest(files.small))).rejects.toMatchObject({
        code: 'OFFSITE_FAILED',
        message: expect.stringContaining('does not match what was sent'),
      });
      expect(await listedWhole()).toEqual(['other.pacta.zip']);
      expect(digest(target('other.pacta.zip'))).toBe(digest(files.other));
    });

    it('refuses an object another program wrote without our SHA-256', async () => {
      await subject.putForeign('foreign.pacta.zip', Buffer.from('not ours'));
      await expect(open().fetch('foreign.pacta.zip', target('foreign'))).rejects.toThrow(/no recorded SHA-256/);
      expect(fs.existsSync(target('foreign'))).toBe(false);
    });

    it('leaves nothing behind when a write is aborted half-way', async () => {
      const driver = subject.driver();
      const controller = new AbortController();
      await expect(
        driver.write('aborted.pacta.zip', files.large, digest(files.large), {
          signal: controller.signal,
          onProgress: (sent) => {
            if (sent > 0) controller.abort(new Error('stopped half-way'));
          },
        })
      ).rejects.toThrow();
      driver.close();
      expect(await open().stat('aborted.pacta.zip')).toBeNull();
      expect(await subject.leftovers()).toEqual([]);
    });

    describe.each<[Fault['kind'], RegExp]>([
      ['fail', /injected fault: write #1 failed/],
      ['truncate', /does not match what was sent/],
      ['stall', /no progress for 4 s, abandoned/],
    ])('a write that is made to %s', (fault, message) => {
      it('gives a clear error, lists nothing partial, and the next write works', async () => {
        const faulty = open([{ op: 'write', nth: 1, kind: fault }]);
        const error = await faulty.put('x.pacta.zip', files.large, digest(files.large)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EngineError);
        expect(error).toMatchObject({ code: 'OFFSITE_FAILED', message: expect.stringMatching(message) });
        expect(await open().stat('x.pacta.zip')).toBeNull();
        expect(await listedWhole()).toEqual([]);

        await faulty.put('x.pacta.zip', files.large, digest(files.large));
        expect(await listedWhole()).toEqual(['x.pacta.zip']);
        expect(await subject.leftovers()).toEqual([]);
      });
    });

    it('gives a clear error when the read back after a write fails, and lists only whole objects', async () => {
      const faulty = open([{ op: 'stat', nth: 1, kind: 'fail' }]);
      await expect(faulty.put('s.pacta.zip', files.small, digest(files.small))).rejects.toMatchObject({
        code: 'OFFSITE_FAILED',
        message: expect.stringContaining('injected fault: stat #1 failed'),
      });
      // Written, its check lost: whatever is listed is whole (the plugin records the copy failed and copies it again).
      expect((await listedWhole()).filter((name) => name !== 's.pacta.zip')).toEqual([]);
      await faulty.put('s.pacta.zip', files.small, digest(files.small));
    });

    describe.each<[Fault['kind'], string, RegExp]>([
      ['fail', 'OFFSITE_FAILED', /injected fault: read #1 failed/],
      ['truncate', 'CHECKSUM', /damaged: \d+ of \d+ bytes arrived/],
      ['corrupt', 'CHECKSUM', /damaged: its SHA-256 does not match/],
      ['stall', 'OFFSITE_FAILED', /no progress for 4 s, abandoned/],
    ])('a read that is made to %s', (fault, code, message) => {
      it('gives a clear error, leaves no file, and the next read works', async () => {
        await open().put('r.pacta.zip', files.large, digest(files.large));
        const faulty = open([{ op: 'read', nth: 1, kind: fault }]);
        await expect(faulty.fetch('r.pacta.zip', target('r'))).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
        expect(fs.existsSync(target('r'))).toBe(false);

        await faulty.fetch('r.pacta.zip', target('r'));
        expect(digest(target('r'))).toBe(digest(files.large));
      });
    });

    describe('deduplicated copies (index and objects)', () => {
      const media = randomBytes(300 * 1024);
      const table = (rows: number) => Buffer.from(Array.from({ length: rows }, (_, i) => JSON.stringify({ id: i, title: `Contrato ${i}`, body: 'x'.repeat(200) })).join('\n'));
      const archives = async () => ({
        first: await zipOf(path.join(tmp, `first-${kind}.zip`), { 'manifest.json': Buffer.from('{"id":"a"}'), 'media/logo.png': media, 'data/contracts.ndjson': table(3000) }),
        // The next day: the same media file, one more contract.
        second: await zipOf(path.join(tmp, `second-${kind}.zip`), { 'manifest.json': Buffer.from('{"id":"b"}'), 'media/logo.png': media, 'data/contracts.ndjson': table(3001) }),
      });
      const objectNames = async () => (await open().list()).map((o) => o.name).filter((n) => n.startsWith('obj-')).sort();

      it('sends only the entries the backend lacks, and assembles the same archive byte for byte', async () => {
        const { first, second } = await archives();
        const one = await putChunked(open(), { file: first, id: '20260101-020000-aaaaaa', sha256: digest(first) });
        expect(one.reused.objects).toBe(0);
        expect(one.sent.objects).toBe(2);
        const two = await putChunked(open(), { file: second, id: '20260102-020000-bbbbbb', sha256: digest(second) });
        // The media file was there already: only the changed table went.
        expect(two.reused).toEqual({ objects: 1, bytes: expect.any(Number) });
        expect(two.sent.objects).toBe(1);
        expect(two.sent.bytes).toBeLessThan(fs.statSync(second).size / 2);
        expect(await objectNames()).toHaveLength(3);

        for (const [id, file] of [['20260101-020000-aaaaaa', first], ['20260102-020000-bbbbbb', second]] as const) {
          const out = target(`assembled-${id}`);
          expect(await fetchChunked(open(), id, out)).toEqual({ size: fs.statSync(file).size, sha256: digest(file) });
          expect(digest(out)).toBe(digest(file));
        }
      });

      it('a copy a fault stops leaves no index; the next copy sends what is missing; a damaged object is refused', async () => {
        const { first } = await archives();
        const id = '20260103-020000-cccccc';
        // The second object's write fails: the first object is there, no index.
        await expect(putChunked(open([{ op: 'write', nth: 2, kind: 'fail' }]), { file: first, id, sha256: digest(first) })).rejects.toMatchObject({ code: 'OFFSITE_FAILED' });
        expect((await open().list()).map((o) => o.name).filter((n) => n.endsWith('.pacta.index'))).toEqual([]);
        await expect(fetchChunked(open(), id, target('nothing'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
        const again = await putChunked(open(), { file: first, id, sha256: digest(first) });
        expect(again.reused.objects).toBe(1);
        expect(again.sent.objects).toBe(1);

        // An object damaged in the backend: the assembly stops with the reason and leaves no file.
        const faulty = open([{ op: 'read', nth: 2, kind: 'corrupt' }]);
        await expect(fetchChunked(faulty, id, target('damaged'))).rejects.toMatchObject({ code: 'CHECKSUM' });
        expect(fs.existsSync(target('damaged'))).toBe(false);
      });

      it("sends only the pieces around an edited row of a large table (our archives' content-defined pieces)", async () => {
        // Our own archives: ArchiveWriter deflates each table in content-defined pieces.
        const things = (edited: number | null) =>
          Array.from({ length: 40_000 }, (_, i) => [i + 1, `doc${String(i).padStart(6, '0')}`, i === edited ? 'Editado' : `Contrato ${(i * 7919) % 100_003}`, { n: i }]);
        const first = path.join(tmp, `rows-first-${kind}.pacta.zip`);
        const second = path.join(tmp, `rows-second-${kind}.pacta.zip`);
        await writeFixture(first, { compression: 'best', rows: { ...defaultRows(), things: things(null) } });
        await writeFixture(second, { compression: 'best', rows: { ...defaultRows(), things: things(20_000) } });

        const one = await putChunked(open(), { file: first, id: '20260104-020000-dddddd', sha256: digest(first) });
        // The table is cut into many objects, not sent as one.
        expect(one.sent.objects).toBeGreaterThan(10);
        const two = await putChunked(open(), { file: second, id: '20260105-020000-eeeeee', sha256: digest(second) });
        expect(two.sent.objects).toBeLessThanOrEqual(3);
        expect(two.sent.bytes).toBeLessThan(fs.statSync(second).size * 0.1);
        for (const [id, file] of [['20260104-020000-dddddd', first], ['20260105-020000-eeeeee', second]] as const) {
          const out = target(`rows-${id}`);
          expect(await fetchChunked(open(), id, out)).toEqual({ size: fs.statSync(file).size, sha256: digest(file) });
        }
      });

      it('reuses a plain archive\'s media object without reading it, never for the sealed bytes of an encrypted archive of the same file', async () => {
        const photo = { path: '/uploads/scan.png', data: randomBytes(300 * 1024) };
        const plainFile = path.join(tmp, `media-plain-${kind}.pacta.zip`);
        const sealedFile = path.join(tmp, `media-sealed-${kind}.pacta.zip`);
        await writeFixture(plainFile, { media: [photo] });
        // Format 1 keeps the entry's name, media/<SHA-256 of the file>, for its encrypted bytes.
        await writeFixture(sealedFile, { media: [photo], passphrase: PASSPHRASE, formatVersion: 1 });
        await putChunked(open(), { file: plainFile, id: '20260106-020000-ffffff', sha256: digest(plainFile) });
        const again = await putChunked(open(), { file: plainFile, id: '20260107-020000-aaaaab', sha256: digest(plainFile) });
        expect(again.reused.bytes).toBeGreaterThanOrEqual(photo.data.length);
        await putChunked(open(), { file: sealedFile, id: '20260108-020000-aaaaac', sha256: digest(sealedFile) });
        for (const [id, file] of [['20260107-020000-aaaaab', plainFile], ['20260108-020000-aaaaac', sealedFile]] as const) {
          expect(await fetchChunked(open(), id, target(`media-${id}`))).toEqual({ size: fs.statSync(file).size, sha256: digest(file) });
        }
      });

      it('collects the objects no index names, once older than the margin, and never from a partial view', async () => {
        const { first, second } = await archives();
        await putChunked(open(), { file: first, id: '20260101-020000-aaaaaa', sha256: digest(first) });
        await putChunked(open(), { file: second, id: '20260102-020000-bbbbbb', sha256: digest(second) });
        // Retention deletes the first backup: its index goes (phase one).
        await open().delete('20260101-020000-aaaaaa.pacta.index');
        // Younger than the margin: kept (a copy elsewhere may be about to name them).
        expect((await collectGarbage(open(), { marginMs: 3600_000 })).deleted).toEqual([]);
        // An index that cannot be read stops the collection before it deletes anything.
        await expect(collectGarbage(open([{ op: 'read', nth: 1, kind: 'fail' }]), { marginMs: 0 })).rejects.toMatchObject({ code: 'OFFSITE_FAILED' });
        expect(await objectNames()).toHaveLength(3);
        const dry = await collectGarbage(open(), { marginMs: 0, dryRun: true });
        expect(dry.deleted).toHaveLength(1);
        expect(await objectNames()).toHaveLength(3);
        const collected = await collectGarbage(open(), { marginMs: 0 });
        expect(collected).toMatchObject({ indexes: 1, kept: 2, deleted: [expect.objectContaining({ name: expect.stringMatching(/^obj-/) })] });
        // The second backup still assembles whole.
        await fetchChunked(open(), '20260102-020000-bbbbbb', target('after-gc'));
        expect(digest(target('after-gc'))).toBe(digest(second));
        // What is stored before and after, and what the archives add up to.
        expect(collected.before.storedBytes - collected.after.storedBytes).toBe(collected.bytes);
        expect(collected.after).toMatchObject({ backups: 1, objects: 3, logicalBytes: fs.statSync(second).size });
      });

      it('the check finds every missing, resized or rotten object and damaged index, and names the backups they break', async () => {
        const { first, second } = await archives();
        const [a, b, c] = ['20260101-020000-aaaaaa', '20260102-020000-bbbbbb', '20260104-020000-dddddd'];
        await putChunked(open(), { file: first, id: a, sha256: digest(first) });
        // The first backup's objects: the media file (the larger, shared with the second) and its table.
        const [mediaObject, firstTable] = (await open().list()).filter((o) => o.name.startsWith('obj-')).sort((x, y) => y.size - x.size);
        await putChunked(open(), { file: second, id: b, sha256: digest(second) });
        // A backup copied whole, from before deduplication was on.
        await open().put(`${c}.pacta.zip`, files.other, digest(files.other));

        const healthy = await checkRepository(open(), { samplePercent: 100 });
        const listed = await open().list();
        expect(healthy).toMatchObject({
          backups: 3,
          objects: listed.length,
          storedBytes: listed.reduce((n, o) => n + o.size, 0),
          logicalBytes: fs.statSync(first).size + fs.statSync(second).size + fs.statSync(files.other).size,
          damaged: [],
          affected: [],
        });
        // Every object a backup uses (3 entries and the whole archive) read; a sample of 10 % is one.
        expect(healthy.sampled.objects).toBe(4);
        expect((await checkRepository(open(), { samplePercent: 10, random: () => 0.99 })).sampled.objects).toBe(1);
        expect((await checkRepository(open(), { samplePercent: 0 })).sampled.objects).toBe(0);

        // Rot: the shared media object's bytes replaced under its recorded digest (what a bad disk does).
        const swapped = path.join(tmp, `swapped-${kind}`);
        fs.writeFileSync(swapped, randomBytes(mediaObject.size));
        await subject.driver().write(mediaObject.name, swapped, mediaObject.sha256!, { signal: new AbortController().signal, onProgress: () => undefined });
        // Only a read finds rot: a sample of 0 % does not.
        expect((await checkRepository(open(), { samplePercent: 0 })).damaged).toEqual([]);
        const rot = await checkRepository(open(), { samplePercent: 100 });
        expect(rot.damaged).toEqual([{ name: mediaObject.name, reason: expect.stringContaining('SHA-256') }]);
        expect(rot.affected).toEqual([b, a]);

        // Missing: the first backup's table; and an index that is not one, under a digest that matches it.
        await open().delete(firstTable.name);
        const junk = path.join(tmp, `junk-${kind}`);
        fs.writeFileSync(junk, 'not an index');
        await open().put('20260105-020000-eeeeee.pacta.index', junk, digest(junk));
        const broken = await checkRepository(open(), { samplePercent: 0 });
        expect(broken.damaged).toHaveLength(2);
        expect(broken.damaged).toEqual(
          expect.arrayContaining([
            { name: firstTable.name, reason: 'is missing' },
            { name: '20260105-020000-eeeeee.pacta.index', reason: expect.stringContaining('not one PACTA Backup wrote') },
          ])
        );
        expect(broken.affected).toEqual(['20260105-020000-eeeeee', a]);
        // The check changed nothing.
        expect((await open().list()).length).toBe(listed.length);
      });
    });

    it('gives a clear error when listing or deleting fails, and changes nothing', async () => {
      await open().put('d.pacta.zip', files.small, digest(files.small));
      const faulty = open([
        { op: 'list', nth: 1, kind: 'fail' },
        { op: 'delete', nth: 1, kind: 'fail' },
      ]);
      await expect(faulty.list()).rejects.toMatchObject({ code: 'OFFSITE_FAILED', message: expect.stringContaining('injected fault: list #1 failed') });
      await expect(faulty.delete('d.pacta.zip')).rejects.toMatchObject({ code: 'OFFSITE_FAILED' });
      expect(await listedWhole()).toEqual(['d.pacta.zip']);
    });
  });

  it('a local backend whose folder is missing (a share not mounted) fails and creates nothing', async () => {
    const folder = path.join(tmp, 'not-mounted');
    const backend = checkedBackend(createLocalDriver(folder), { idleTimeoutMs: IDLE_MS });
    await expect(backend.put('a.pacta.zip', files.small, sha256(fs.readFileSync(files.small)))).rejects.toMatchObject({
      code: 'OFFSITE_FAILED',
      message: expect.stringContaining('does not exist (is its disk or share mounted?)'),
    });
    await expect(backend.list()).rejects.toMatchObject({ code: 'OFFSITE_FAILED' });
    expect(fs.existsSync(folder)).toBe(false);
  });
});
