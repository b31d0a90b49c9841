import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

import unzipper from 'unzipper';

import { ArchiveWriter, type Compression } from '../../server/src/engine/archive';
import { deriveKey, keyCheck, newKeyParams, type KeyParams } from '../../server/src/engine/crypto';
import { FORMAT, FORMAT_VERSION, MEDIA_INDEX_ENTRY, type Manifest, type ManifestTable, type MediaFile } from '../../server/src/engine/manifest';
import { toNdjson } from '../../server/src/engine/ndjson';

/** A small archive as ArchiveWriter writes it: three tables (one without an id) and media. */

export const PASSPHRASE = 'correct horse battery staple';

/** scrypt at N = 2^10: the format is the same, a key costs ~2 ms instead of ~100 ms. */
export const cheapKeyParams = (): KeyParams => ({ ...newKeyParams(), N: 2 ** 10 });

export type Rows = Record<string, unknown[][]>;

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

export const TABLES: Array<Pick<ManifestTable, 'name' | 'columns' | 'owner' | 'group'>> = [
  {
    name: 'things',
    owner: 'api::thing.thing',
    group: 'content',
    columns: [
      { name: 'id', type: 'increments' },
      { name: 'document_id', type: 'string' },
      { name: 'title', type: 'string' },
      { name: 'body', type: 'json' },
    ],
  },
  {
    name: 'files',
    owner: 'plugin::upload.file',
    group: 'content',
    columns: [
      { name: 'id', type: 'increments' },
      { name: 'name', type: 'string' },
      { name: 'url', type: 'string' },
    ],
  },
  {
    name: 'things_files_lnk',
    owner: 'api::thing.thing',
    group: 'content',
    columns: [
      { name: 'thing_id', type: 'integer' },
      { name: 'file_id', type: 'integer' },
    ],
  },
];

export const MEDIA: Array<{ path: string; data: Buffer }> = [
  { path: '/uploads/notes.txt', data: Buffer.from('Meeting notes. '.repeat(200)) },
  { path: '/uploads/logo.png', data: Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 251)) },
  { path: '/uploads/empty.bin', data: Buffer.alloc(0) },
];

export const defaultRows = (): Rows => ({
  things: Array.from({ length: 40 }, (_, i) => [
    i + 1,
    `doc${String(i).padStart(4, '0')}`,
    `Thing ${i} — ünïcode`,
    { blocks: [{ type: 'paragraph', text: `line ${i}\nwith a newline inside a string` }] },
  ]),
  files: MEDIA.map((m, i) => [i + 1, m.path.split('/').pop(), m.path]),
  things_files_lnk: Array.from({ length: 12 }, (_, i) => [(i % 40) + 1, (i % 3) + 1]),
});

export interface FixtureOptions {
  passphrase?: string | null;
  compression?: Compression;
  formatVersion?: 1 | 2;
  rows?: Rows;
  /** Rows the manifest claims per table, when a test wants it to differ from the rows written. */
  claimedRows?: Record<string, number>;
  /** Media files instead of MEDIA. */
  media?: Array<{ path: string; data: Buffer }>;
  /** Called with the writer once the archive is written. */
  onWritten?: (writer: ArchiveWriter) => void;
}

/** Writes the archive at `file` and returns its manifest. */
export const writeFixture = async (file: string, options: FixtureOptions = {}): Promise<Manifest> => {
  const rows = options.rows ?? defaultRows();
  const params = options.passphrase ? cheapKeyParams() : null;
  const key = params ? await deriveKey(options.passphrase!, params) : null;
  const writer = new ArchiveWriter(file, { compression: options.compression ?? 'fast', key, formatVersion: options.formatVersion });
  const tables: ManifestTable[] = [];
  for (const table of TABLES) {
    const entry = `tables/${table.name}.ndjson`;
    const data = rows[table.name] ?? [];
    await writer.addEntry(entry, toNdjson(Readable.from([data])), { compressible: true });
    tables.push({
      ...table,
      rows: options.claimedRows?.[table.name] ?? data.length,
      nextId: table.columns[0].name === 'id' ? data.length + 1 : null,
      mode: 'replace',
      filter: null,
      entry,
    });
  }
  const index: MediaFile[] = [];
  const mediaFiles = options.media ?? MEDIA;
  for (const media of mediaFiles) {
    const digest = sha256(media.data);
    await writer.addEntry(`media/${digest}`, Readable.from([media.data]), { compressible: media.path.endsWith('.txt') });
    index.push({ path: media.path.slice(1), sha256: digest, size: media.data.length });
  }
  await writer.addEntry(MEDIA_INDEX_ENTRY, Readable.from([Buffer.from(index.map((m) => `${JSON.stringify(m)}\n`).join(''))]), {
    compressible: true,
  });
  const manifest: Manifest = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    id: '20260101-000000-abcdef',
    name: 'Fixture',
    kind: 'manual',
    createdAt: '2026-01-01T00:00:00.000Z',
    plugin: { version: '0.1.0' },
    strapi: { version: '5.54.0' },
    database: { client: 'sqlite' },
    scope: { contentTypes: 'all', media: true, adminUsers: false, config: false },
    compression: options.compression ?? 'fast',
    encryption: params && key ? { algorithm: 'aes-256-gcm', chunkSize: 64 * 1024, kdf: params, keyCheck: keyCheck(key) } : null,
    contentTypes: [
      { uid: 'api::thing.thing', kind: 'collectionType', displayName: 'Thing', table: 'things', schemaHash: sha256('thing'), rows: tables[0].rows },
    ],
    tables,
    media: { included: true, provider: 'local', files: index.length, bytes: mediaFiles.reduce((n, m) => n + m.data.length, 0), missing: [] },
    entries: writer.written,
    totals: { rows: tables.reduce((n, t) => n + t.rows, 0), bytes: writer.written.reduce((n, e) => n + e.size, 0) },
    timings: {},
    warnings: [],
  };
  await writer.finish(manifest);
  options.onWritten?.(writer);
  return manifest;
};

/** Every entry of a zip in its order, content after the zip's own decompression. */
export const readEntries = async (file: string) => {
  const directory = await unzipper.Open.file(file);
  return Promise.all(directory.files.map(async (f) => ({ name: f.path, data: await f.buffer() })));
};
