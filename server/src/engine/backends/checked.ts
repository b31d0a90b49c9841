import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { EngineError } from '../errors';
import { sourceFile, type Backend, type BackendDriver } from './types';

export interface CheckedOptions {
  /** A transfer with no byte moved for this long is abandoned (a stalled connection or mount). */
  idleTimeoutMs: number;
}

/**
 * A watchdog for one transfer: `touch()` on every byte moved; after `idleMs` without one it
 * aborts `signal` with an error that says so.
 */
const watchdog = (idleMs: number, what: string) => {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => controller.abort(new EngineError('OFFSITE_FAILED', `${what}: no progress for ${Math.round(idleMs / 1000)} s, abandoned`)),
      idleMs
    );
  };
  touch();
  return { signal: controller.signal, touch, stop: () => clearTimeout(timer) };
};

/** Any failure as an EngineError that names the place (the drivers' own already do). */
const named = (error: unknown, location: string): EngineError =>
  error instanceof EngineError ? error : new EngineError('OFFSITE_FAILED', `Off-site storage ${location}: ${(error as Error)?.message ?? String(error)}`);

/**
 * The backend the plugin uses over a driver: every object written is read back (size and the
 * SHA-256 recorded with it) and deleted when it does not match, every object read is hashed as it
 * streams and refused when it does not match; a transfer that stalls is abandoned.
 */
export const checkedBackend = (driver: BackendDriver, { idleTimeoutMs }: CheckedOptions): Backend => {
  const { location } = driver;
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw named(error, location);
    }
  };

  return {
    type: driver.type,
    location,

    put: (name, source, sha256, onProgress) =>
      guard(async () => {
        const size = typeof source === 'string' ? (await fs.promises.stat(sourceFile(source))).size : source.end - source.start;
        const dog = watchdog(idleTimeoutMs, `Off-site copy of ${name} to ${location}`);
        try {
          await driver.write(name, source, sha256, {
            signal: dog.signal,
            onProgress: (sent) => {
              dog.touch();
              onProgress?.(sent, size);
            },
          });
          // A driver that finished after its watchdog fired has still been abandoned.
          dog.signal.throwIfAborted();
        } catch (error) {
          throw dog.signal.aborted ? dog.signal.reason : error;
        } finally {
          dog.stop();
        }
        const stored = await driver.stat(name);
        if (!stored || stored.size !== size || stored.sha256 !== sha256) {
          // Ours and damaged (our digest, not our size) goes; another writer's object stays.
          if (stored?.sha256 === sha256) await driver.delete(name).catch(() => undefined);
          throw new EngineError(
            'OFFSITE_FAILED',
            `Off-site storage ${location}: the copy of ${name} does not match what was sent (${stored ? `${stored.size} of ${size} bytes` : 'not found after the upload'})`
          );
        }
      }),

    fetch: (name, file, onProgress) =>
      guard(async () => {
        const dog = watchdog(idleTimeoutMs, `Download of ${name} from ${location}`);
        try {
          const object = await driver.read(name, dog.signal);
          if (!object) throw new EngineError('NOT_FOUND', `Off-site storage ${location} has no ${name}`);
          const hash = createHash('sha256');
          let size = 0;
          await pipeline(
            object.body,
            new Transform({
              transform(chunk: Buffer, _encoding, done) {
                dog.touch();
                hash.update(chunk);
                size += chunk.length;
                onProgress?.(size, object.size);
                done(null, chunk);
              },
            }),
            fs.createWriteStream(file, { mode: 0o600 }),
            { signal: dog.signal }
          );
          const sha256 = hash.digest('hex');
          if (!object.sha256) {
            throw new EngineError('CHECKSUM', `The off-site copy of ${name} has no recorded SHA-256: it was not written by PACTA Backup`);
          }
          if (size !== object.size || sha256 !== object.sha256) {
            throw new EngineError(
              'CHECKSUM',
              `The off-site copy of ${name} is damaged: ${size !== object.size ? `${size} of ${object.size} bytes arrived` : 'its SHA-256 does not match the one recorded when it was copied'}`
            );
          }
          return { size, sha256 };
        } catch (error) {
          await fs.promises.rm(file, { force: true });
          throw dog.signal.aborted ? dog.signal.reason : error;
        } finally {
          dog.stop();
        }
      }),

    list: () => guard(() => driver.list()),
    stat: (name) => guard(() => driver.stat(name)),
    delete: (name) => guard(() => driver.delete(name)),
    close: () => driver.close(),
  };
};
