import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type { Knex } from 'knex';

import { ArchiveWriter, openArchive, type Compression } from './archive';
import { DEFAULT_CHUNK_SIZE, deriveKey, keyCheck, newKeyParams } from './crypto';
import { EngineError } from './errors';
import {
  FORMAT,
  FORMAT_VERSION,
  MEDIA_INDEX_ENTRY,
  type ContentTypeSummary,
  type Lineage,
  type Manifest,
  type ManifestReference,
  type ManifestTable,
  type MediaFile,
  type RowFilter,
} from './manifest';
import { localFilesOf, worthCompressing, worthCompressingData } from './media';
import { toNdjson } from './ndjson';
import { openSnapshot } from './snapshot';
import type { Storage } from './storage';
import { pauseAt } from './faults';
import type { Dialect } from './values';

export interface BackupTablePlan {
  name: string;
  group: ManifestTable['group'];
  owner: string;
  columns: Array<{ name: string; type: string }>;
  mode: ManifestTable['mode'];
  filter: RowFilter | null;
}

export interface BackupPlan {
  id: string;
  name: string;
  kind: Manifest['kind'];
  scope: Manifest['scope'];
  compression: Compression;
  versions: { plugin: string; strapi: string };
  contentTypes: Array<Omit<ContentTypeSummary, 'rows'>>;
  tables: BackupTablePlan[];
  /** extra: files under the public folder to keep besides those the `files` rows name. */
  media: {
    include: boolean;
    provider: string;
    publicDir: string;
    extra?: string[];
    /** What earlier backups hashed (see MediaHashes); none: every file is hashed. */
    known?: MediaHashes;
    /** A known hash older than this is not trusted: the file is hashed again. */
    rehashAfterMs?: number;
  };
  /** Bytes the archive may take, at most; checked against the free space first. */
  estimatedBytes: number;
  /** The instance writing it and the backup its data was last restored from (imports: three-way merge). */
  lineage?: Lineage;
  /** Tables the planned ones link to but do not include: their rows' identities (see manifest). */
  references?: Array<{ name: string; columns: Array<{ name: string; type: string }> }>;
}

export interface Progress {
  phase: 'snapshot' | 'rows' | 'media' | 'verify' | 'done';
  done: number;
  total: number;
  bytes: number;
}

export interface BackupOptions {
  knex: Knex;
  dialect: Dialect;
  storage: Storage;
  plan: BackupPlan;
  /** Encrypts the archive with a key derived from it; null writes a plain archive. */
  passphrase: string | null;
  onProgress?: (progress: Progress) => void;
  log?: (message: string) => void;
  /**
   * Media files the database names that are not on disk: `warn` writes the backup, which
   * completes with warnings (listed in its manifest); `fail` fails it. Default `warn`.
   */
  missingMedia?: 'warn' | 'fail';
}

/** How many missing paths an error or a warning names. */
const NAMED_PATHS = 5;

/** "240 media files named in the database are missing on disk (first: a.png, b.png, …)". */
export const describeMissing = (missing: string[]) =>
  `${missing.length} media file${missing.length === 1 ? '' : 's'} named in the database ${missing.length === 1 ? 'is' : 'are'} missing on disk ` +
  `(${missing.length > NAMED_PATHS ? 'first: ' : ''}${missing.slice(0, NAMED_PATHS).join(', ')}${missing.length > NAMED_PATHS ? ', …' : ''})`;

export const archiveName = (id: string) => `${id}.pacta.zip`;

/**
 * The SHA-256 of the larger media files as earlier backups read it, by upload path, with the
 * file's size and modification time then and when it was last hashed. A file whose size and
 * modification time did not change is not read a first time to be hashed (it is read once, into
 * the archive, where its bytes are hashed anyway and must give the same SHA-256: a file changed
 * behind an unchanged size and time fails the backup with MEDIA_CHANGED). Small files are read
 * once either way.
 */
export interface KnownHash {
  size: number;
  mtimeMs: number;
  sha256: string;
  hashedAt: number;
}
export type MediaHashes = Map<string, KnownHash>;

const MEDIA_HASH_CONCURRENCY = 8;
/** Media files read whole into memory (once: hash and append), and how many are read per group. */
const SMALL_MEDIA_BYTES = 256 * 1024;
const MEDIA_GROUP = 64;

/** Maps items with at most `limit` calls running at once; results in the items' order. */
const mapLimit = async <T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> => {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
};

/** An id as the archive reader accepts it: a safe integer, or a digit string for big integers. */
const isIntegerId = (id: unknown) => (typeof id === 'number' && Number.isSafeInteger(id)) || (typeof id === 'string' && /^-?\d{1,40}$/.test(id));

/** Whether an id comes after the one before it (both integer ids). */
const idAfter = (id: unknown, before: unknown): boolean =>
  typeof id === 'number' && typeof before === 'number' ? id > before : BigInt(id as string | number) > BigInt(before as string | number);

/** The SHA-256 of a file's bytes, read as a stream. */
export const sha256OfFile = async (file: string) => {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
};

/**
 * Writes a backup: a consistent snapshot of the planned tables and the media files they name,
 * into an archive under a temporary name; the archive is read back and checked, and only then
 * takes its final name. Any failure removes the partial file: a backup is listed only when it
 * is complete and verified.
 */
export const runBackup = async ({ knex, dialect, storage, plan, passphrase, onProgress, log = () => {}, missingMedia = 'warn' }: BackupOptions) => {
  const started = Date.now();
  const timings: Record<string, number> = {};
  const space = await storage.space();
  if (space.free < plan.estimatedBytes) {
    throw new EngineError(
      'NO_SPACE',
      `Not enough free space in ${storage.location}: about ${plan.estimatedBytes} bytes needed, ${space.free} free`,
      { needed: plan.estimatedBytes, free: space.free }
    );
  }

  const keyParams = passphrase ? newKeyParams() : null;
  const key = passphrase && keyParams ? await deriveKey(passphrase, keyParams) : null;
  const name = archiveName(plan.id);
  const tempFile = await storage.tempPath(name);
  const writer = new ArchiveWriter(tempFile, { compression: plan.compression, key });
  const snapshot = await openSnapshot(knex, dialect).catch(async (error) => {
    await writer.abort();
    throw error;
  });
  timings.snapshotMs = Date.now() - started;

  const progress: Progress = { phase: 'rows', done: 0, total: 0, bytes: 0 };
  const report = () => onProgress?.({ ...progress, bytes: writer.bytes });
  try {
    const tables: ManifestTable[] = [];
    const counts = new Map<string, number>();
    for (const table of plan.tables) {
      const count = await snapshot.count({ name: table.name, columns: table.columns.map((c) => c.name), filter: table.filter });
      counts.set(table.name, count);
      progress.total += count;
    }
    report();

    const mediaPaths = new Set<string>();
    const rowsStarted = Date.now();
    let previous: Promise<unknown> | null = null;
    for (const table of plan.tables) {
      const columns = table.columns.map((c) => c.name);
      const types = table.columns.map((c) => c.type);
      const isFiles = plan.media.include && table.name === 'files';
      const urlIndex = columns.indexOf('url');
      const formatsIndex = columns.indexOf('formats');
      const providerIndex = columns.indexOf('provider');
      const idIndex = columns.indexOf('id');
      const expected = counts.get(table.name)!;
      let read = 0;
      let lastId: unknown = null;
      // The checks the read-back would make by parsing the rows again (archive checkRows), made
      // here on the values: as many rows as counted, each as wide as the columns, ids ascending.
      const bad = (problem: string) =>
        new EngineError('BAD_ROWS', `The table ${table.name} did not read back as counted: ${problem}`, { table: table.name });
      async function* canonical() {
        for await (const rows of snapshot.rows({ name: table.name, columns, filter: table.filter }, types)) {
          read += rows.length;
          if (read > expected) throw bad(`more than the ${expected} rows counted in the same snapshot`);
          for (const row of rows) {
            if (row.length !== columns.length) throw bad(`a row of ${row.length} values for ${columns.length} columns`);
            if (idIndex >= 0) {
              const id = row[idIndex];
              if (!isIntegerId(id)) throw bad('an id that is not an integer');
              if (lastId !== null && !idAfter(id, lastId)) throw bad(`id ${String(id)} after id ${String(lastId)}: not in id order`);
              lastId = id;
            }
          }
          if (isFiles) {
            for (const row of rows) {
              const files = localFilesOf({ url: row[urlIndex], formats: row[formatsIndex], provider: row[providerIndex] });
              files.forEach((file) => mediaPaths.add(file));
            }
          }
          progress.done += rows.length;
          report();
          yield rows;
        }
      }
      // Where the database writes the lines itself (PostgreSQL, MariaDB), they go to the
      // compressor as they come: counted, not parsed. Its ids are the table's integer primary key
      // read in order and its lines as wide as the columns by construction (bulk/*-json-read.ts);
      // the files table takes the rows, whose values name the media files.
      const lines = isFiles ? null : await snapshot.lines({ name: table.name, columns, filter: table.filter }, types);
      async function* counted(chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          let rows = 0;
          for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) rows += 1;
          read += rows;
          if (read > expected) throw bad(`more than the ${expected} rows counted in the same snapshot`);
          progress.done += rows;
          report();
          yield chunk;
        }
      }
      const entry = `tables/${table.name}.ndjson`;
      // The table is read to its end here; its last blocks are compressed and written while the
      // next table is read (one entry in the writer at most besides the one being read).
      const body = lines ? Readable.from(counted(lines)) : toNdjson(canonical());
      const queued = writer.queueEntry(entry, body, { compressible: true });
      await queued.read;
      if (read !== expected) throw bad(`${read} rows where ${expected} were counted in the same snapshot`);
      await previous;
      previous = queued.written;
      tables.push({
        ...table,
        rows: counts.get(table.name)!,
        nextId: await snapshot.nextId(table.name),
        entry,
      });
      if (tables.length === 1) await pauseAt('rows');
    }
    // Where links into tables the backup does not hold go: each row's identity, same snapshot.
    const references: ManifestReference[] = [];
    for (const reference of plan.references ?? []) {
      const columns = reference.columns.map((c) => c.name);
      const types = reference.columns.map((c) => c.type);
      let rows = 0;
      async function* identities() {
        for await (const batch of snapshot.rows({ name: reference.name, columns, filter: null }, types)) {
          rows += batch.length;
          yield batch;
        }
      }
      const entry = `refs/${reference.name}.ndjson`;
      const queued = writer.queueEntry(entry, toNdjson(identities()), { compressible: true });
      await queued.read;
      await previous;
      previous = queued.written;
      references.push({ name: reference.name, columns: reference.columns, rows, entry });
    }
    await previous;
    await snapshot.close();
    timings.rowsMs = Date.now() - rowsStarted;

    // Media: each distinct file once, named by its SHA-256.
    const mediaStarted = Date.now();
    const mediaFiles: MediaFile[] = [];
    const missing: string[] = [];
    const stored = new Set<string>();
    let mediaBytes = 0;
    const hashes: MediaHashes = new Map();
    let reusedHashes = 0;
    const rehashAfterMs = plan.media.rehashAfterMs ?? 0;
    if (plan.media.include) {
      for (const extra of plan.media.extra ?? []) mediaPaths.add(extra);
      progress.phase = 'media';
      progress.done = 0;
      progress.total = mediaPaths.size;
      report();
      // Files are read a group at a time, several at once (their reads overlap). A small file is
      // read once, hashed and appended from memory; a larger one is hashed, then streamed. The
      // group's entries are queued without waiting for each (the zip takes them in order) while
      // the next group is read: at most two groups in memory.
      const paths = [...mediaPaths].sort();
      let lastWritten: Promise<unknown> | null = null;
      for (let at = 0; at < paths.length; at += MEDIA_GROUP) {
        const group = await mapLimit(paths.slice(at, at + MEDIA_GROUP), MEDIA_HASH_CONCURRENCY, async (relative) => {
          const file = path.join(plan.media.publicDir, relative);
          const stat = await fs.promises.stat(file).catch(() => null);
          if (!stat?.isFile()) return { relative, file, size: 0, sha256: null, data: null };
          if (stat.size <= SMALL_MEDIA_BYTES) {
            const data = await fs.promises.readFile(file);
            return { relative, file, size: data.length, sha256: createHash('sha256').update(data).digest('hex'), data };
          }
          const known = plan.media.known?.get(relative);
          if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs && mediaStarted - known.hashedAt < rehashAfterMs) {
            hashes.set(relative, known);
            reusedHashes += 1;
            return { relative, file, size: stat.size, sha256: known.sha256, data: null };
          }
          const sha256 = await sha256OfFile(file);
          hashes.set(relative, { size: stat.size, mtimeMs: stat.mtimeMs, sha256, hashedAt: mediaStarted });
          return { relative, file, size: stat.size, sha256, data: null };
        });
        await lastWritten;
        for (const { relative, file, size, sha256, data } of group) {
          if (!sha256) {
            missing.push(relative);
            continue;
          }
          if (!stored.has(sha256)) {
            const entry = `media/${sha256}`;
            if (data) {
              lastWritten = writer.queueEntry(entry, Readable.from([data]), { compressible: worthCompressingData(file, data) }).written;
            } else {
              const written = await writer.addEntry(entry, fs.createReadStream(file), { compressible: await worthCompressing(file) });
              lastWritten = Promise.resolve(written);
              // Read twice (hashed, then into the archive) or its hash known: the bytes written
              // must be the ones its name says.
              if (written.sha256 !== sha256) {
                throw new EngineError(
                  'MEDIA_CHANGED',
                  `The media file ${relative} changed while it was backed up (or behind an unchanged size and modification time); the backup was not written: run it again`
                );
              }
            }
            stored.add(sha256);
            mediaBytes += size;
          }
          mediaFiles.push({ path: relative, sha256, size });
          progress.done += 1;
          report();
        }
      }
      await lastWritten;
      if (missing.length && missingMedia === 'fail') {
        throw new EngineError('MEDIA_MISSING', `${describeMissing(missing)}; the backup was not written (media.missing is "fail")`, {
          missing: missing.length,
          paths: missing.slice(0, NAMED_PATHS),
        });
      }
      const index = mediaFiles.map((m) => `${JSON.stringify(m)}\n`).join('');
      await writer.addEntry(MEDIA_INDEX_ENTRY, Readable.from([Buffer.from(index)]), { compressible: true });
      if (missing.length) log(`warning: ${describeMissing(missing)}`);
      if (reusedHashes) log(`media: ${reusedHashes} of ${hashes.size} larger files not read twice (size and modification time unchanged, hashed within the last ${Math.round(rehashAfterMs / 86_400_000)} days)`);
    }
    timings.mediaMs = Date.now() - mediaStarted;

    const counted = (table: string) => tables.find((t) => t.name === table)?.rows ?? 0;
    const manifest: Manifest = {
      format: FORMAT,
      formatVersion: FORMAT_VERSION,
      id: plan.id,
      name: plan.name,
      kind: plan.kind,
      createdAt: new Date(started).toISOString(),
      plugin: { version: plan.versions.plugin },
      strapi: { version: plan.versions.strapi },
      database: { client: dialect },
      scope: plan.scope,
      compression: plan.compression,
      encryption:
        key && keyParams
          ? { algorithm: 'aes-256-gcm', chunkSize: DEFAULT_CHUNK_SIZE, kdf: keyParams, keyCheck: keyCheck(key) }
          : null,
      contentTypes: plan.contentTypes.map((ct) => ({ ...ct, rows: counted(ct.table) })),
      ...(plan.lineage ? { lineage: plan.lineage } : {}),
      ...(references.length ? { references } : {}),
      tables,
      media: {
        included: plan.media.include,
        provider: plan.media.provider,
        files: mediaFiles.length,
        bytes: mediaBytes,
        missing,
      },
      entries: writer.written,
      totals: { rows: tables.reduce((n, t) => n + t.rows, 0), bytes: 0 },
      timings,
      warnings: [
        ...(plan.media.include || plan.media.provider === 'local'
          ? []
          : [`Media files of the "${plan.media.provider}" upload provider are not included: only their database rows are.`]),
        ...(missing.length ? [describeMissing(missing)] : []),
      ],
    };
    manifest.totals.bytes = writer.written.reduce((n, e) => n + e.size, 0);
    timings.writeMs = Date.now() - started;
    const size = await writer.finish(manifest);
    const sha256 = writer.sha256;

    // Read everything back before the archive is listed.
    progress.phase = 'verify';
    progress.done = 0;
    progress.total = manifest.entries.length;
    report();
    await pauseAt('verify');
    const verifyStarted = Date.now();
    const opened = await openArchive(tempFile, { passphrase });
    // Every entry read back (size, SHA-256); the rows were checked as they were written.
    const verification = await opened.verify(
      () => {
        progress.done += 1;
        report();
      },
      { rows: false }
    );
    if (!verification.ok) {
      const bad = verification.entries.find((e) => !e.ok);
      throw new EngineError('CHECKSUM', `The written archive does not read back: ${bad?.path}: ${bad?.error}`);
    }
    await storage.commit(tempFile, name);
    const verifiedAt = new Date().toISOString();
    await storage.writeMeta(name, { verifiedAt, verifyMs: Date.now() - verifyStarted });
    progress.phase = 'done';
    progress.done = progress.total;
    report();
    // sha256: the file's bytes as written (the file is renamed, not rewritten, by the commit).
    return { manifest, size, sha256, verifiedAt, durationMs: Date.now() - started, mediaHashes: hashes };
  } catch (error) {
    await snapshot.close().catch(() => undefined);
    await writer.abort().catch(() => undefined);
    await fs.promises.rm(tempFile, { force: true });
    throw error;
  }
};
