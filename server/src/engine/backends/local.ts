import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { EngineError } from '../errors';
import { createLocalStorage } from '../storage';
import { assertObjectName, sourceFile, sourceRange, type BackendDriver } from './types';

/**
 * A folder as a backend: another disk, or a network mount (NFS, SMB) that survives the loss of
 * this one. It is the local storage's own folder layout: an object is written under a temporary
 * name, flushed to disk, and renamed to its name only when complete; its SHA-256 goes in the
 * `<name>.meta.json` beside it, written before the rename (a reader that finds the old bytes with
 * the new digest refuses them: never silently wrong).
 */
export const createLocalDriver = (folder: string): BackendDriver => {
  const storage = createLocalStorage(path.resolve(folder));
  /**
   * The folder must exist: it is not created, so a network share that is not mounted fails
   * loudly instead of filling the local disk under its mount point.
   */
  const assertFolder = async () => {
    const stat = await fs.promises.stat(storage.location).catch(() => null);
    if (!stat?.isDirectory()) {
      throw new EngineError('OFFSITE_FAILED', `Off-site folder ${storage.location} does not exist (is its disk or share mounted?)`);
    }
  };
  const sha256Of = async (name: string) => {
    const meta = await storage.readMeta(name);
    return typeof meta?.sha256 === 'string' ? meta.sha256 : null;
  };

  let cleaned: Promise<string[]> | undefined;

  return {
    type: 'local',
    location: storage.location,

    async write(name, source, sha256, { signal, onProgress }) {
      assertObjectName(name);
      await assertFolder();
      // What earlier writers of this host left when they died (their pid is gone): once per task,
      // not per object (a deduplicated copy writes hundreds).
      cleaned ??= storage.cleanTemp();
      await cleaned;
      const temp = await storage.tempPath(name);
      try {
        let sent = 0;
        await pipeline(
          fs.createReadStream(sourceFile(source), sourceRange(source)),
          new Transform({
            transform(chunk: Buffer, _encoding, done) {
              sent += chunk.length;
              onProgress(sent);
              done(null, chunk);
            },
          }),
          fs.createWriteStream(temp, { mode: 0o600 }),
          { signal }
        );
        const handle = await fs.promises.open(temp, 'r');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
        signal.throwIfAborted();
        await storage.writeMeta(name, { sha256 });
        await storage.commit(temp, name);
      } finally {
        await fs.promises.rm(temp, { force: true });
      }
    },

    async read(name) {
      assertObjectName(name);
      await assertFolder();
      const stored = await storage.stat(name);
      if (!stored) return null;
      return { body: storage.createReadStream(name), size: stored.size, sha256: await sha256Of(name) };
    },

    async list() {
      await assertFolder();
      const files = await storage.list();
      return Promise.all(files.map(async (file) => ({ ...file, sha256: await sha256Of(file.name) })));
    },

    async stat(name) {
      assertObjectName(name);
      const stored = await storage.stat(name);
      return stored ? { ...stored, sha256: await sha256Of(name) } : null;
    },

    async delete(name) {
      assertObjectName(name);
      await storage.delete(name);
    },

    close: () => undefined,
  };
};
