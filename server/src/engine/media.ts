import fs from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';

/**
 * Media files of Strapi's local upload provider: a `files` row names its file by `url`
 * (`/uploads/<hash><ext>`) and its resized formats in `formats` (thumbnail, small, …).
 */

/** Formats that are compressed already: storing them deflated again gains nothing. */
const COMPRESSED = new Set([
  '.jpg', '.jpeg', '.png', '.gif', '.webp', '.avif', '.heic', '.zip', '.gz', '.tgz', '.bz2',
  '.xz', '.7z', '.rar', '.mp4', '.m4v', '.mov', '.webm', '.mkv', '.avi', '.mp3', '.m4a', '.aac',
  '.ogg', '.opus', '.flac', '.woff', '.woff2', '.docx', '.xlsx', '.pptx', '.odt', '.ods', '.epub',
]);

export const isCompressible = (file: string) => !COMPRESSED.has(path.extname(file).toLowerCase());

const SAMPLE_BYTES = 64 * 1024;

/**
 * Whether deflating a media file is worth it: never for the formats above; for the others
 * (PDF, office formats of other kinds, text, unknown binaries) the first 64 KB are deflated
 * at level 1 and the file is compressed when that saves at least 10%. PDFs are the reason:
 * some hold compressed streams (storing them is right), many are mostly text (deflate takes
 * them to a few percent of their size).
 */
export const worthCompressing = async (file: string) => {
  if (!isCompressible(file)) return false;
  const handle = await fs.promises.open(file, 'r');
  try {
    const sample = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await handle.read(sample, 0, SAMPLE_BYTES, 0);
    return sampleDeflates(sample.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
};

const sampleDeflates = (sample: Buffer) =>
  sample.length > 0 && deflateRawSync(sample, { level: 1 }).length <= sample.length * 0.9;

/** worthCompressing for a file already read into memory (the same answer, without reading it again). */
export const worthCompressingData = (file: string, data: Buffer) =>
  isCompressible(file) && sampleDeflates(data.subarray(0, SAMPLE_BYTES));

/** The local files a `files` row refers to, as paths relative to the public folder. */
export const localFilesOf = (row: { url?: unknown; formats?: unknown; provider?: unknown }): string[] => {
  if (row.provider !== 'local') return [];
  const urls = [row.url];
  if (row.formats && typeof row.formats === 'object') {
    for (const format of Object.values(row.formats as Record<string, { url?: unknown }>)) urls.push(format?.url);
  }
  return urls
    .filter((url): url is string => typeof url === 'string' && url.startsWith('/uploads/'))
    .map((url) => url.slice(1))
    .filter((relative) => !relative.split('/').includes('..'));
};

/**
 * The hashes of the larger media files that earlier backups read (engine/backup.ts MediaHashes),
 * kept beside the backups in the storage folder (a dotfile: never listed as a backup). A file
 * that cannot be read or that is not ours is ignored: every file is then hashed again.
 */
export const MEDIA_HASHES_FILE = '.media-hashes.json';
const SHA256 = /^[0-9a-f]{64}$/;

type KnownHashes = Map<string, { size: number; mtimeMs: number; sha256: string; hashedAt: number }>;

export const readMediaHashes = async (folder: string): Promise<KnownHashes> => {
  const known: KnownHashes = new Map();
  try {
    const parsed = JSON.parse(await fs.promises.readFile(path.join(folder, MEDIA_HASHES_FILE), 'utf8')) as { version?: number; files?: Record<string, unknown> };
    if (parsed?.version !== 1 || typeof parsed.files !== 'object' || !parsed.files) return known;
    for (const [relative, value] of Object.entries(parsed.files)) {
      if (!Array.isArray(value) || value.length !== 4) continue;
      const [size, mtimeMs, sha256, hashedAt] = value as unknown[];
      if (typeof size !== 'number' || typeof mtimeMs !== 'number' || typeof hashedAt !== 'number' || typeof sha256 !== 'string' || !SHA256.test(sha256)) continue;
      known.set(relative, { size, mtimeMs, sha256, hashedAt });
    }
  } catch {
    // None yet, or unreadable: every file is hashed.
  }
  return known;
};

/**
 * Replaces the file whole: `temp` (the storage's temporary path, cleaned after a crash like any
 * other) renamed over it. None kept when there is nothing to keep (no file over 256 KB).
 */
export const writeMediaHashes = async (folder: string, hashes: KnownHashes, temp: string) => {
  const target = path.join(folder, MEDIA_HASHES_FILE);
  if (!hashes.size) {
    await fs.promises.rm(target, { force: true });
    return;
  }
  const files = Object.fromEntries([...hashes].map(([relative, h]) => [relative, [h.size, h.mtimeMs, h.sha256, h.hashedAt]]));
  await fs.promises.writeFile(temp, JSON.stringify({ version: 1, files }), { mode: 0o600 });
  await fs.promises.rename(temp, target);
};

export const forgetMediaHashes = (folder: string) => fs.promises.rm(path.join(folder, MEDIA_HASHES_FILE), { force: true });
