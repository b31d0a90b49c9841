import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { localFilesOf, worthCompressing } from '../media';

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
