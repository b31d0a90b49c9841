import { createHash, createHmac } from 'node:crypto';
import fs from 'node:fs';
import { PassThrough, type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

import archiver from 'archiver';
import unzipper from 'unzipper';

import { CryptoError, assertKey, createDecryptStream, createEncryptStream, deriveKey } from './crypto';
import { EngineError } from './errors';
import {
  MANIFEST_CHECKSUM_ENTRY,
  MANIFEST_ENTRY,
  MANIFEST_MAC_ENTRY,
  isSafeEntryPath,
  manifestSchema,
  type Manifest,
  type ManifestEntry,
} from './manifest';

/**
 * The archive: one zip file. Without encryption the zip itself deflates each entry, so a person
 * can unzip a backup and read its NDJSON. With encryption each entry is deflated by us, then
 * sealed with AES-256-GCM (crypto.ts) and stored: compression must come before encryption.
 * Every entry's SHA-256 is taken over its content, before either step, and checked on read.
 */

export type Compression = 'none' | 'fast' | 'best';

const LEVEL: Record<Compression, number> = { none: 0, fast: 1, best: 9 };

const MAC_LABEL = 'pacta-backup manifest';

export const manifestMac = (key: Buffer, manifestBytes: Buffer) =>
  createHmac('sha256', key).update(MAC_LABEL).update(manifestBytes).digest('hex');

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

export interface ArchiveWriterOptions {
  compression: Compression;
  /** The archive key (from deriveKey); null writes a plain archive. */
  key: Buffer | null;
}

export class ArchiveWriter {
  private readonly zip: archiver.Archiver;
  private readonly output: fs.WriteStream;
  private readonly done: Promise<void>;
  private failure: Error | null = null;
  private readonly entries: ManifestEntry[] = [];

  constructor(
    readonly filePath: string,
    private readonly options: ArchiveWriterOptions
  ) {
    this.zip = archiver('zip', { zlib: { level: LEVEL[options.compression], chunkSize: 256 * 1024 }, forceZip64: false });
    this.output = fs.createWriteStream(filePath, { flags: 'wx', mode: 0o600 });
    this.done = new Promise((resolve, reject) => {
      this.output.on('close', resolve);
      this.output.on('error', reject);
      this.zip.on('error', reject);
    });
    this.done.catch((error) => {
      this.failure = error;
    });
    this.zip.pipe(this.output);
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
  async addEntry(entryPath: string, source: Readable, { compressible }: { compressible: boolean }) {
    if (!isSafeEntryPath(entryPath)) throw new EngineError('UNSAFE_PATH', `Unsafe entry path ${entryPath}`);
    if (this.failure) throw this.failure;

    const digest = new Digest();
    const level = LEVEL[this.options.compression];
    const compress = compressible && level > 0;
    let body: Readable = source.pipe(digest);
    if (this.options.key) {
      if (compress) body = body.pipe(zlib.createDeflateRaw({ level }));
      body = body.pipe(createEncryptStream(this.options.key, { aad: entryPath }));
    }
    source.on('error', (error) => body.destroy(error));

    const taken = new Promise<void>((resolve, reject) => {
      const onEntry = (entry: archiver.EntryData) => {
        if (entry.name !== entryPath) return;
        this.zip.off('entry', onEntry);
        resolve();
      };
      this.zip.on('entry', onEntry);
      body.on('error', reject);
      this.done.catch(reject);
    });
    this.zip.append(body, { name: entryPath, store: Boolean(this.options.key) || !compress });
    await taken;

    const entry = { path: entryPath, size: digest.size, sha256: digest.hash.digest('hex'), compressed: compress };
    this.entries.push(entry);
    return entry;
  }

  /** Writes the manifest (with its checksum, and its MAC when encrypted) and closes the file. */
  async finish(manifest: Manifest): Promise<number> {
    const bytes = Buffer.from(JSON.stringify(manifest, null, 2));
    this.zip.append(bytes, { name: MANIFEST_ENTRY });
    this.zip.append(createHash('sha256').update(bytes).digest('hex'), { name: MANIFEST_CHECKSUM_ENTRY });
    if (this.options.key) {
      this.zip.append(manifestMac(this.options.key, bytes), { name: MANIFEST_MAC_ENTRY, store: true });
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

/** Checks a stream's SHA-256 and length against the manifest at its end. */
class Verify extends Digest {
  constructor(private readonly expected: ManifestEntry) {
    super();
  }

  _flush(callback: TransformCallback) {
    const sha256 = this.hash.digest('hex');
    if (sha256 !== this.expected.sha256 || this.size !== this.expected.size) {
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
  if (error instanceof CryptoError) {
    if (error.code === 'TRUNCATED') {
      return new EngineError('TRUNCATED', `The archive entry ${entryPath} is cut short`, { entry: entryPath });
    }
    return new EngineError('TAMPERED', `The archive entry ${entryPath} was altered or the key is wrong`, {
      entry: entryPath,
    });
  }
  if (error instanceof Error && /invalid|incorrect header|unexpected end/i.test(error.message)) {
    return new EngineError('TAMPERED', `The archive entry ${entryPath} is damaged (${error.message})`, {
      entry: entryPath,
    });
  }
  return error as Error;
};

export interface OpenedArchive {
  manifest: Manifest;
  /** The content of an entry, decrypted, decompressed and checked: an error ends a bad one. */
  open(entryPath: string): Readable;
  /** Reads every entry to its end, checking each; reports entry by entry. */
  verify(onEntry?: (entry: ManifestEntry, ok: boolean, error?: Error) => void): Promise<VerifyReport>;
}

export interface VerifyReport {
  ok: boolean;
  entries: Array<{ path: string; size: number; ok: boolean; error?: string; code?: string }>;
}

const readEntry = async (file: unzipper.File) => file.buffer();

/**
 * The manifest of an archive, checked (checksum, schema) but not authenticated: enough to list
 * a backup without its key. openArchive does the full check.
 */
export const readManifest = async (filePath: string): Promise<Manifest> => {
  let directory: unzipper.CentralDirectory;
  try {
    directory = await unzipper.Open.file(filePath);
  } catch (error) {
    throw new EngineError('NOT_AN_ARCHIVE', `Not a readable backup archive: ${(error as Error).message}`);
  }
  const manifestFile = directory.files.find((f) => f.path === MANIFEST_ENTRY);
  const checksumFile = directory.files.find((f) => f.path === MANIFEST_CHECKSUM_ENTRY);
  if (!manifestFile || !checksumFile) throw new EngineError('BAD_MANIFEST', 'The archive has no manifest');
  const bytes = await readEntry(manifestFile);
  if (createHash('sha256').update(bytes).digest('hex') !== (await readEntry(checksumFile)).toString('utf8').trim()) {
    throw new EngineError('CHECKSUM', 'The manifest is damaged: its checksum does not match');
  }
  const result = manifestSchema.safeParse(JSON.parse(bytes.toString('utf8')));
  if (!result.success) throw new EngineError('BAD_MANIFEST', 'The manifest is not valid');
  return result.data;
};

/**
 * Opens an archive and checks everything that can be checked before reading data: that it is a
 * zip, that every entry path is safe, that the manifest is intact (checksum, MAC) and valid,
 * and that the key is right.
 */
export const openArchive = async (
  filePath: string,
  { passphrase }: { passphrase?: string | null } = {}
): Promise<OpenedArchive> => {
  let directory: unzipper.CentralDirectory;
  try {
    directory = await unzipper.Open.file(filePath);
  } catch (error) {
    throw new EngineError(
      'NOT_AN_ARCHIVE',
      `Not a readable backup archive (truncated or not a zip): ${(error as Error).message}`
    );
  }

  const files = new Map<string, unzipper.File>();
  for (const file of directory.files) {
    if (!isSafeEntryPath(file.path)) {
      throw new EngineError('UNSAFE_PATH', `The archive holds an entry with an unsafe path: ${JSON.stringify(file.path)}`);
    }
    files.set(file.path, file);
  }

  const manifestFile = files.get(MANIFEST_ENTRY);
  const checksumFile = files.get(MANIFEST_CHECKSUM_ENTRY);
  if (!manifestFile || !checksumFile) {
    throw new EngineError('BAD_MANIFEST', 'The archive has no manifest: it is not a PACTA backup');
  }
  let manifestBytes: Buffer;
  let checksum: string;
  try {
    manifestBytes = await readEntry(manifestFile);
    checksum = (await readEntry(checksumFile)).toString('utf8').trim();
  } catch (error) {
    throw new EngineError('TAMPERED', `The manifest cannot be read: ${(error as Error).message}`);
  }
  if (createHash('sha256').update(manifestBytes).digest('hex') !== checksum) {
    throw new EngineError('CHECKSUM', 'The manifest is damaged: its checksum does not match');
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(manifestBytes.toString('utf8'));
  } catch {
    throw new EngineError('BAD_MANIFEST', 'The manifest is not valid JSON');
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new EngineError('BAD_MANIFEST', `The manifest is not valid: ${issues.slice(0, 5).join('; ')}`, { issues });
  }
  const manifest = result.data;

  const listed = new Set([MANIFEST_ENTRY, MANIFEST_CHECKSUM_ENTRY, MANIFEST_MAC_ENTRY, ...manifest.entries.map((e) => e.path)]);
  const unknown = [...files.keys()].filter((name) => !listed.has(name));
  if (unknown.length) {
    throw new EngineError('BAD_MANIFEST', `The archive holds entries its manifest does not list: ${unknown.slice(0, 5).join(', ')}`);
  }
  const missing = manifest.entries.filter((e) => !files.has(e.path)).map((e) => e.path);
  if (missing.length) {
    throw new EngineError('MISSING_ENTRY', `The archive lacks entries its manifest lists: ${missing.slice(0, 5).join(', ')}`);
  }

  let key: Buffer | null = null;
  if (manifest.encryption) {
    if (!passphrase) {
      throw new EngineError('NO_KEY', 'The backup is encrypted and no encryption key is configured');
    }
    try {
      key = await deriveKey(passphrase, manifest.encryption.kdf);
    } catch (error) {
      throw new EngineError('BAD_MANIFEST', `The encryption parameters of the manifest are invalid: ${(error as Error).message}`);
    }
    try {
      assertKey(key, manifest.encryption.keyCheck);
    } catch (error) {
      if (error instanceof CryptoError && error.code === 'WRONG_KEY') {
        throw new EngineError('WRONG_KEY', 'The encryption key does not open this backup (wrong key)');
      }
      throw new EngineError('BAD_MANIFEST', 'The key check of the manifest is malformed');
    }
    const macFile = files.get(MANIFEST_MAC_ENTRY);
    const mac = macFile ? (await readEntry(macFile)).toString('utf8').trim() : '';
    if (mac !== manifestMac(key, manifestBytes)) {
      throw new EngineError('TAMPERED', 'The manifest was altered: its authentication code does not match');
    }
  }

  const entriesByPath = new Map(manifest.entries.map((entry) => [entry.path, entry]));

  const open = (entryPath: string): Readable => {
    const entry = entriesByPath.get(entryPath);
    const file = files.get(entryPath);
    if (!entry || !file) {
      throw new EngineError('MISSING_ENTRY', `The archive has no entry ${entryPath}`);
    }
    const out = new PassThrough();
    const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [file.stream()];
    if (key) {
      stages.push(createDecryptStream(key, { aad: entryPath }));
      if (entry.compressed) stages.push(zlib.createInflateRaw());
    }
    stages.push(new Verify(entry), out);
    // pipeline() destroys every stage on failure; the consumer sees the error on `out`.
    (pipeline as (...streams: unknown[]) => Promise<void>)(...stages).catch((error: unknown) => {
      out.destroy(toEngineError(error, entryPath));
    });
    return out;
  };

  const verify = async (onEntry?: (entry: ManifestEntry, ok: boolean, error?: Error) => void) => {
    const report: VerifyReport = { ok: true, entries: [] };
    for (const entry of manifest.entries) {
      try {
        for await (const _chunk of open(entry.path)) {
          // Reading to the end runs the checks.
        }
        report.entries.push({ path: entry.path, size: entry.size, ok: true });
        onEntry?.(entry, true);
      } catch (error) {
        report.ok = false;
        const code = error instanceof EngineError ? error.code : 'TAMPERED';
        report.entries.push({ path: entry.path, size: entry.size, ok: false, error: (error as Error).message, code });
        onEntry?.(entry, false, error as Error);
      }
    }
    return report;
  };

  return { manifest, open, verify };
};
