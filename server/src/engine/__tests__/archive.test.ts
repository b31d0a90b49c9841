import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';

import { PASSPHRASE, defaultRows, readEntries, writeFixture } from '../../../../tests/helpers/archive-fixture';
import { writeZip, zipBytes, type RawEntry } from '../../../../tests/helpers/zip';
import { openArchive, readManifest } from '../archive';
import { type EngineError } from '../errors';
import { ARCHIVE_LIMITS, type Manifest } from '../manifest';
import { fromNdjson } from '../ndjson';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const errorOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as EngineError;
  }
  throw new Error('expected a failure');
};

const rowsOf = async (archive: Awaited<ReturnType<typeof openArchive>>, entry: string) => {
  const rows: unknown[][] = [];
  for await (const row of fromNdjson(archive.open(entry))) rows.push(row);
  return rows;
};

describe('archive', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-archive-'));
  let count = 0;
  const file = () => path.join(dir, `a${(count += 1)}.pacta.zip`);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A plain archive rebuilt with its entries edited, the manifest's checksum kept right. */
  const forge = async (from: string, edit: (entries: RawEntry[], manifest: Manifest) => void) => {
    const entries: RawEntry[] = await readEntries(from);
    const manifestEntry = entries.find((e) => e.name === 'manifest.json')!;
    const manifest = JSON.parse(manifestEntry.data.toString('utf8')) as Manifest;
    edit(entries, manifest);
    const target = entries.find((e) => e.name === 'manifest.json');
    if (target === manifestEntry) {
      manifestEntry.data = Buffer.from(JSON.stringify(manifest));
      entries.find((e) => e.name === 'manifest.sha256')!.data = Buffer.from(sha256(manifestEntry.data));
    }
    const out = file();
    writeZip(out, entries);
    return out;
  };
  /** Replaces a table's content and declares it in the manifest (size, SHA-256). */
  const setEntry = (entries: RawEntry[], manifest: Manifest, name: string, data: Buffer) => {
    entries.find((e) => e.name === name)!.data = data;
    Object.assign(manifest.entries.find((e) => e.path === name)!, { size: data.length, sha256: sha256(data) });
  };

  describe('format 2', () => {
    it('writes a plain archive that opens, verifies and reads back its rows, not authenticated', async () => {
      const target = file();
      const written = await writeFixture(target, { compression: 'best' });
      const archive = await openArchive(target);
      expect(archive.manifest).toEqual(written);
      expect(archive.manifest.formatVersion).toBe(2);
      expect(archive.authenticated).toBe(false);
      expect(await archive.verify()).toMatchObject({ ok: true });
      expect(await rowsOf(archive, 'tables/things.ndjson')).toEqual(defaultRows().things);
      expect(await readManifest(target)).toEqual(written);
    });

    it('keeps only the envelope of an encrypted archive in clear and seals the rest', async () => {
      const target = file();
      const written = await writeFixture(target, { passphrase: PASSPHRASE });
      const entries = await readEntries(target);
      expect(entries.map((e) => e.name).filter((n) => n.startsWith('manifest'))).toEqual(['manifest.json', 'manifest.sha256', 'manifest.enc']);
      const envelope = JSON.parse(entries.find((e) => e.name === 'manifest.json')!.data.toString('utf8'));
      expect(Object.keys(envelope).sort()).toEqual(['createdAt', 'encryption', 'format', 'formatVersion', 'id', 'kind', 'sealed']);
      expect(Object.keys(envelope.encryption).sort()).toEqual(['algorithm', 'chunkSize', 'kdf', 'keyCheck']);
      // No table name, row count or upload path anywhere in clear.
      const raw = fs.readFileSync(target);
      for (const secret of ['things_files_lnk', 'uploads/notes.txt', 'Fixture', 'api::thing.thing', 'document_id']) {
        expect(raw.includes(Buffer.from(secret))).toBe(false);
      }

      const archive = await openArchive(target, { passphrase: PASSPHRASE });
      expect(archive.manifest).toEqual(written);
      expect(archive.authenticated).toBe(true);
      expect(await archive.verify()).toMatchObject({ ok: true });
      expect(await rowsOf(archive, 'tables/files.ndjson')).toEqual(defaultRows().files);
      expect(await readManifest(target, { passphrase: PASSPHRASE })).toEqual(written);
    });

    it('lists an encrypted archive without its key as locked, with the clear envelope in the error', async () => {
      const target = file();
      await writeFixture(target, { passphrase: PASSPHRASE });
      const envelope = { id: '20260101-000000-abcdef', kind: 'manual', createdAt: '2026-01-01T00:00:00.000Z' };
      expect(await errorOf(readManifest(target))).toMatchObject({ code: 'NO_KEY', details: { envelope } });
      expect(await errorOf(readManifest(target, { passphrase: 'another passphrase' }))).toMatchObject({ code: 'WRONG_KEY', details: { envelope } });
      expect(await errorOf(openArchive(target, { passphrase: 'another passphrase' }))).toMatchObject({ code: 'WRONG_KEY' });
    });

    it('refuses an envelope edited by hand (its checksum fixed) or a sealed manifest moved to another envelope', async () => {
      const target = file();
      await writeFixture(target, { passphrase: PASSPHRASE });
      const other = file();
      await writeFixture(other, { passphrase: PASSPHRASE });
      const entries: RawEntry[] = await readEntries(target);
      const envelopeEntry = entries.find((e) => e.name === 'manifest.json')!;
      const envelope = JSON.parse(envelopeEntry.data.toString('utf8'));
      envelope.kind = 'safety';
      envelopeEntry.data = Buffer.from(JSON.stringify(envelope));
      entries.find((e) => e.name === 'manifest.sha256')!.data = Buffer.from(sha256(envelopeEntry.data));
      const edited = file();
      writeZip(edited, entries);
      expect(await errorOf(openArchive(edited, { passphrase: PASSPHRASE }))).toMatchObject({ code: 'TAMPERED' });

      const swapped: RawEntry[] = await readEntries(target);
      swapped.find((e) => e.name === 'manifest.enc')!.data = (await readEntries(other)).find((e) => e.name === 'manifest.enc')!.data;
      const moved = file();
      writeZip(moved, swapped);
      expect(await errorOf(openArchive(moved, { passphrase: PASSPHRASE }))).toMatchObject({ code: 'TAMPERED' });
    });
  });

  describe('format 1 archives still open', () => {
    it('encrypted: manifest in clear with its MAC, authenticated under the key, listed without it', async () => {
      const target = file();
      const written = await writeFixture(target, { passphrase: PASSPHRASE, formatVersion: 1 });
      expect((await readEntries(target)).map((e) => e.name)).toContain('manifest.mac');
      expect(await readManifest(target)).toEqual({ ...written, formatVersion: 1 });
      const archive = await openArchive(target, { passphrase: PASSPHRASE });
      expect(archive.authenticated).toBe(true);
      expect(await archive.verify()).toMatchObject({ ok: true });
      expect(await errorOf(openArchive(target))).toMatchObject({ code: 'NO_KEY' });
    });

    it('plain', async () => {
      const target = file();
      await writeFixture(target, { formatVersion: 1 });
      const archive = await openArchive(target);
      expect(archive.manifest.formatVersion).toBe(1);
      expect(archive.authenticated).toBe(false);
      expect(await archive.verify()).toMatchObject({ ok: true });
    });
  });

  describe('entries', () => {
    let plain: string;
    beforeAll(async () => {
      plain = file();
      await writeFixture(plain, { compression: 'none' });
    });

    it('refuses two entries of one name, whichever comes first', async () => {
      for (const name of ['manifest.json', 'tables/things.ndjson']) {
        const forged = await forge(plain, (entries) => {
          const entry = entries.find((e) => e.name === name)!;
          entries.push({ name, data: Buffer.from(entry.data) });
        });
        const error = await errorOf(openArchive(forged));
        expect(error).toMatchObject({ code: 'BAD_ENTRY', message: `The archive holds two entries named ${name}` });
        expect(await errorOf(readManifest(forged))).toMatchObject({ code: 'BAD_ENTRY' });
      }
    });

    it('refuses a symbolic link and an entry the manifest does not list', async () => {
      const link = await forge(plain, (entries) => {
        entries.find((e) => e.name === 'tables/files.ndjson')!.mode = 0o120777;
      });
      expect(await errorOf(openArchive(link))).toMatchObject({ code: 'BAD_ENTRY', message: expect.stringContaining('symbolic link') });
      const extra = await forge(plain, (entries) => entries.push({ name: 'tables/extra.ndjson', data: Buffer.from('[1]\n') }));
      expect(await errorOf(openArchive(extra))).toMatchObject({ code: 'BAD_MANIFEST', message: expect.stringContaining('tables/extra.ndjson') });
    });

    it('refuses a manifest that names one table twice, or two tables of one entry', async () => {
      for (const edit of [
        (manifest: Manifest) => manifest.tables.push({ ...manifest.tables[0] }),
        (manifest: Manifest) => {
          manifest.tables[1].entry = manifest.tables[0].entry;
        },
      ]) {
        const forged = await forge(plain, (_entries, manifest) => edit(manifest));
        expect(await errorOf(openArchive(forged))).toMatchObject({ code: 'BAD_MANIFEST', message: 'The manifest names a table, or a table entry, twice' });
      }
    });

    it('refuses more entries than the limit before reading the directory', async () => {
      const target = file();
      writeZip(target, Array.from({ length: 30 }, (_, i) => ({ name: `e${i}`, data: Buffer.alloc(0) })));
      expect(await errorOf(openArchive(target, { limits: { maxEntries: 20 } }))).toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('30 entries') });

      // A zip64 end record claiming a billion entries: refused from the count, nothing parsed.
      const bytes = zipBytes([{ name: 'a', data: Buffer.from('a') }]);
      const body = bytes.subarray(0, bytes.length - 22);
      const end = Buffer.from(bytes.subarray(bytes.length - 22));
      const record = Buffer.alloc(56);
      record.writeUInt32LE(0x06064b50, 0);
      record.writeBigUInt64LE(BigInt(44), 4);
      record.writeBigUInt64LE(BigInt(1e9), 24);
      record.writeBigUInt64LE(BigInt(1e9), 32);
      record.writeBigUInt64LE(BigInt(end.readUInt32LE(12)), 40);
      record.writeBigUInt64LE(BigInt(end.readUInt32LE(16)), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(0x07064b50, 0);
      locator.writeBigUInt64LE(BigInt(body.length), 8);
      locator.writeUInt32LE(1, 16);
      end.writeUInt16LE(0xffff, 8);
      end.writeUInt16LE(0xffff, 10);
      const zip64 = file();
      fs.writeFileSync(zip64, Buffer.concat([body, record, locator, end]));
      expect(await errorOf(readManifest(zip64))).toMatchObject({ code: 'TOO_LARGE', message: 'The archive claims 1000000000 entries, above the limit of 200000' });
    });

    it('cuts an entry off once it passes the size its manifest declares', async () => {
      const forged = await forge(plain, (entries, manifest) => {
        const entry = manifest.entries.find((e) => e.path === 'tables/things.ndjson')!;
        entry.size = 100;
      });
      const archive = await openArchive(forged);
      const report = await archive.verify();
      expect(report.entries.find((e) => e.path === 'tables/things.ndjson')).toMatchObject({
        ok: false,
        code: 'TOO_LARGE',
        error: 'The archive entry tables/things.ndjson is larger than the 100 bytes its manifest declares',
      });
    });

    it('stops a zip bomb entry at the ratio limit, whatever its manifest declares', async () => {
      const bomb = Buffer.alloc(8 * 1024 * 1024, 0x20);
      const forged = await forge(plain, (entries, manifest) => {
        const entry = entries.find((e) => e.name.startsWith('media/') && e.name !== 'media/index.ndjson')!;
        entry.data = bomb;
        entry.deflated = zlib.deflateRawSync(bomb, { level: 9 });
        entry.declaredSize = 10;
        Object.assign(manifest.entries.find((e) => e.path === entry.name)!, { size: bomb.length, sha256: sha256(bomb) });
      });
      const archive = await openArchive(forged, { limits: { ratioGraceBytes: 1024 * 1024 } });
      const report = await archive.verify();
      expect(report.ok).toBe(false);
      expect(report.entries.find((e) => !e.ok)).toMatchObject({ code: 'TOO_LARGE', error: expect.stringContaining('zip bomb') });
      // Within the default grace the same entry is a legitimate blank file.
      expect(await (await openArchive(forged)).verify()).toMatchObject({ ok: true });
    });

    it('bounds the entries of an authenticated archive by their sealed sizes, not by the ratio', async () => {
      const blank = [{ path: '/uploads/blank.txt', data: Buffer.alloc(8 * 1024 * 1024) }];
      const limits = { ratioGraceBytes: 1024 * 1024 };
      const encrypted = file();
      await writeFixture(encrypted, { passphrase: PASSPHRASE, compression: 'best', media: blank });
      expect(await (await openArchive(encrypted, { passphrase: PASSPHRASE, limits })).verify()).toMatchObject({ ok: true });
      const plainBlank = file();
      await writeFixture(plainBlank, { compression: 'best', media: blank });
      const report = await (await openArchive(plainBlank, { limits })).verify();
      expect(report.entries.filter((e) => !e.ok)).toEqual([expect.objectContaining({ code: 'TOO_LARGE', error: expect.stringContaining('zip bomb') })]);
    });
  });

  describe('manifest caps', () => {
    let plain: string;
    beforeAll(async () => {
      plain = file();
      await writeFixture(plain);
    });
    /** manifest.json replaced by 33 MiB of spaces, its header telling the truth or `declaredSize`. */
    const bombManifest = async (declaredSize?: number) => {
      const entries: RawEntry[] = await readEntries(plain);
      const big = Buffer.alloc(ARCHIVE_LIMITS.maxManifestBytes + 1024 * 1024, 0x20);
      const entry = entries.find((e) => e.name === 'manifest.json')!;
      Object.assign(entry, { data: big, deflated: zlib.deflateRawSync(big, { level: 9 }), declaredSize });
      entries.find((e) => e.name === 'manifest.sha256')!.data = Buffer.from(sha256(big));
      const out = file();
      writeZip(out, entries);
      return out;
    };

    it('refuses a manifest whose header declares more than the limit, without inflating it', async () => {
      const forged = await bombManifest();
      const message = `The manifest is larger than the limit of 33554432 bytes (${ARCHIVE_LIMITS.maxManifestBytes + 1024 * 1024} bytes)`;
      expect(await errorOf(readManifest(forged))).toMatchObject({ code: 'TOO_LARGE', message });
      expect(await errorOf(openArchive(forged))).toMatchObject({ code: 'TOO_LARGE', message });
    });

    it('stops inflating a manifest whose header lies about its size', async () => {
      const forged = await bombManifest(2000);
      const before = process.memoryUsage().rss;
      expect(await errorOf(readManifest(forged))).toMatchObject({ code: 'TOO_LARGE', message: 'The manifest is larger than the limit of 33554432 bytes' });
      expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
    });
  });

  describe('rows against the table schema', () => {
    const refused = async (rows: Record<string, unknown[][]>, claimedRows?: Record<string, number>) => {
      const target = file();
      await writeFixture(target, { rows: { ...defaultRows(), ...rows }, claimedRows, passphrase: PASSPHRASE });
      const report = await (await openArchive(target, { passphrase: PASSPHRASE })).verify();
      expect(report.ok).toBe(false);
      return report.entries.filter((e) => !e.ok);
    };

    it('refuses a row of the wrong width, naming the table and the line', async () => {
      const things = defaultRows().things;
      things[6] = things[6].slice(0, 3);
      expect(await refused({ things })).toEqual([
        expect.objectContaining({ path: 'tables/things.ndjson', code: 'BAD_ROWS', error: 'The table things in the archive is not what its manifest says: line 7 has 3 values for 4 columns' }),
      ]);
    });

    it('refuses a line that is not an array, ids out of order, and a count that differs from the manifest', async () => {
      expect((await refused({ files: [[1, 'a', '/uploads/a'], { id: 2 } as unknown as unknown[]] }))[0]).toMatchObject({
        code: 'BAD_ROWS',
        error: expect.stringMatching(/table files .* line 2 is not a row/),
      });
      const things = defaultRows().things;
      [things[3], things[4]] = [things[4], things[3]];
      expect((await refused({ things }))[0]).toMatchObject({ code: 'BAD_ROWS', error: expect.stringMatching(/table things .* line 5 has id 4 after id 5/) });
      expect((await refused({}, { things_files_lnk: 13 }))[0]).toMatchObject({
        code: 'BAD_ROWS',
        error: expect.stringMatching(/table things_files_lnk .* ends the table at 12 rows where the manifest says 13/),
      });
      expect((await refused({}, { things: 39 }))[0]).toMatchObject({ code: 'BAD_ROWS', error: expect.stringMatching(/line 40 is past the 39 rows/) });
    });

    it('checks the rows read through rows() as verify does, batch by batch, and passes the good ones as they are', async () => {
      const target = file();
      const things = defaultRows().things;
      [things[3], things[4]] = [things[4], things[3]];
      await writeFixture(target, { rows: { ...defaultRows(), things } });
      const archive = await openArchive(target);
      // Without parsing the rows, every entry reads back (the digests match the crafted rows).
      expect((await archive.verify(undefined, { rows: false })).ok).toBe(true);
      const table = (name: string) => archive.manifest.tables.find((t) => t.name === name)!;
      const read = async (name: string) => {
        const rows: unknown[][] = [];
        for await (const batch of archive.rows(table(name))) rows.push(...batch);
        return rows;
      };
      expect(await errorOf(read('things'))).toMatchObject({ code: 'BAD_ROWS', message: expect.stringMatching(/table things .* line 5 has id 4 after id 5/) });
      expect(await read('files')).toEqual(defaultRows().files);
    });

    it('refuses a single-line table past the line limit, quickly and naming the line', async () => {
      const plain = file();
      await writeFixture(plain, { compression: 'none' });
      const line = Buffer.from(`[1,"${'x'.repeat(ARCHIVE_LIMITS.maxLineBytes + 10)}","t",null]`);
      const forged = await forge(plain, (entries, manifest) => {
        setEntry(entries, manifest, 'tables/things.ndjson', line);
        manifest.tables.find((t) => t.name === 'things')!.rows = 1;
      });
      const report = await (await openArchive(forged)).verify();
      expect(report.entries.filter((e) => !e.ok)).toEqual([
        expect.objectContaining({
          code: 'TOO_LARGE',
          error: `The archive entry tables/things.ndjson: line 1 is longer than the limit of ${ARCHIVE_LIMITS.maxLineBytes} bytes`,
        }),
      ]);
    });

    it('reports the checksum, not the rows, when the entry is damaged', async () => {
      const plain = file();
      await writeFixture(plain, { compression: 'none' });
      const forged = await forge(plain, (entries) => {
        const entry = entries.find((e) => e.name === 'tables/things.ndjson')!;
        entry.data = Buffer.from(entry.data.toString('utf8').replace('[7,', '[7;'));
      });
      const report = await (await openArchive(forged)).verify();
      expect(report.entries.filter((e) => !e.ok)).toEqual([expect.objectContaining({ path: 'tables/things.ndjson', code: 'CHECKSUM' })]);
    });
  });

  describe('NDJSON', () => {
    const batches = async (chunks: string[], maxLineBytes?: number) => {
      const out: unknown[] = [];
      for await (const row of fromNdjson(Readable.from(chunks.map((c) => Buffer.from(c))), { maxLineBytes, label: 'rows' })) out.push(row);
      return out;
    };

    it('joins lines cut across chunks, multi-byte characters included', async () => {
      const bytes = Buffer.from('[1,"ñandú"]\n[2,"€"]\n[3]');
      for (let cut = 1; cut < bytes.length; cut += 1) {
        const rows: unknown[] = [];
        for await (const row of fromNdjson(Readable.from([bytes.subarray(0, cut), bytes.subarray(cut)]))) rows.push(row);
        expect(rows).toEqual([[1, 'ñandú'], [2, '€'], [3]]);
      }
    });

    it('refuses a line past the limit as soon as it is seen, even without a newline', async () => {
      await expect(batches(['[1]\n[', '"aaaa', 'aaaa', 'aaaa"]\n'], 10)).rejects.toMatchObject({ code: 'TOO_LARGE', message: 'rows: line 2 is longer than the limit of 10 bytes' });
      await expect(batches(['[1]\n["aaaaaaaaaaaaaaa'], 10)).rejects.toMatchObject({ code: 'TOO_LARGE' });
      await expect(batches(['[1]\n{oops\n'])).rejects.toMatchObject({ code: 'BAD_ROWS', message: 'rows: line 2 is not valid JSON' });
    });

    it('reads a line of 16 MiB that came in 256 chunks', async () => {
      const chunk = 'x'.repeat(64 * 1024);
      const chunks = ['["', ...Array.from({ length: 256 }, () => chunk), '"]\n'];
      const rows = await batches(chunks, 32 * 1024 * 1024);
      expect((rows[0] as string[])[0]).toHaveLength(256 * chunk.length);
    });
  });
});
