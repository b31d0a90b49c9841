import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import unzipper from 'unzipper';
import { gunzipSync, gzipSync } from 'node:zlib';

import { z } from 'zod';

import { EngineError } from '../errors';
import { MANIFEST_MAC_ENTRY, SEALED_MANIFEST_ENTRY } from '../manifest';
import type { Backend, BackendObject } from './types';

/**
 * Deduplicated off-site copies (`offsite.deduplicate`): an archive is stored as the data of its
 * zip entries, each an immutable object named by the SHA-256 of its bytes (`obj-<sha256>`), and
 * an index (`<id>.pacta.index`) that lists, in order, the bytes between them (zip headers and the
 * central directory, inline) and the objects. A deflated entry is cut into several objects at
 * its content-defined pieces (piecesOf). A copy uploads only the objects the backend lacks: a
 * media file, or a run of a table's rows, that is byte for byte the same as in an earlier backup
 * is not sent again. The index is written last, so a copy a crash stops leaves objects no index names
 * (collected by the next purge), never an index that names a missing object. Fetching assembles
 * the same archive, byte for byte, and checks each object's SHA-256 and the whole archive's.
 *
 * Objects are the entries as stored in the zip: plain archives deduplicate (the same media file
 * or table gives the same deflated bytes); encrypted archives seal each entry with its own
 * random IV, so their entries never repeat and a copy sends the whole archive, as without this.
 */
export const INDEX_SUFFIX = '.pacta.index';
export const OBJECT_PREFIX = 'obj-';
export const indexName = (id: string) => `${id}${INDEX_SUFFIX}`;
const objectName = (sha256: string) => `${OBJECT_PREFIX}${sha256}`;
/** A backup copied whole (not deduplicated). */
const ARCHIVE_OBJECT = /^([0-9A-Za-z-]+)\.pacta\.zip$/;

/**
 * Entries smaller than this stay inline in the index (an object per tiny entry costs a request
 * for little). Measured on the S dataset (200 media files, mostly under 16 KB): at 16 KB the
 * media stayed inline and an unchanged second copy sent 39 % of the archive; at 1 KB it sends
 * only the entries that changed.
 */
const MIN_OBJECT = 1024;
/** Objects uploaded at once, and fetched ahead of the one an assembly writes. */
const PUT_CONCURRENCY = 4;
const FETCH_AHEAD = 4;
/** An index is read whole: past this it is refused as no index of ours. */
const MAX_INDEX_BYTES = 256 * 1024 * 1024;
const LOCAL_HEADER = 0x04034b50;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const indexSchema = z
  .object({
    format: z.literal('pacta-backup-offsite-index'),
    version: z.literal(1),
    id: z.string().regex(/^[0-9A-Za-z-]+$/),
    size: z.number().int().nonnegative(),
    sha256: sha256Hex,
    createdAt: z.string(),
    segments: z.array(z.union([z.object({ inline: z.string() }).strict(), z.object({ object: sha256Hex, size: z.number().int().positive() }).strict()])),
  })
  .strict();
export type OffsiteIndex = z.infer<typeof indexSchema>;

export interface ChunkedCopy {
  /** Objects sent, and their bytes; objects already there, and theirs. */
  sent: { objects: number; bytes: number };
  reused: { objects: number; bytes: number };
}

/** A sync flush's marker: the empty stored block that ends each piece ParallelDeflate deflates. */
const SYNC_MARKER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const DEFLATE_METHOD = 8;
const STORED_MEDIA = /^media\/([0-9a-f]{64})$/;

interface Piece {
  start: number;
  end: number;
  sha256: string;
}

/**
 * The objects of one entry's data (`start`–`end` in `file`), each with its SHA-256, in one read.
 * A deflated entry is cut after each sync flush marker that ends at least MIN_OBJECT bytes
 * after the last cut: our archives deflate table rows in content-defined pieces, each ending with
 * one (engine/deflate.ts), so an unchanged run of rows gives the same objects as before. The
 * marker may also occur by chance inside deflated data; a cut there is only one more object, as
 * the same bytes cut the same way every time. Stored entries (media) are one object.
 */
const piecesOf = async (file: string, start: number, end: number, deflated: boolean): Promise<Piece[]> => {
  const pieces: Piece[] = [];
  let hash = createHash('sha256');
  let pieceStart = start;
  let at = start;
  // The last bytes of the previous read, so that a marker split across two reads is found.
  let carry: Buffer = Buffer.alloc(0);
  if (end > start) {
    for await (const read of fs.createReadStream(file, { start, end: end - 1 })) {
      const chunk = read as Buffer;
      if (deflated) {
        // Markers that start in the previous read's last bytes (found in a few bytes, not a copy of the read).
        const seam = Buffer.concat([carry, chunk.subarray(0, SYNC_MARKER.length - 1)]);
        const found = [] as number[];
        for (let i = seam.indexOf(SYNC_MARKER); i >= 0; i = seam.indexOf(SYNC_MARKER, i + 1)) found.push(at - carry.length + i + SYNC_MARKER.length);
        for (let i = chunk.indexOf(SYNC_MARKER); i >= 0; i = chunk.indexOf(SYNC_MARKER, i + 1)) found.push(at + i + SYNC_MARKER.length);
        for (const cut of found) {
          if (cut - pieceStart < MIN_OBJECT || cut >= end) continue;
          hash.update(chunk.subarray(Math.max(0, pieceStart - at), cut - at));
          pieces.push({ start: pieceStart, end: cut, sha256: hash.digest('hex') });
          hash = createHash('sha256');
          pieceStart = cut;
        }
        carry = chunk.length >= SYNC_MARKER.length - 1 ? chunk.subarray(chunk.length - (SYNC_MARKER.length - 1)) : Buffer.concat([carry, chunk]).subarray(-(SYNC_MARKER.length - 1));
      }
      hash.update(chunk.subarray(Math.max(0, pieceStart - at)));
      at += chunk.length;
    }
  }
  pieces.push({ start: pieceStart, end, sha256: hash.digest('hex') });
  return pieces;
};

const readRange = async (handle: fs.promises.FileHandle, start: number, end: number) => {
  const buffer = Buffer.alloc(end - start);
  let read = 0;
  while (read < buffer.length) {
    const { bytesRead } = await handle.read(buffer, read, buffer.length - read, start + read);
    if (!bytesRead) throw new EngineError('NOT_AN_ARCHIVE', 'The archive ends before its entries do');
    read += bytesRead;
  }
  return buffer;
};

/**
 * Copies the archive `file` (its SHA-256 `sha256`) as objects and an index, written last.
 * `resend`: object names sent again even when the backend has them (those a check found damaged:
 * the write replaces them whole).
 */
export const putChunked = async (
  backend: Backend,
  { file, id, sha256, resend }: { file: string; id: string; sha256: string; resend?: ReadonlySet<string> },
  onProgress?: (done: number, total: number) => void
): Promise<ChunkedCopy> => {
  const size = (await fs.promises.stat(file)).size;
  const directory = await unzipper.Open.file(file);
  const entries = directory.files
    .map((entry) => ({ path: entry.path, offset: Number(entry.offsetToLocalFileHeader), size: Number(entry.compressedSize) }))
    .sort((a, b) => a.offset - b.offset);
  // Only a plain archive stores media files as they are (an encrypted one of format 1 keeps the
  // names `media/<SHA-256>` for sealed bytes).
  const plain = !directory.files.some((entry) => entry.path === MANIFEST_MAC_ENTRY || entry.path === SEALED_MANIFEST_ENTRY);
  const present = new Set((await backend.list()).map((object) => object.name));
  const result: ChunkedCopy = { sent: { objects: 0, bytes: 0 }, reused: { objects: 0, bytes: 0 } };
  const segments: OffsiteIndex['segments'] = [];
  const handle = await fs.promises.open(file, 'r');
  // Objects upload PUT_CONCURRENCY at a time (a table is many small objects: one at a time, each
  // request's round trip would add up). A failure stops the copy once those under way are done,
  // before the index, so no index names an object that is not there.
  const uploads = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  const upload = async (name: string, range: { file: string; start: number; end: number }, digest: string) => {
    while (uploads.size >= PUT_CONCURRENCY) await Promise.race(uploads);
    if (failure) throw failure.error;
    const task: Promise<void> = backend.put(name, range, digest).then(
      () => undefined,
      (error: unknown) => {
        failure ??= { error };
      }
    );
    uploads.add(task);
    task.finally(() => uploads.delete(task));
  };
  const uploaded = async () => {
    await Promise.all(uploads);
    if (failure) throw failure.error;
  };
  try {
    let position = 0;
    const inline = async (end: number) => {
      if (end <= position) return;
      segments.push({ inline: (await readRange(handle, position, end)).toString('base64') });
      position = end;
    };
    for (const entry of entries) {
      const header = await readRange(handle, entry.offset, entry.offset + 30);
      if (header.readUInt32LE(0) !== LOCAL_HEADER) throw new EngineError('NOT_AN_ARCHIVE', `No zip entry at offset ${entry.offset}`);
      const start = entry.offset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
      const end = start + entry.size;
      if (start < position || end > size) throw new EngineError('NOT_AN_ARCHIVE', `A zip entry at offset ${entry.offset} overlaps another or the end`);
      if (entry.size < MIN_OBJECT) continue;
      await inline(start);
      const deflated = header.readUInt16LE(8) === DEFLATE_METHOD;
      // A media file stored as it is (`media/<its SHA-256>`, bytes the backup checked against
      // that name) that the backend has already is not read at all: an unchanged media library
      // costs no reading. One the backend lacks is read and hashed like any other entry.
      const named = deflated || !plain ? undefined : STORED_MEDIA.exec(entry.path)?.[1];
      const known = named && present.has(objectName(named)) && !resend?.has(objectName(named)) ? [{ start, end, sha256: named }] : null;
      for (const piece of known ?? (await piecesOf(file, start, end, deflated))) {
        const pieceSize = piece.end - piece.start;
        if (present.has(objectName(piece.sha256)) && !resend?.has(objectName(piece.sha256))) {
          result.reused.objects += 1;
          result.reused.bytes += pieceSize;
        } else {
          await upload(objectName(piece.sha256), { file, start: piece.start, end: piece.end }, piece.sha256);
          present.add(objectName(piece.sha256));
          result.sent.objects += 1;
          result.sent.bytes += pieceSize;
        }
        segments.push({ object: piece.sha256, size: pieceSize });
        position = piece.end;
        onProgress?.(position, size);
      }
    }
    await inline(size);
    await uploaded();
  } finally {
    // Nothing goes on uploading after the copy returned or failed.
    await Promise.all(uploads);
    await handle.close();
  }
  const index: OffsiteIndex = { format: 'pacta-backup-offsite-index', version: 1, id, size, sha256, createdAt: new Date().toISOString(), segments };
  const scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'pacta-index-'));
  try {
    const indexFile = path.join(scratch, 'index.json.gz');
    // Gzipped: the zip headers and central directory inline in it compress well.
    const bytes = gzipSync(JSON.stringify(index));
    await fs.promises.writeFile(indexFile, bytes, { mode: 0o600 });
    // Last: from now on the copy exists, and every object it names is there.
    await backend.put(indexName(id), indexFile, createHash('sha256').update(bytes).digest('hex'));
    result.sent.bytes += bytes.length;
  } finally {
    await fs.promises.rm(scratch, { recursive: true, force: true });
  }
  onProgress?.(size, size);
  return result;
};

/** Reads and checks an index (its own SHA-256 checked by the backend's fetch). */
export const readIndex = async (backend: Backend, name: string): Promise<OffsiteIndex> => {
  const scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'pacta-index-'));
  try {
    const file = path.join(scratch, 'index.json.gz');
    const { size } = await backend.fetch(name, file);
    if (size > MAX_INDEX_BYTES) throw new EngineError('CHECKSUM', `The off-site index ${name} is ${size} bytes: no index of ours`);
    let json: string;
    try {
      json = gunzipSync(await fs.promises.readFile(file), { maxOutputLength: MAX_INDEX_BYTES }).toString('utf8');
    } catch {
      throw new EngineError('CHECKSUM', `The off-site index ${name} is not one PACTA Backup wrote (not gzip, or too large)`);
    }
    const parsed = indexSchema.safeParse(JSON.parse(json));
    if (!parsed.success) throw new EngineError('CHECKSUM', `The off-site index ${name} is not one PACTA Backup wrote`);
    return parsed.data;
  } catch (error) {
    if (error instanceof SyntaxError) throw new EngineError('CHECKSUM', `The off-site index ${name} is not JSON`);
    throw error;
  } finally {
    await fs.promises.rm(scratch, { recursive: true, force: true });
  }
};

/**
 * Assembles the archive of `id` into `file` from its index and objects: each object's SHA-256
 * checked as it is fetched, then the whole archive's size and SHA-256. A copy that does not
 * match leaves no file.
 */
export const fetchChunked = async (
  backend: Backend,
  id: string,
  file: string,
  onProgress?: (done: number, total: number) => void
): Promise<{ size: number; sha256: string }> => {
  const index = await readIndex(backend, indexName(id));
  if (index.id !== id) throw new EngineError('CHECKSUM', `The off-site index of ${id} describes ${index.id}`);
  const scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'pacta-assemble-'));
  const hash = createHash('sha256');
  let size = 0;
  const out = fs.createWriteStream(file, { mode: 0o600 });
  const write = (bytes: Buffer) =>
    new Promise<void>((resolve, reject) => {
      hash.update(bytes);
      size += bytes.length;
      out.write(bytes, (error) => (error ? reject(error) : resolve()));
    });
  // Objects are fetched FETCH_AHEAD at a time ahead of the one being written, each to its own file.
  const fetching = new Map<number, Promise<string>>();
  const objectSegments = index.segments.flatMap((segment, i) => ('object' in segment ? [i] : []));
  let ahead = 0;
  const fetchAhead = () => {
    while (ahead < objectSegments.length && fetching.size < FETCH_AHEAD) {
      const i = objectSegments[ahead];
      ahead += 1;
      const { object } = index.segments[i] as { object: string };
      const part = path.join(scratch, `${i}-${object}`);
      const task = backend.fetch(objectName(object), part).then(() => part);
      task.catch(() => undefined);
      fetching.set(i, task);
    }
  };
  try {
    for (const [i, segment] of index.segments.entries()) {
      if ('inline' in segment) {
        await write(Buffer.from(segment.inline, 'base64'));
      } else {
        fetchAhead();
        const part = await fetching.get(i)!;
        fetching.delete(i);
        fetchAhead();
        for await (const chunk of fs.createReadStream(part)) await write(chunk as Buffer);
        await fs.promises.rm(part, { force: true });
      }
      onProgress?.(size, index.size);
    }
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    const sha256 = hash.digest('hex');
    if (size !== index.size || sha256 !== index.sha256) {
      throw new EngineError('CHECKSUM', `The off-site copy of ${id} is damaged: the assembled archive does not match its SHA-256`);
    }
    return { size, sha256 };
  } catch (error) {
    out.destroy();
    await fs.promises.rm(file, { force: true });
    throw error;
  } finally {
    await Promise.allSettled(fetching.values());
    await fs.promises.rm(scratch, { recursive: true, force: true });
  }
};

export interface Collected {
  indexes: number;
  kept: number;
  deleted: Array<Pick<BackendObject, 'name' | 'size'>>;
  bytes: number;
  /** The bytes stored before, and the repository after the collection (with dryRun: as it would be). */
  before: { storedBytes: number };
  after: RepositoryFigures;
}

/**
 * The second phase of a purge: objects no index names, older than `marginMs` (an object a copy
 * still running elsewhere has just written is younger). Run under the job lock, after the
 * indexes of deleted backups are gone. Any index it cannot read stops it before it deletes
 * anything: it never deletes from a partial view. Reports the bytes stored before and after.
 */
export const collectGarbage = async (
  backend: Backend,
  { marginMs, now = new Date(), dryRun = false, without = [] }: { marginMs: number; now?: Date; dryRun?: boolean; without?: string[] }
): Promise<Collected> => {
  // `without`: indexes counted as deleted (a dry run of a purge that would delete their backups).
  const listed = await backend.list();
  const objects = listed.filter((object) => !without.includes(object.name));
  const names = new Set(objects.map((object) => object.name));
  const indexes = objects.filter((object) => object.name.endsWith(INDEX_SUFFIX));
  const archives = objects.filter((object) => ARCHIVE_OBJECT.test(object.name));
  const referenced = new Set<string>();
  let logicalBytes = archives.reduce((n, object) => n + object.size, 0);
  for (const entry of indexes) {
    const index = await readIndex(backend, entry.name);
    if (!names.has(`${index.id}.pacta.zip`)) logicalBytes += index.size;
    for (const segment of index.segments) if ('object' in segment) referenced.add(objectName(segment.object));
  }
  const stored = objects.filter((object) => object.name.startsWith(OBJECT_PREFIX));
  const garbage = stored.filter((object) => !referenced.has(object.name) && now.getTime() - object.modifiedAt.getTime() >= marginMs);
  if (!dryRun) for (const object of garbage) await backend.delete(object.name);
  const bytes = garbage.reduce((n, object) => n + object.size, 0);
  const storedBytes = listed.reduce((n, object) => n + object.size, 0);
  // After the collection (a dry run: after the purge it previews, its indexes and these objects gone).
  const gone = listed.length - objects.length + garbage.length;
  const goneBytes = storedBytes - objects.reduce((n, object) => n + object.size, 0) + bytes;
  return {
    indexes: indexes.length,
    kept: stored.length - garbage.length,
    deleted: garbage.map(({ name, size }) => ({ name, size })),
    bytes,
    before: { storedBytes },
    after: {
      backups: new Set([...archives.map((object) => object.name.slice(0, -'.pacta.zip'.length)), ...indexes.map((object) => object.name.slice(0, -INDEX_SUFFIX.length))]).size,
      objects: listed.length - gone,
      storedBytes: storedBytes - goneBytes,
      logicalBytes,
    },
  };
};


export interface RepositoryFigures {
  /** Backups off-site: deduplicated (an index) and whole archives. */
  backups: number;
  /** Objects in the backend, every kind, and their bytes. */
  objects: number;
  storedBytes: number;
  /** The sizes of the archives the backups assemble to: what whole-archive copies would store. */
  logicalBytes: number;
}

export interface RepositoryCheck extends RepositoryFigures {
  /** Objects read whole and checked against their SHA-256 (a random sample). */
  sampled: { objects: number; bytes: number };
  /** What is wrong: an object missing, of the wrong size, unreadable or not matching its digest; an index unreadable. */
  damaged: Array<{ name: string; reason: string }>;
  /** The backups whose copy would not come back (newest first). */
  affected: string[];
}

/**
 * The repository check: reads and checks every index; checks that every object an index names
 * is there with its size; then reads a random sample of the objects backups use (whole-archive
 * copies included) and checks each against its SHA-256, which is what finds bytes rotted or
 * replaced in the bucket. Names the backups a damaged object or index breaks. Never deletes or
 * changes anything. `samplePercent` 100 reads everything; at least one object when above 0.
 */
export const checkRepository = async (
  backend: Backend,
  { samplePercent, random = Math.random, onProgress }: { samplePercent: number; random?: () => number; onProgress?: (done: number, total: number) => void }
): Promise<RepositoryCheck> => {
  const objects = await backend.list();
  const byName = new Map(objects.map((object) => [object.name, object]));
  const damaged: RepositoryCheck['damaged'] = [];
  const affected = new Set<string>();
  /** Object name → the backups that use it. */
  const users = new Map<string, Set<string>>();
  const use = (name: string, id: string) => {
    if (!users.has(name)) users.set(name, new Set());
    users.get(name)!.add(id);
  };
  let backups = 0;
  let logicalBytes = 0;
  for (const object of objects) {
    const archive = ARCHIVE_OBJECT.exec(object.name);
    if (archive) {
      backups += 1;
      logicalBytes += object.size;
      use(object.name, archive[1]);
      continue;
    }
    if (!object.name.endsWith(INDEX_SUFFIX)) continue;
    const id = object.name.slice(0, -INDEX_SUFFIX.length);
    // A deduplicated copy that replaced a whole archive of the same backup is counted once.
    if (!byName.has(`${id}.pacta.zip`)) backups += 1;
    let index: OffsiteIndex;
    try {
      index = await readIndex(backend, object.name);
    } catch (error) {
      damaged.push({ name: object.name, reason: (error as Error).message });
      affected.add(id);
      continue;
    }
    if (!byName.has(`${id}.pacta.zip`)) logicalBytes += index.size;
    for (const segment of index.segments) {
      if (!('object' in segment)) continue;
      const name = objectName(segment.object);
      use(name, id);
      const stored = byName.get(name);
      if (!stored || stored.size !== segment.size) {
        if (!damaged.some((d) => d.name === name)) {
          damaged.push({ name, reason: stored ? `is ${stored.size} bytes, its index says ${segment.size}` : 'is missing' });
        }
        affected.add(id);
      }
    }
  }
  // The sample: objects backups use that are there and whole in size (the others are reported already).
  const candidates = [...users.keys()].filter((name) => byName.has(name) && !damaged.some((d) => d.name === name));
  const count = samplePercent <= 0 || !candidates.length ? 0 : Math.min(candidates.length, Math.max(1, Math.ceil((candidates.length * samplePercent) / 100)));
  for (let i = 0; i < count; i += 1) {
    const j = i + Math.floor(random() * (candidates.length - i));
    [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
  }
  const sample = candidates.slice(0, count);
  const total = sample.reduce((n, name) => n + byName.get(name)!.size, 0);
  let done = 0;
  const scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'pacta-check-'));
  try {
    for (const name of sample) {
      const file = path.join(scratch, 'object');
      try {
        await backend.fetch(name, file);
      } catch (error) {
        damaged.push({ name, reason: (error as Error).message });
        for (const id of users.get(name) ?? []) affected.add(id);
      } finally {
        await fs.promises.rm(file, { force: true });
      }
      done += byName.get(name)!.size;
      onProgress?.(done, total);
    }
  } finally {
    await fs.promises.rm(scratch, { recursive: true, force: true });
  }
  return {
    backups,
    objects: objects.length,
    storedBytes: objects.reduce((n, object) => n + object.size, 0),
    logicalBytes,
    sampled: { objects: sample.length, bytes: total },
    damaged,
    affected: [...affected].sort((a, b) => b.localeCompare(a)),
  };
};
