import type { Readable } from 'node:stream';

import type { StoredFile } from '../storage';

/**
 * A place that keeps whole objects under plain names: today the off-site copies of the archives
 * (a folder on another disk or a network mount, or an S3-compatible bucket), later the objects
 * of the deduplicated repository. Two layers:
 *
 *  - a driver (local.ts, s3.ts) moves bytes and keeps, with each object, the SHA-256 its writer
 *    gave; an object is listed only once complete (a rename, a completed multipart upload);
 *  - the checked backend (checked.ts) is what the plugin uses: it checks every object it writes
 *    and reads against that digest (never an ETag), abandons a transfer that makes no progress,
 *    and turns every failure into an EngineError that names the place, never a credential.
 *
 * faulty.ts sits between the two in the tests: it fails, stalls, truncates or corrupts the Nth
 * call of a driver, which the conformance suite (tests/integration/backends.test.api.ts) runs
 * against both drivers.
 */
export interface BackendObject extends StoredFile {
  /** The SHA-256 recorded when it was written; null when the object has none (not written by us). */
  sha256: string | null;
}

export type BackendType = 'local' | 's3';

/** What an object is written from: a whole file, or the bytes [start, end) of one (a zip entry's data). */
export type ObjectSource = string | { file: string; start: number; end: number };

export const sourceFile = (source: ObjectSource) => (typeof source === 'string' ? source : source.file);
/** A read stream of the source's bytes. */
export const sourceRange = (source: ObjectSource) => (typeof source === 'string' ? {} : { start: source.start, end: source.end - 1 });

export interface BackendDriver {
  readonly type: BackendType;
  /** A folder, or `s3://bucket/prefix at endpoint`: never a credential. */
  readonly location: string;
  /**
   * Stores `file` as `name` with its SHA-256. Not listed until complete; aborted (nothing left
   * behind) when `signal` aborts. `onProgress` gets the bytes sent so far.
   */
  write(name: string, source: ObjectSource, sha256: string, options: { signal: AbortSignal; onProgress: (sent: number) => void }): Promise<void>;
  /** The object's bytes as a stream, and what was recorded with it; null when there is none. */
  read(name: string, signal: AbortSignal): Promise<{ body: Readable; size: number; sha256: string | null } | null>;
  list(): Promise<BackendObject[]>;
  stat(name: string): Promise<BackendObject | null>;
  /** Deletes `name`; no error when it is already gone. */
  delete(name: string): Promise<void>;
  /** Releases connections (a backend is made for a task and closed after it). */
  close(): void;
}

export interface Backend {
  readonly type: BackendType;
  readonly location: string;
  /**
   * Stores `file` as `name`, then reads back its size and digest: a copy that does not match is
   * deleted and refused. `onProgress` gets the bytes sent and the file's size.
   */
  put(name: string, source: ObjectSource, sha256: string, onProgress?: (sent: number, total: number) => void): Promise<void>;
  /**
   * Downloads `name` into `file`, checking size and SHA-256; a bad or missing copy leaves no
   * file. `onProgress` gets the bytes received and the object's size.
   */
  fetch(name: string, file: string, onProgress?: (received: number, total: number) => void): Promise<{ size: number; sha256: string }>;
  list(): Promise<BackendObject[]>;
  stat(name: string): Promise<BackendObject | null>;
  delete(name: string): Promise<void>;
  close(): void;
}

/** Object names: one path segment of safe characters (the archives' `<id>.pacta.zip`). */
export const assertObjectName = (name: string) => {
  if (!/^[0-9A-Za-z][0-9A-Za-z._-]*$/.test(name) || name.includes('..')) {
    throw new Error(`Invalid stored file name ${JSON.stringify(name)}`);
  }
};
