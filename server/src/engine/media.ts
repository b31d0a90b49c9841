import path from 'node:path';

/**
 * Media files of Strapi's local upload provider: a `files` row names its file by `url`
 * (`/uploads/<hash><ext>`) and its resized formats in `formats` (thumbnail, small, …).
 */

/** Formats that are compressed already: storing them deflated again gains nothing. */
const COMPRESSED = new Set([
  '.jpg', '.jpeg', '.png', '.gif', '.webp', '.avif', '.heic', '.pdf', '.zip', '.gz', '.tgz', '.bz2',
  '.xz', '.7z', '.rar', '.mp4', '.m4v', '.mov', '.webm', '.mkv', '.avi', '.mp3', '.m4a', '.aac',
  '.ogg', '.opus', '.flac', '.woff', '.woff2', '.docx', '.xlsx', '.pptx', '.odt', '.ods', '.epub',
]);

export const isCompressible = (file: string) => !COMPRESSED.has(path.extname(file).toLowerCase());

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
