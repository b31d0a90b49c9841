import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { MEDIA_HASHES_FILE, forgetMediaHashes, localFilesOf, readMediaHashes, worthCompressing, writeMediaHashes } from '../media';

describe('media files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-media-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: Buffer | string) => {
    const target = path.join(dir, name);
    fs.writeFileSync(target, content);
    return target;
  };

  it('never deflates formats that are compressed already, whatever their bytes', async () => {
    expect(await worthCompressing(file('photo.JPG', 'a'.repeat(10000)))).toBe(false);
    expect(await worthCompressing(file('scan.png', 'a'.repeat(10000)))).toBe(false);
  });

  it('deflates a PDF or a text file that shrinks, and stores one that does not', async () => {
    const text = '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nBT /F1 12 Tf (Contrato de servicios) Tj ET\n'.repeat(200);
    expect(await worthCompressing(file('contract.pdf', text))).toBe(true);
    expect(await worthCompressing(file('notes.txt', text))).toBe(true);
    expect(await worthCompressing(file('compressed-streams.pdf', randomBytes(100_000)))).toBe(false);
    expect(await worthCompressing(file('empty.txt', ''))).toBe(false);
  });

  it('names the local files of a files row: the original and each format, never outside uploads', () => {
    expect(
      localFilesOf({
        provider: 'local',
        url: '/uploads/a_1.png',
        formats: { thumbnail: { url: '/uploads/thumbnail_a_1.png' }, small: { url: 'https://cdn.example/x.png' } },
      })
    ).toEqual(['uploads/a_1.png', 'uploads/thumbnail_a_1.png']);
    expect(localFilesOf({ provider: 'aws-s3', url: '/uploads/a.png' })).toEqual([]);
    expect(localFilesOf({ provider: 'local', url: '/uploads/../config/x.js' })).toEqual([]);
  });
});

describe('the kept media hashes', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-media-hashes-'));
  afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));
  const sha = 'a'.repeat(64);

  it('come back as written; none are kept when there is nothing to keep', async () => {
    const hashes = new Map([['uploads/big.pdf', { size: 600_000, mtimeMs: 1767225600000.25, sha256: sha, hashedAt: 1767225600000 }]]);
    await writeMediaHashes(folder, hashes, path.join(folder, '.partial-hashes'));
    expect(await readMediaHashes(folder)).toEqual(hashes);
    expect(fs.statSync(path.join(folder, MEDIA_HASHES_FILE)).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(folder)).toEqual([MEDIA_HASHES_FILE]);
    await writeMediaHashes(folder, new Map(), path.join(folder, '.partial-hashes'));
    expect(fs.readdirSync(folder)).toEqual([]);
  });

  it('a file that is not ours, or entries that are not hashes, give nothing to trust', async () => {
    fs.writeFileSync(path.join(folder, MEDIA_HASHES_FILE), 'not json');
    expect((await readMediaHashes(folder)).size).toBe(0);
    fs.writeFileSync(path.join(folder, MEDIA_HASHES_FILE), JSON.stringify({ version: 1, files: { a: [1, 2, 'xyz', 3], b: [1, 2, sha, 3], c: 'no' } }));
    expect([...(await readMediaHashes(folder)).keys()]).toEqual(['b']);
    await forgetMediaHashes(folder);
    expect(fs.readdirSync(folder)).toEqual([]);
  });
});
