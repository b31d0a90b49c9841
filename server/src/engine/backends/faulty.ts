import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';

import { sourceFile, type BackendDriver, type ObjectSource } from './types';

const readSource = async (source: ObjectSource) => {
  const bytes = await fs.promises.readFile(sourceFile(source));
  return typeof source === 'string' ? bytes : bytes.subarray(source.start, source.end);
};

/**
 * Test-only: a driver that fails, stalls, truncates or corrupts its Nth call of one kind, to
 * show that every such fault ends in a clear error and leaves nothing listed that is not whole.
 * The conformance suite wraps drivers with it directly; an app's off-site copies get it from
 * PACTA_BACKUP_TEST_OFFSITE_FAULTS (e.g. `write:1:fail,read:1:truncate`), unset outside tests.
 *
 *  - fail: the call throws before anything moves (a refused connection);
 *  - stall: the call moves some bytes, then nothing, until its signal aborts (a hung server; a
 *    write reads half its file from a named pipe that stays open); it prints `PACTA_BACKUP_TEST_PAUSED offsite-<op> <pid>` on stderr, so a test can kill -9;
 *  - truncate: write stores half the file under the full file's digest; read returns half;
 *  - corrupt: read returns the bytes with one of them changed.
 */
export type FaultOp = 'write' | 'read' | 'list' | 'stat' | 'delete';
export type FaultKind = 'fail' | 'stall' | 'truncate' | 'corrupt';
export interface Fault {
  op: FaultOp;
  nth: number;
  kind: FaultKind;
}

export const FAULTS_ENV = 'PACTA_BACKUP_TEST_OFFSITE_FAULTS';

export const parseFaults = (spec: string | undefined): Fault[] =>
  (spec ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [op, nth, kind] = part.split(':');
      if (!['write', 'read', 'list', 'stat', 'delete'].includes(op) || !/^\d+$/.test(nth) || !['fail', 'stall', 'truncate', 'corrupt'].includes(kind)) {
        throw new Error(`${FAULTS_ENV}: cannot read ${JSON.stringify(part)} (op:nth:kind)`);
      }
      return { op: op as FaultOp, nth: Number(nth), kind: kind as FaultKind };
    });

const injected = (op: FaultOp, n: number) => new Error(`injected fault: ${op} #${n} failed`);

/** Waits until `signal` aborts, then throws its reason. */
const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

const paused = (op: FaultOp) => process.stderr.write(`PACTA_BACKUP_TEST_PAUSED offsite-${op} ${process.pid}\n`);

export const faultyDriver = (driver: BackendDriver, faults: Fault[]): BackendDriver => {
  const calls: Record<FaultOp, number> = { write: 0, read: 0, list: 0, stat: 0, delete: 0 };
  /** The fault planned for this call of `op`, if any (each call counted). */
  const next = (op: FaultOp) => {
    calls[op] += 1;
    const n = calls[op];
    return { n, fault: faults.find((f) => f.op === op && f.nth === n)?.kind };
  };
  const simple =
    <A extends unknown[], R>(op: FaultOp, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const { n, fault } = next(op);
      if (fault === 'fail') throw injected(op, n);
      if (fault === 'stall') {
        paused(op);
        return new Promise<R>(() => undefined);
      }
      return call(...args);
    };

  return {
    type: driver.type,
    location: driver.location,

    async write(name, source, sha256, options) {
      const file = sourceFile(source);
      const { n, fault } = next('write');
      if (fault === 'fail') throw injected('write', n);
      if (fault === 'stall') {
        // The driver reads half the file from a pipe that then stays open: a transfer under way
        // that stops moving (what a kill -9 then leaves is what a real crash mid-copy leaves).
        const fifo = path.join(os.tmpdir(), `pacta-stall-${process.pid}-${n}-${path.basename(file)}`);
        await fs.promises.rm(fifo, { force: true });
        execFileSync('mkfifo', ['-m', '600', fifo]);
        const bytes = await readSource(source);
        const feeder = fs.createWriteStream(fifo);
        feeder.on('error', () => undefined);
        const release = () => {
          feeder.destroy();
          fs.rmSync(fifo, { force: true });
        };
        options.signal.addEventListener('abort', release, { once: true });
        const writing = driver.write(name, fifo, sha256, options);
        feeder.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => paused('write'));
        try {
          return await Promise.race([writing, untilAborted(options.signal)]);
        } finally {
          release();
        }
      }
      if (fault === 'truncate') {
        const half = path.join(path.dirname(file), `.truncated-${process.pid}-${path.basename(file)}`);
        const bytes = await readSource(source);
        await fs.promises.writeFile(half, bytes.subarray(0, Math.floor(bytes.length / 2)), { mode: 0o600 });
        try {
          return await driver.write(name, half, sha256, options);
        } finally {
          await fs.promises.rm(half, { force: true });
        }
      }
      return driver.write(name, source, sha256, options);
    },

    async read(name, signal) {
      const { n, fault } = next('read');
      if (fault === 'fail') throw injected('read', n);
      const object = await driver.read(name, signal);
      if (!object || !fault) return object;
      const chunks: Buffer[] = [];
      for await (const chunk of object.body) chunks.push(chunk as Buffer);
      const bytes = Buffer.concat(chunks);
      if (fault === 'truncate') return { ...object, body: Readable.from([bytes.subarray(0, Math.floor(bytes.length / 2))]) };
      if (fault === 'corrupt') {
        bytes[Math.floor(bytes.length / 2)] ^= 0xff;
        return { ...object, body: Readable.from([bytes]) };
      }
      // stall: half the bytes, then nothing until the reader gives up.
      const body = new PassThrough();
      body.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
      paused('read');
      return { ...object, body };
    },

    list: simple('list', () => driver.list()),
    stat: simple('stat', (name: string) => driver.stat(name)),
    delete: simple('delete', (name: string) => driver.delete(name)),
    close: () => driver.close(),
  };
};
