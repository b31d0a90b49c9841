import { createHash, createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

import archiver from 'archiver';
import unzipper from 'unzipper';

import { CryptoError, assertKey, createDecryptStream, createEncryptStream, deriveKey } from './crypto';
import { EngineError } from './errors';
import {
  ARCHIVE_LIMITS,
  FORMAT,
  FORMAT_VERSION,
  MANIFEST_CHECKSUM_ENTRY,
  MANIFEST_ENTRY,
  MANIFEST_MAC_ENTRY,
  SEALED_MANIFEST_ENTRY,
  envelopeSchema,
  isSafeEntryPath,
  manifestSchema,
  type ArchiveLimits,
  type Manifest,
  type ManifestEntry,
  type ManifestEnvelope,
  type ManifestTable,
} from './manifest';
import { ParallelDeflate } from './deflate';
import { ndjsonBatches } from './ndjson';

/**
 * The archive: one zip file. Without encryption the zip itself deflates each entry, so a person
 * can unzip a backup and read its NDJSON. With encryption each entry is deflated by us, then
 * sealed with AES-256-GCM (crypto.ts) and stored: compression must come before encryption.
 * Every entry's SHA-256 is taken over its content, before either step, and checked on read.
 *
 * An encrypted archive (format 2) keeps in clear only an envelope (manifest.json: the key
 * parameters, id, kind, createdAt); the full manifest is deflated and sealed in manifest.enc,
 * bound to the envelope. Archives are untrusted input when read: see ARCHIVE_LIMITS.
 */

export type Compression = 'none' | 'fast' | 'best';

/**
 * Deflate levels. `best` is zlib's default level 6, as gzip, `tar czf`, pg_dump and mariadb-dump
 * | gzip use: on the archive's NDJSON, level 9 measured 4 % smaller (9.88 % of the input against
 * 10.28 %) for four times the CPU (17 against 68 MB/s on one core), a third of a backup's time.
 */
const LEVEL: Record<Compression, number> = { none: 0, fast: 1, best: 6 };

const MAC_LABEL = 'pacta-backup manifest';

export const manifestMac = (key: Buffer, manifestBytes: Buffer) =>
  createHmac('sha256', key).update(MAC_LABEL).update(manifestBytes).digest('hex');

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const ENTRY_NAME_LABEL = 'pacta-backup entry name';

/**
 * The name an entry takes in the zip of an encrypted archive of format 2: a MAC of its path
 * under the key, so the zip's directory names no table and no media hash. The manifest keeps the
 * path, and the path stays the entry's AAD.
 */
export const sealedEntryName = (key: Buffer, entryPath: string) =>
  `data/${createHmac('sha256', key).update(ENTRY_NAME_LABEL).update(entryPath).digest('hex').slice(0, 32)}`;

/** The sealed manifest is bound to the envelope it came with: neither can be swapped alone. */
const sealedAad = (envelopeBytes: Buffer) => `${SEALED_MANIFEST_ENTRY}\n${sha256(envelopeBytes)}`;

/** Counts and hashes what flows through it. */
class Digest extends Transform {
  readonly hash = createHash('sha256');
  size = 0;

  _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.hash.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }
}

/** Runs the streams as one pipeline (an error in any stage ends it) and gathers what comes out. */
const collect = async (...streams: Array<NodeJS.ReadableStream | NodeJS.WritableStream>): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  await (pipeline as (...all: unknown[]) => Promise<void>)(...streams, sink);
  return Buffer.concat(chunks);
};

export interface ArchiveWriterOptions {
  compression: Compression;
  /** The archive key (from deriveKey); null writes a plain archive. */
  key: Buffer | null;
  /** The layout to write: the current one unless a test needs an archive of an older format. */
  formatVersion?: 1 | 2;
}

/** The parts of zip-stream's engine (archiver's zip module) that appending deflated data uses. */
interface ZipEngine {
  _smartStream(entry: ZipEntry, callback: (error: Error | null, entry: ZipEntry) => void): NodeJS.WritableStream;
  _afterAppend(entry: ZipEntry): void;
  pipe(destination: NodeJS.WritableStream, options?: { end?: boolean }): unknown;
}

interface ZipEntry {
  getName(): string;
  setCrc(crc: number): void;
  setSize(size: number): void;
  setCompressedSize(size: number): void;
}

/** The CRC-32 and size of an entry's content, known once its deflated data has gone through. */
interface Deflated {
  crc: number;
  size: number;
}

/** What queueEntry gives back: when the source was read to its end, and when the entry is in the zip. */
export interface QueuedEntry {
  read: Promise<void>;
  written: Promise<ManifestEntry>;
}

export class ArchiveWriter {
  private readonly zip: archiver.Archiver;
  private readonly output: fs.WriteStream;
  private readonly done: Promise<void>;
  private failure: Error | null = null;
  private readonly entries: ManifestEntry[] = [];
  /** Entries whose data is deflated already (by ParallelDeflate), by zip name: archiver stores it as is. */
  private readonly deflated = new Map<string, Deflated>();
  /** Every queued entry's completion: finish() waits for them all. */
  private readonly pending: Array<Promise<ManifestEntry>> = [];
  /** Rejects with the first failure of any queued entry: the entries queued after it fail with it. */
  private readonly broken: Promise<never>;
  private breakWith: (error: Error) => void = () => undefined;
  private readonly fileHash = createHash('sha256');
  private fileDigest: string | null = null;

  constructor(
    readonly filePath: string,
    private readonly options: ArchiveWriterOptions
  ) {
    this.zip = archiver('zip', { zlib: { level: LEVEL[options.compression], chunkSize: 256 * 1024 }, forceZip64: false });
    // Every queued entry waits for its own 'entry' event and stops listening once it has it: a
    // backup queues a group of media files at once, more than Node's default of 10 listeners
    // (whose "possible memory leak" warning printed on every CLI backup).
    this.zip.setMaxListeners(0);
    this.hookDeflated();
    this.broken = new Promise<never>((_resolve, reject) => {
      this.breakWith = reject;
    });
    this.broken.catch(() => undefined);
    this.output = fs.createWriteStream(filePath, { flags: 'wx', mode: 0o600 });
    this.done = new Promise((resolve, reject) => {
      this.output.on('close', resolve);
      this.output.on('error', reject);
      this.zip.on('error', reject);
    });
    this.done.catch((error) => {
      this.failure = error;
    });
    // The whole file's SHA-256 as it is written (an off-site copy right after needs it; reading
    // the file again for it costs a full read of a media library).
    this.zip.on('data', (chunk: Buffer) => this.fileHash.update(chunk));
    this.zip.pipe(this.output);
  }

  /** The SHA-256 of the file written (once finish() resolved). */
  get sha256(): string {
    if (this.fileDigest === null) this.fileDigest = this.fileHash.digest('hex');
    return this.fileDigest;
  }

  /**
   * archiver deflates every entry it is not told to store, on one zlib stream (one core). An
   * entry of `this.deflated` comes deflated already, compressed in parallel blocks: its bytes go
   * to the zip as they are, under the deflate method, with the CRC-32 and size of its content —
   * the same entry archiver would have written, made on both cores. This replaces the step of
   * zip-stream (compress-commons' `_smartStream`) that would deflate it, for those entries only;
   * the versions are pinned by the lock file and the archive tests read every entry back.
   */
  private hookDeflated() {
    const engine = (this.zip as unknown as { _module?: { engine?: ZipEngine } })._module?.engine;
    if (!engine || typeof engine._smartStream !== 'function' || typeof engine._afterAppend !== 'function') {
      throw new Error('archiver: the zip engine is not the one this writer knows (zip-stream)');
    }
    const original = engine._smartStream;
    const { deflated } = this;
    engine._smartStream = function smartStream(this: ZipEngine, entry, callback) {
      const known = deflated.get(entry.getName());
      if (!known) return original.call(this, entry, callback);
      deflated.delete(entry.getName());
      let compressedSize = 0;
      let error: Error | null = null;
      const through = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          compressedSize += chunk.length;
          done(null, chunk);
        },
      });
      through.once('end', () => {
        entry.setCrc(known.crc >>> 0);
        entry.setSize(known.size);
        entry.setCompressedSize(compressedSize);
        this._afterAppend(entry);
        callback(error, entry);
      });
      through.once('error', (caught: Error) => {
        error = caught;
      });
      through.pipe(this as unknown as NodeJS.WritableStream, { end: false });
      return through;
    };
  }

  /** The entry `zipName` comes deflated by `deflate`: the zip stores its bytes as they are (hookDeflated). */
  private takesDeflated(zipName: string, deflate: ParallelDeflate) {
    this.deflated.set(zipName, {
      get crc() {
        return deflate.crc;
      },
      get size() {
        return deflate.size;
      },
    });
  }

  get written(): ManifestEntry[] {
    return this.entries;
  }

  /** Bytes written to the file so far. */
  get bytes(): number {
    return this.zip.pointer();
  }

  /**
   * Adds one entry from a stream and resolves once the zip has taken all of it, so entries are
   * written one after the other and memory stays flat.
   */
  async addEntry(entryPath: string, source: Readable, options: { compressible: boolean }) {
    const { written } = this.queueEntry(entryPath, source, options);
    return written;
  }

  /**
   * Queues one entry: the zip takes entries in the order they are queued, one at a time, and
   * reads a source only so far ahead as its stream buffers allow (memory stays flat). `read`
   * resolves when the source has been read to its end — the caller may then start reading the
   * next one (e.g. the next table of a snapshot, while this one is still being compressed and
   * written); `written` when the entry is in the zip. Compressed entries are deflated in
   * parallel blocks (ParallelDeflate) on the threadpool.
   */
  queueEntry(entryPath: string, source: Readable, { compressible }: { compressible: boolean }): QueuedEntry {
    if (!isSafeEntryPath(entryPath)) {
      const error = new EngineError('UNSAFE_PATH', `Unsafe entry path ${entryPath}`);
      return { read: Promise.reject(error), written: Promise.reject(error) };
    }
    if (this.failure) return { read: Promise.reject(this.failure), written: Promise.reject(this.failure) };

    const digest = new Digest();
    const level = LEVEL[this.options.compression];
    const compress = compressible && level > 0;
    let body: Readable = source.pipe(digest);
    let deflate: ParallelDeflate | null = null;
    if (compress) {
      // Plain: cut where the content says, so that off-site copies deduplicate unchanged rows.
      deflate = new ParallelDeflate({ level, chunking: this.options.key ? 'fixed' : 'content' });
      body = body.pipe(deflate);
    }
    if (this.options.key) body = body.pipe(createEncryptStream(this.options.key, { aad: entryPath }));
    source.on('error', (error) => body.destroy(error));
    if (body !== digest) digest.on('error', (error) => body.destroy(error));
    if (deflate && body !== deflate) deflate.on('error', (error) => body.destroy(error));

    const { key } = this.options;
    const zipName = key && (this.options.formatVersion ?? FORMAT_VERSION) === 2 ? sealedEntryName(key, entryPath) : entryPath;
    const read = new Promise<void>((resolve, reject) => {
      source.once('error', reject);
      source.once('end', resolve);
      source.once('close', () => {
        if (!source.readableEnded) reject(new EngineError('TRUNCATED', `The source of ${entryPath} closed before its end`));
      });
      body.on('error', reject);
      this.done.catch(reject);
      this.broken.catch(reject);
    });
    const taken = new Promise<void>((resolve, reject) => {
      const onEntry = (entry: archiver.EntryData) => {
        if (entry.name !== zipName) return;
        this.zip.off('entry', onEntry);
        resolve();
      };
      this.zip.on('entry', onEntry);
      body.on('error', (error) => {
        this.breakWith(error);
        reject(error);
      });
      this.done.catch(reject);
      this.broken.catch(reject);
    });
    // A plain archive's compressed entry is deflated here, and stored by archiver as deflated data.
    if (deflate && !key) this.takesDeflated(zipName, deflate);
    this.zip.append(body, { name: zipName, store: Boolean(key) || !compress });
    const slot = this.entries.length;
    this.entries.push({ path: entryPath, size: 0, sha256: '', compressed: compress });
    const written = taken.then(() => {
      const entry = { path: entryPath, size: digest.size, sha256: digest.hash.digest('hex'), compressed: compress };
      this.entries[slot] = entry;
      return entry;
    });
    // The caller awaits these in its own order; an early failure must not count as unhandled.
    read.catch(() => undefined);
    written.catch(() => undefined);
    this.pending.push(written);
    return { read, written };
  }

  /**
   * Writes the manifest and closes the file. Plain: manifest.json and its checksum. Encrypted:
   * the envelope in clear (manifest.json and its checksum) and the full manifest sealed in
   * manifest.enc (format 2), or, for format 1, manifest.json in clear with its MAC.
   */
  async finish(manifest: Manifest): Promise<number> {
    const { key } = this.options;
    const formatVersion = this.options.formatVersion ?? FORMAT_VERSION;
    const full: Manifest = { ...manifest, formatVersion };
    if (key && !full.encryption) throw new EngineError('BAD_MANIFEST', 'An encrypted archive needs the encryption parameters in its manifest');
    if (!key && full.encryption) throw new EngineError('BAD_MANIFEST', 'A plain archive cannot carry encryption parameters');
    await Promise.all(this.pending);

    if (key && full.encryption && formatVersion === 2) {
      const envelope: ManifestEnvelope = {
        format: FORMAT,
        formatVersion: 2,
        id: full.id,
        kind: full.kind,
        createdAt: full.createdAt,
        encryption: full.encryption,
        sealed: SEALED_MANIFEST_ENTRY,
      };
      const envelopeBytes = Buffer.from(JSON.stringify(envelope, null, 2));
      const sealed = await collect(
        Readable.from([Buffer.from(JSON.stringify(full))]),
        zlib.createDeflateRaw({ level: 9 }),
        createEncryptStream(key, { aad: sealedAad(envelopeBytes) })
      );
      this.zip.append(envelopeBytes, { name: MANIFEST_ENTRY });
      this.zip.append(sha256(envelopeBytes), { name: MANIFEST_CHECKSUM_ENTRY });
      this.zip.append(sealed, { name: SEALED_MANIFEST_ENTRY, store: true });
    } else {
      const bytes = Buffer.from(JSON.stringify(full, null, 2));
      const level = LEVEL[this.options.compression];
      if (!key && level > 0) {
        // Deflated in content-defined pieces as the tables are: the next backup's manifest lists
        // mostly the same entries, and a deduplicated copy then sends only what changed in it.
        const deflate = new ParallelDeflate({ level, chunking: 'content' });
        this.takesDeflated(MANIFEST_ENTRY, deflate);
        this.zip.append(Readable.from([bytes]).pipe(deflate), { name: MANIFEST_ENTRY });
      } else this.zip.append(bytes, { name: MANIFEST_ENTRY });
      this.zip.append(sha256(bytes), { name: MANIFEST_CHECKSUM_ENTRY });
      if (key) this.zip.append(manifestMac(key, bytes), { name: MANIFEST_MAC_ENTRY, store: true });
    }
    await this.zip.finalize();
    await this.done;
    return this.zip.pointer();
  }

  /** Stops writing and removes the partial file. */
  async abort() {
    this.zip.abort();
    this.output.destroy();
    await fs.promises.rm(this.filePath, { force: true });
  }
}

/**
 * Checks a stream against its manifest entry while it flows: it fails as soon as the content
 * passes the size the manifest declares or inflates too far past its compressed size (a zip
 * bomb), and at the end if the SHA-256 or the length differ.
 */
class Verify extends Digest {
  constructor(
    private readonly expected: ManifestEntry,
    /** Bytes the entry takes in the zip, the measure of its compression ratio; null: not checked. */
    private readonly compressedBytes: number | null,
    private readonly limits: ArchiveLimits
  ) {
    super();
  }

  _transform(chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback) {
    const size = this.size + chunk.length;
    const { path: entryPath, size: declared } = this.expected;
    if (size > declared) {
      callback(
        new EngineError('TOO_LARGE', `The archive entry ${entryPath} is larger than the ${declared} bytes its manifest declares`, {
          entry: entryPath,
        })
      );
      return;
    }
    const { maxRatio, ratioGraceBytes } = this.limits;
    if (this.compressedBytes !== null && size > ratioGraceBytes && size > maxRatio * Math.max(1, this.compressedBytes)) {
      callback(
        new EngineError(
          'TOO_LARGE',
          `The archive entry ${entryPath} inflates more than ${maxRatio} times its compressed size (a zip bomb)`,
          { entry: entryPath }
        )
      );
      return;
    }
    super._transform(chunk, encoding, callback);
  }

  _flush(callback: TransformCallback) {
    const digest = this.hash.digest('hex');
    if (digest !== this.expected.sha256 || this.size !== this.expected.size) {
      callback(
        new EngineError(
          'CHECKSUM',
          `The archive entry ${this.expected.path} is damaged: its checksum does not match the manifest`,
          { entry: this.expected.path }
        )
      );
      return;
    }
    callback();
  }
}

const toEngineError = (error: unknown, entryPath: string): Error => {
  if (error instanceof EngineError) return error;
  if (error instanceof CryptoError) {
    if (error.code === 'TRUNCATED') {
      return new EngineError('TRUNCATED', `The archive entry ${entryPath} is cut short`, { entry: entryPath });
    }
    return new EngineError('TAMPERED', `The archive entry ${entryPath} was altered or the key is wrong`, {
      entry: entryPath,
    });
  }
  // A failing disk or a file removed meanwhile is no damage of the archive: it stays as it is.
  if (error instanceof Error && 'syscall' in error) return error;
  const message = error instanceof Error ? error.message : String(error);
  // zlib and unzipper failures (bad deflate data, a record cut short, a bad signature).
  return new EngineError('TAMPERED', `The archive entry ${entryPath} is damaged (${message.split('\n')[0].slice(0, 200)})`, {
    entry: entryPath,
  });
};

export interface OpenedArchive {
  manifest: Manifest;
  /**
   * The archive is encrypted and its manifest's authenticity was checked under the given key
   * (format 2: the sealed manifest's GCM tags; format 1: its MAC). A plain archive is not: anyone
   * can write one.
   */
  authenticated: boolean;
  /** The content of an entry, decrypted, decompressed and checked: an error ends a bad one. */
  open(entryPath: string): Readable;
  /**
   * A table's rows in batches, parsed and checked against the manifest as they come (what
   * verify() checks of them): a restore that read the entries with `rows: false` checks them
   * while it writes them, inside its transaction.
   */
  rows(table: ManifestTable): AsyncGenerator<unknown[][]>;
  /**
   * Reads every entry to its end, checking each (and each table's rows against the table in the
   * manifest); reports entry by entry.
   */
  verify(onEntry?: (entry: ManifestEntry, ok: boolean, error?: Error) => void, options?: VerifyOptions): Promise<VerifyReport>;
}

export interface VerifyOptions {
  /**
   * Whether a table's rows are parsed and checked against the manifest (count, width, id order):
   * yes by default. The backup that has just written the archive checked its rows as it wrote
   * them and reads the archive back without parsing them again: every entry is still read to its
   * end, inflated, decrypted and its size and SHA-256 checked, so the bytes on disk are the ones
   * whose rows were checked.
   */
  rows?: boolean;
}

export interface VerifyReport {
  ok: boolean;
  entries: Array<{ path: string; size: number; ok: boolean; error?: string; code?: string }>;
}

export interface ReadOptions {
  /** The passphrase of encrypted archives. */
  passphrase?: string | null;
  /** Lower caps (tests); the defaults are ARCHIVE_LIMITS. */
  limits?: Partial<ArchiveLimits>;
}

/** Entries read at once by verify(). */
const VERIFY_CONCURRENCY = 2;

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;

/**
 * The entry count the zip's end record claims, read before unzipper parses the central
 * directory (it builds one object per record it is told about).
 */
const declaredEntryCount = async (handle: fs.promises.FileHandle, size: number): Promise<number> => {
  const tailLength = Math.min(size, 22 + 0xffff);
  const tail = Buffer.alloc(tailLength);
  await handle.read(tail, 0, tailLength, size - tailLength);
  let at = -1;
  for (let i = tailLength - 22; i >= 0; i -= 1) {
    if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
      at = i;
      break;
    }
  }
  if (at < 0) throw new EngineError('NOT_AN_ARCHIVE', 'Not a readable backup archive: no zip end record (truncated or not a zip)');
  const count = tail.readUInt16LE(at + 10);
  if (count !== 0xffff && tail.readUInt32LE(at + 16) !== 0xffffffff) return count;
  // Zip64: the locator sits just before the end record and points at the zip64 end record.
  if (at < 20 || tail.readUInt32LE(at - 20) !== ZIP64_LOCATOR_SIGNATURE) return count;
  const offset = Number(tail.readBigUInt64LE(at - 20 + 8));
  if (offset + 56 > size) throw new EngineError('NOT_AN_ARCHIVE', 'Not a readable backup archive: its zip64 end record is out of bounds');
  const record = Buffer.alloc(56);
  await handle.read(record, 0, 56, offset);
  if (record.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) {
    throw new EngineError('NOT_AN_ARCHIVE', 'Not a readable backup archive: its zip64 end record is damaged');
  }
  const wide = record.readBigUInt64LE(32);
  return wide > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(wide);
};

interface Directory {
  files: Map<string, unzipper.File>;
  size: number;
  limits: ArchiveLimits;
}

/**
 * unzipper runs on bluebird, which captures a stack trace for every promise it makes (its "long
 * stack traces") when NODE_ENV is "development": Strapi's default, so the CLI's and a
 * development server's. Opening the directory of the M benchmark's archive (3,083 entries) then
 * made ~150 MB of garbage; without them the read-back of a backup of M went from 3.2 s to 2.5 s.
 * The traces only help to debug code written on bluebird; turned off, once, for the copy
 * unzipper loads.
 */
let bluebirdQuiet = false;
const quietBluebird = () => {
  if (bluebirdQuiet) return;
  bluebirdQuiet = true;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bluebird = require(require.resolve('bluebird', { paths: [path.dirname(require.resolve('unzipper'))] }));
    bluebird.config?.({ longStackTraces: false, warnings: false });
  } catch {
    // An unzipper without bluebird: nothing to turn off.
  }
};

/** unix mode bits of a zip entry made on unix (high half of its external attributes). */
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/**
 * The zip's entries by name, refused when there are too many, when two share a name (readers
 * disagree on which one counts), when a name is unsafe, or when an entry is a symbolic link.
 */
const openDirectory = async (filePath: string, options: ReadOptions): Promise<Directory> => {
  const limits = { ...ARCHIVE_LIMITS, ...options.limits };
  let size: number;
  let count: number;
  try {
    const handle = await fs.promises.open(filePath, 'r');
    try {
      size = (await handle.stat()).size;
      if (size < 22) throw new EngineError('NOT_AN_ARCHIVE', 'Not a readable backup archive: the file is too short to be a zip');
      count = await declaredEntryCount(handle, size);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw new EngineError('NOT_AN_ARCHIVE', `Not a readable backup archive: ${(error as Error).message}`);
  }
  if (count > limits.maxEntries) {
    throw new EngineError('TOO_LARGE', `The archive claims ${count} entries, above the limit of ${limits.maxEntries}`);
  }

  let directory: unzipper.CentralDirectory;
  try {
    quietBluebird();
    directory = await unzipper.Open.file(filePath);
  } catch (error) {
    throw new EngineError(
      'NOT_AN_ARCHIVE',
      `Not a readable backup archive (truncated or not a zip): ${String((error as Error).message).split('\n')[0].slice(0, 200)}`
    );
  }
  if (directory.files.length > limits.maxEntries) {
    throw new EngineError('TOO_LARGE', `The archive holds ${directory.files.length} entries, above the limit of ${limits.maxEntries}`);
  }

  const files = new Map<string, unzipper.File>();
  for (const file of directory.files) {
    if (!isSafeEntryPath(file.path)) {
      throw new EngineError('UNSAFE_PATH', `The archive holds an entry with an unsafe path: ${JSON.stringify(file.path.slice(0, 200))}`);
    }
    if (files.has(file.path)) {
      throw new EngineError('BAD_ENTRY', `The archive holds two entries named ${file.path}`, { entry: file.path });
    }
    if (((file.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) {
      throw new EngineError('BAD_ENTRY', `The archive entry ${file.path} is a symbolic link`, { entry: file.path });
    }
    files.set(file.path, file);
  }
  return { files, size, limits };
};

/** The bytes an entry takes in the file: what its header says, never more than the file. */
const compressedBytesOf = (directory: Directory, file: unzipper.File) => Math.min(file.compressedSize, directory.size);

/** Stops a stream with TOO_LARGE once more than `max` bytes came through. */
const capped = (max: number, what: string) => {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > max) callback(new EngineError('TOO_LARGE', `${what} is larger than the limit of ${max} bytes`));
      else callback(null, chunk);
    },
  });
};

/** A small entry (manifest, checksum), refused from its header's size and cut off past `max` bytes. */
const readSmallEntry = async (file: unzipper.File, max: number, what: string): Promise<Buffer> => {
  if (file.uncompressedSize > max) {
    throw new EngineError('TOO_LARGE', `${what} is larger than the limit of ${max} bytes (${file.uncompressedSize} bytes)`);
  }
  try {
    return await collect(file.stream(), capped(max, what));
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw new EngineError('TAMPERED', `${what} cannot be read: it is damaged`);
  }
};

const parseJson = (bytes: Buffer, what: string): unknown => {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new EngineError('BAD_MANIFEST', `${what} is not valid JSON`);
  }
};

const zodIssues = (issues: Array<{ path: PropertyKey[]; message: string }>) =>
  issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);

interface LoadedManifest {
  manifest: Manifest;
  key: Buffer | null;
  authenticated: boolean;
  /** The names of the manifest's own entries in this layout. */
  reserved: string[];
  /** The name in the zip of the entry at a manifest path. */
  zipName: (entryPath: string) => string;
}

/** Derives the archive key and checks it against the key check, before any MAC or entry. */
const keyFor = async (
  encryption: Manifest['encryption'] & object,
  passphrase: string | null | undefined,
  details: Record<string, unknown>
): Promise<Buffer> => {
  if (!passphrase) {
    throw new EngineError('NO_KEY', 'The backup is encrypted and no encryption key is configured', details);
  }
  let key: Buffer;
  try {
    key = await deriveKey(passphrase, encryption.kdf);
  } catch (error) {
    throw new EngineError('BAD_MANIFEST', `The encryption parameters of the manifest are invalid: ${(error as Error).message}`, details);
  }
  try {
    assertKey(key, encryption.keyCheck);
  } catch (error) {
    if (error instanceof CryptoError && error.code === 'WRONG_KEY') {
      throw new EngineError('WRONG_KEY', 'The encryption key does not open this backup (wrong key)', details);
    }
    throw new EngineError('BAD_MANIFEST', 'The key check of the manifest is malformed', details);
  }
  return key;
};

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Reads and checks the manifest: its size, checksum and schema; for an encrypted archive of
 * format 2, the key and the sealed manifest (which needs the passphrase); for format 1, the MAC
 * when `authenticate` is set (openArchive) — the listing reads a format 1 manifest without a key.
 */
const loadManifest = async (
  directory: Directory,
  { passphrase, authenticate }: { passphrase?: string | null; authenticate: boolean }
): Promise<LoadedManifest> => {
  const { files, limits } = directory;
  const manifestFile = files.get(MANIFEST_ENTRY);
  const checksumFile = files.get(MANIFEST_CHECKSUM_ENTRY);
  if (!manifestFile || !checksumFile) {
    throw new EngineError('BAD_MANIFEST', 'The archive has no manifest: it is not a PACTA backup');
  }
  const manifestBytes = await readSmallEntry(manifestFile, limits.maxManifestBytes, 'The manifest');
  const checksum = (await readSmallEntry(checksumFile, limits.maxDigestBytes, 'The manifest checksum')).toString('utf8').trim();
  if (sha256(manifestBytes) !== checksum) {
    throw new EngineError('CHECKSUM', 'The manifest is damaged: its checksum does not match');
  }
  const parsed = parseJson(manifestBytes, 'The manifest') as { format?: unknown; formatVersion?: unknown; encryption?: unknown } | null;
  if (parsed?.format !== FORMAT) throw new EngineError('BAD_MANIFEST', 'The manifest is not a PACTA backup manifest');
  if (parsed.formatVersion !== 1 && parsed.formatVersion !== 2) {
    throw new EngineError('BAD_MANIFEST', `The archive format version ${JSON.stringify(parsed.formatVersion)} is not supported`);
  }

  if (parsed.formatVersion === 2 && parsed.encryption) {
    const envelopeResult = envelopeSchema.safeParse(parsed);
    if (!envelopeResult.success) {
      const issues = zodIssues(envelopeResult.error.issues);
      throw new EngineError('BAD_MANIFEST', `The manifest is not valid: ${issues.slice(0, 5).join('; ')}`, { issues });
    }
    const envelope = envelopeResult.data;
    const details = { envelope: { id: envelope.id, kind: envelope.kind, createdAt: envelope.createdAt } };
    const sealedFile = files.get(SEALED_MANIFEST_ENTRY);
    if (!sealedFile) throw new EngineError('MISSING_ENTRY', `The encrypted archive lacks its sealed manifest ${SEALED_MANIFEST_ENTRY}`, details);
    const key = await keyFor(envelope.encryption, passphrase, details);
    const what = 'The sealed manifest';
    let bytes: Buffer;
    try {
      bytes = await collect(
        sealedFile.stream(),
        capped(limits.maxManifestBytes + 64 * 1024, what),
        createDecryptStream(key, { aad: sealedAad(manifestBytes) }),
        zlib.createInflateRaw(),
        capped(limits.maxManifestBytes, what)
      );
    } catch (error) {
      if (error instanceof EngineError) throw new EngineError(error.code, error.message, details);
      throw new EngineError('TAMPERED', 'The manifest was altered or is damaged: its sealed copy does not open under this key', details);
    }
    const result = manifestSchema.safeParse(parseJson(bytes, what));
    if (!result.success) {
      const issues = zodIssues(result.error.issues);
      throw new EngineError('BAD_MANIFEST', `The manifest is not valid: ${issues.slice(0, 5).join('; ')}`, { issues, ...details });
    }
    const manifest = result.data;
    if (
      manifest.formatVersion !== 2 ||
      manifest.id !== envelope.id ||
      manifest.kind !== envelope.kind ||
      manifest.createdAt !== envelope.createdAt ||
      !sameJson(manifest.encryption, envelope.encryption)
    ) {
      throw new EngineError('TAMPERED', 'The manifest was altered: its clear envelope does not match the sealed manifest', details);
    }
    return {
      manifest,
      key,
      authenticated: true,
      reserved: [MANIFEST_ENTRY, MANIFEST_CHECKSUM_ENTRY, SEALED_MANIFEST_ENTRY],
      zipName: (entryPath) => sealedEntryName(key, entryPath),
    };
  }

  const result = manifestSchema.safeParse(parsed);
  if (!result.success) {
    const issues = zodIssues(result.error.issues);
    throw new EngineError('BAD_MANIFEST', `The manifest is not valid: ${issues.slice(0, 5).join('; ')}`, { issues });
  }
  const manifest = result.data;
  const zipName = (entryPath: string) => entryPath;
  if (!manifest.encryption) return { manifest, key: null, authenticated: false, reserved: [MANIFEST_ENTRY, MANIFEST_CHECKSUM_ENTRY], zipName };
  if (manifest.formatVersion !== 1) {
    throw new EngineError('BAD_MANIFEST', 'An encrypted archive of format 2 must seal its manifest');
  }
  const reserved = [MANIFEST_ENTRY, MANIFEST_CHECKSUM_ENTRY, MANIFEST_MAC_ENTRY];
  if (!authenticate) return { manifest, key: null, authenticated: false, reserved, zipName };
  const key = await keyFor(manifest.encryption, passphrase, {});
  const macFile = files.get(MANIFEST_MAC_ENTRY);
  const mac = macFile ? (await readSmallEntry(macFile, limits.maxDigestBytes, 'The manifest MAC')).toString('utf8').trim() : '';
  if (mac !== manifestMac(key, manifestBytes)) {
    throw new EngineError('TAMPERED', 'The manifest was altered: its authentication code does not match');
  }
  return { manifest, key, authenticated: true, reserved, zipName };
};

/**
 * The manifest of an archive, checked (size, checksum, schema), for the listing. A plain archive
 * and an encrypted one of format 1 are read without a key (format 1 is not authenticated here:
 * openArchive does it); an encrypted one of format 2 needs the passphrase, and without the right
 * one fails with NO_KEY or WRONG_KEY whose details carry the clear envelope (id, kind, createdAt).
 */
export const readManifest = async (filePath: string, options: ReadOptions = {}): Promise<Manifest> => {
  const directory = await openDirectory(filePath, options);
  return (await loadManifest(directory, { passphrase: options.passphrase, authenticate: false })).manifest;
};

/** Compares two ids of a table (numbers, or digit strings for big integers). */
const idValue = (id: unknown): bigint | null => {
  if (typeof id === 'number' && Number.isSafeInteger(id)) return BigInt(id);
  if (typeof id === 'string' && /^-?\d{1,40}$/.test(id)) return BigInt(id);
  return null;
};

/**
 * A table's rows in batches, each batch checked against the table in the manifest before it is
 * passed on: every line a JSON array of as many values as the table has columns, the ids
 * ascending (rows are written in primary-key order), no more rows than the manifest says, and as
 * many at the end. A BAD_ROWS error names the first line that is not what the manifest says.
 */
async function* checkedRows(table: ManifestTable, stream: Readable, limits: ArchiveLimits): AsyncGenerator<unknown[][]> {
  const width = table.columns.length;
  const idIndex = table.columns.findIndex((c) => c.name === 'id');
  const bad = (line: number, problem: string) =>
    new EngineError('BAD_ROWS', `The table ${table.name} in the archive is not what its manifest says: line ${line} ${problem}`, {
      table: table.name,
      entry: table.entry,
      line,
    });
  let line = 0;
  let last: bigint | null = null;
  for await (const batch of ndjsonBatches(stream, { label: `The archive entry ${table.entry}`, maxLineBytes: limits.maxLineBytes })) {
    for (const row of batch) {
      line += 1;
      if (line > table.rows) throw bad(line, `is past the ${table.rows} rows of the table`);
      if (!Array.isArray(row)) throw bad(line, 'is not a row (a JSON array)');
      if (row.length !== width) throw bad(line, `has ${row.length} values for ${width} columns`);
      if (idIndex >= 0) {
        const id = idValue(row[idIndex]);
        if (id === null) throw bad(line, 'has an id that is not an integer');
        if (last !== null && id <= last) throw bad(line, `has id ${id} after id ${last}: the rows are not in id order`);
        last = id;
      }
    }
    yield batch;
  }
  if (line !== table.rows) throw bad(line, `ends the table at ${line} rows where the manifest says ${table.rows}`);
}

const checkRows = async (table: ManifestTable, stream: Readable, limits: ArchiveLimits) => {
  for await (const _batch of checkedRows(table, stream, limits)) {
    // Reading to the end runs the checks.
  }
};

/**
 * Opens an archive and checks everything that can be checked before reading data: that it is a
 * zip within the limits, that every entry path is safe and unique and no entry is a link, that
 * the manifest is intact (checksum, MAC or seal) and valid, that the key is right, and that the
 * archive holds exactly the entries the manifest lists.
 */
export const openArchive = async (filePath: string, options: ReadOptions = {}): Promise<OpenedArchive> => {
  const directory = await openDirectory(filePath, options);
  const { files, limits } = directory;
  const { manifest, key, authenticated, reserved, zipName } = await loadManifest(directory, {
    passphrase: options.passphrase,
    authenticate: true,
  });

  const entriesByPath = new Map<string, ManifestEntry>();
  const zipNames = new Set<string>();
  for (const entry of manifest.entries) {
    if (entriesByPath.has(entry.path) || reserved.includes(zipName(entry.path))) {
      throw new EngineError('BAD_MANIFEST', `The manifest lists the entry ${entry.path} twice`);
    }
    entriesByPath.set(entry.path, entry);
    zipNames.add(zipName(entry.path));
  }
  const unknown = [...files.keys()].filter((name) => !zipNames.has(name) && !reserved.includes(name));
  if (unknown.length) {
    throw new EngineError('BAD_MANIFEST', `The archive holds entries its manifest does not list: ${unknown.slice(0, 5).join(', ')}`);
  }
  const missing = manifest.entries.filter((e) => !files.has(zipName(e.path))).map((e) => e.path);
  if (missing.length) {
    throw new EngineError('MISSING_ENTRY', `The archive lacks entries its manifest lists: ${missing.slice(0, 5).join(', ')}`);
  }
  const tablesByEntry = new Map(manifest.tables.map((t) => [t.entry, t]));
  const tableNames = new Set(manifest.tables.map((t) => t.name));
  if (tablesByEntry.size !== manifest.tables.length || tableNames.size !== manifest.tables.length) {
    throw new EngineError('BAD_MANIFEST', 'The manifest names a table, or a table entry, twice');
  }
  const unlisted = manifest.tables.filter((t) => !entriesByPath.has(t.entry)).map((t) => t.name);
  if (unlisted.length) {
    throw new EngineError('MISSING_ENTRY', `The manifest names tables without an entry: ${unlisted.slice(0, 5).join(', ')}`);
  }

  const open = (entryPath: string): Readable => {
    const entry = entriesByPath.get(entryPath);
    const file = entry && files.get(zipName(entryPath));
    if (!entry || !file) {
      throw new EngineError('MISSING_ENTRY', `The archive has no entry ${entryPath}`);
    }
    const out = new PassThrough();
    const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [file.stream()];
    if (key) {
      stages.push(createDecryptStream(key, { aad: entryPath }));
      if (entry.compressed) stages.push(zlib.createInflateRaw());
    }
    // An authenticated archive's declared sizes are this key holder's: they bound the entries.
    stages.push(new Verify(entry, authenticated ? null : compressedBytesOf(directory, file), limits), out);
    // pipeline() destroys every stage on failure; the consumer sees the error on `out`.
    (pipeline as (...streams: unknown[]) => Promise<void>)(...stages).catch((error: unknown) => {
      out.destroy(toEngineError(error, entryPath));
    });
    return out;
  };

  const drain = async (entryPath: string) => {
    for await (const _chunk of open(entryPath)) {
      // Reading to the end runs the checks.
    }
  };

  const readToEnd = async (entry: ManifestEntry, checkTables: boolean) => {
    const table = checkTables ? tablesByEntry.get(entry.path) : undefined;
    if (!table) {
      await drain(entry.path);
      return;
    }
    try {
      await checkRows(table, open(entry.path), limits);
    } catch (error) {
      // Rows that do not parse are most often damage: the entry read again without parsing
      // reports its checksum (or its size) when that is what is wrong, the rows otherwise.
      if (error instanceof EngineError && (error.code === 'BAD_ROWS' || error.details?.line !== undefined)) await drain(entry.path);
      throw error;
    }
  };

  // Two entries are read at once: one inflates (threadpool) while the other is hashed and its
  // rows parsed (main thread). The report keeps the manifest's order.
  const verify = async (onEntry?: (entry: ManifestEntry, ok: boolean, error?: Error) => void, { rows = true }: VerifyOptions = {}) => {
    const results: VerifyReport['entries'] = new Array(manifest.entries.length);
    let next = 0;
    const worker = async () => {
      while (next < manifest.entries.length) {
        const index = next;
        next += 1;
        const entry = manifest.entries[index];
        try {
          await readToEnd(entry, rows);
          results[index] = { path: entry.path, size: entry.size, ok: true };
          onEntry?.(entry, true);
        } catch (caught) {
          const error = toEngineError(caught, entry.path) as EngineError;
          results[index] = { path: entry.path, size: entry.size, ok: false, error: error.message, code: error.code };
          onEntry?.(entry, false, error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(VERIFY_CONCURRENCY, manifest.entries.length) }, worker));
    return { ok: results.every((r) => r.ok), entries: results };
  };

  const rows = (table: ManifestTable) => checkedRows(table, open(table.entry), limits);

  return { manifest, authenticated, open, rows, verify };
};
