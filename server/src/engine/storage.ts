import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { hostTag, isPidAlive } from './owner';

/**
 * Where archives live. The local folder is the default; an S3-compatible provider implements
 * the same interface later. Archives are written next to their final name under a temporary
 * name and renamed only when complete and verified (see backup.ts), so a listing never shows a
 * partial archive.
 */
export interface StoredFile {
  name: string;
  size: number;
  modifiedAt: Date;
}

export interface Storage {
  readonly type: string;
  /** Human-readable location (a folder, a bucket). */
  readonly location: string;
  /** A path on this machine where a new archive can be written before `commit`. */
  tempPath(name: string): Promise<string>;
  /** Makes a written temp file the stored `name`, atomically. */
  commit(tempFile: string, name: string): Promise<void>;
  /** A local path to read `name` from (random access is needed by the zip reader). */
  localPath(name: string): Promise<string>;
  createReadStream(name: string): fs.ReadStream;
  list(): Promise<StoredFile[]>;
  stat(name: string): Promise<StoredFile | null>;
  delete(name: string): Promise<void>;
  /** Bytes free and in total on the storage's volume. */
  space(): Promise<{ free: number; total: number }>;
  /**
   * Removes temporary files left by an interrupted backup. A temporary name carries its
   * writer's host and pid: the files of a dead process of this host go at once, whatever their
   * age; those of a live one (the CLI next to the server) stay. Files of another host, or of
   * older versions without a writer in the name, go once untouched for `staleMs`.
   */
  cleanTemp(staleMs?: number): Promise<string[]>;
  readMeta(name: string): Promise<Record<string, unknown> | null>;
  writeMeta(name: string, meta: Record<string, unknown>): Promise<void>;
}

/**
 * Temporary files: `.partial@<host tag>.<pid>.<nonce>.<name>` (`.partial-<name>` before the writer
 * was named); the nonce keeps two writers of one name in one process apart (the off-site folder
 * backend takes writers in parallel).
 */
const TEMP_PREFIX = '.partial';
const META_SUFFIX = '.meta.json';
const OWNED_TEMP = /^\.partial@([0-9a-f]{8})\.(\d+)\./;
/** A live process's file untouched this long is left by an unrelated process that reuses the pid. */
const LIVE_STALE_MS = 24 * 3600 * 1000;

/** The temporary files this process is writing (a file with this pid not among them is an earlier process's). */
const ownTemp = new Set<string>();
const tempName = (name: string) => `${TEMP_PREFIX}@${hostTag()}.${process.pid}.${randomBytes(4).toString('hex')}.${name}`;

const assertPlainName = (name: string) => {
  if (!/^[0-9A-Za-z][0-9A-Za-z._-]*$/.test(name) || name.includes('..')) {
    throw new Error(`Invalid stored file name ${JSON.stringify(name)}`);
  }
};

export const createLocalStorage = (folder: string): Storage => {
  const resolve = (name: string) => {
    assertPlainName(name);
    return path.join(folder, name);
  };
  const ensure = () => fs.promises.mkdir(folder, { recursive: true, mode: 0o700 });

  const toStored = (name: string, stat: fs.Stats): StoredFile => ({ name, size: stat.size, modifiedAt: stat.mtime });

  return {
    type: 'local',
    location: folder,

    async tempPath(name) {
      await ensure();
      assertPlainName(name);
      const file = path.join(folder, tempName(name));
      ownTemp.add(file);
      return file;
    },

    async commit(tempFile, name) {
      await fs.promises.rename(tempFile, resolve(name));
      ownTemp.delete(tempFile);
    },

    async localPath(name) {
      return resolve(name);
    },

    createReadStream(name) {
      return fs.createReadStream(resolve(name));
    },

    async list() {
      await ensure();
      const names = await fs.promises.readdir(folder);
      const files: StoredFile[] = [];
      for (const name of names) {
        if (name.startsWith('.') || name.endsWith(META_SUFFIX)) continue;
        const stat = await fs.promises.stat(path.join(folder, name)).catch(() => null);
        if (stat?.isFile()) files.push(toStored(name, stat));
      }
      return files;
    },

    async stat(name) {
      const stat = await fs.promises.stat(resolve(name)).catch(() => null);
      return stat?.isFile() ? toStored(name, stat) : null;
    },

    async delete(name) {
      await fs.promises.rm(resolve(name), { force: true });
      await fs.promises.rm(resolve(`${name}${META_SUFFIX}`), { force: true });
    },

    async space() {
      await ensure();
      const stats = await fs.promises.statfs(folder);
      return { free: stats.bavail * stats.bsize, total: stats.blocks * stats.bsize };
    },

    async cleanTemp(staleMs = 10 * 60 * 1000) {
      await ensure();
      const removed: string[] = [];
      for (const name of await fs.promises.readdir(folder)) {
        if (!name.startsWith(TEMP_PREFIX)) continue;
        const file = path.join(folder, name);
        const stat = await fs.promises.stat(file).catch(() => null);
        if (!stat) continue;
        const age = Date.now() - stat.mtimeMs;
        const owner = OWNED_TEMP.exec(name);
        let stale: boolean;
        if (owner && owner[1] === hostTag()) {
          const pid = Number(owner[2]);
          if (pid === process.pid) stale = !ownTemp.has(file);
          else stale = !isPidAlive(pid) || age >= LIVE_STALE_MS;
        } else {
          stale = age >= staleMs;
        }
        if (stale) {
          await fs.promises.rm(file, { force: true, recursive: true });
          ownTemp.delete(file);
          removed.push(name);
        }
      }
      return removed;
    },

    async readMeta(name) {
      try {
        return JSON.parse(await fs.promises.readFile(resolve(`${name}${META_SUFFIX}`), 'utf8'));
      } catch {
        return null;
      }
    },

    async writeMeta(name, meta) {
      const file = resolve(`${name}${META_SUFFIX}`);
      const temp = path.join(folder, tempName(`${name}${META_SUFFIX}`));
      ownTemp.add(temp);
      try {
        await fs.promises.writeFile(temp, JSON.stringify(meta, null, 2), { mode: 0o600 });
        await fs.promises.rename(temp, file);
      } finally {
        ownTemp.delete(temp);
      }
    },
  };
};
