import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

import { EngineError } from '../errors';
import type { SqliteReaderMessage, SqliteReaderRequest, SqliteReaderSetup } from '../workers/sqlite-read';

/** Characters of lines per chunk a worker hands over. */
const CHUNK_CHARS = 1 << 20;
/** Chunks a worker may read ahead of the main thread. */
const AHEAD = 3;

/**
 * The compiled worker (tsconfig.workers.json): next to the plugin's bundle (dist/server → dist/
 * workers), or, from the sources (tests), the build's copy. None (sources never built): the
 * snapshot reads in the main thread.
 */
const workerFile = () =>
  [
    path.resolve(__dirname, '..', 'workers', 'engine', 'workers', 'sqlite-read.js'),
    path.resolve(__dirname, '..', '..', '..', '..', 'dist', 'workers', 'engine', 'workers', 'sqlite-read.js'),
  ].find((file) => fs.existsSync(file)) ?? null;

/** The file of the module whose export is better-sqlite3's Database class (as the app loaded it). */
const driverFile = (Database: unknown) => {
  const cache = (typeof require === 'function' ? require.cache : {}) as NodeJS.Dict<NodeModule>;
  return Object.values(cache).find((module) => module?.exports === Database)?.filename ?? null;
};

export interface TableRead {
  /** Its name, for the errors. */
  table: string;
  sql: string;
  bindings: unknown[];
  types: string[];
  idIndex: number;
}

export interface SqliteReader {
  /** The table's NDJSON lines, read by the worker, in chunks. */
  lines(read: TableRead): AsyncGenerator<Buffer>;
  close(): Promise<void>;
}

/**
 * A reader thread over a SQLite snapshot's private copy, started at the first table and kept
 * for the others; null where there is no compiled worker or the driver cannot be found.
 */
export const sqliteReader = (file: string, Database: unknown): SqliteReader | null => {
  const script = workerFile();
  const driver = driverFile(Database);
  if (!script || !driver) return null;
  let worker: Worker | null = null;
  let failure: Error | null = null;
  const inbox: SqliteReaderMessage[] = [];
  let wake: (() => void) | null = null;
  const notify = () => {
    const resume = wake;
    wake = null;
    resume?.();
  };

  const start = () => {
    const setup: SqliteReaderSetup = { driver, file, chunkChars: CHUNK_CHARS, ahead: AHEAD };
    const started = new Worker(script, {
      workerData: setup,
      // Its heap holds a few chunks and the rows being serialised: bounded, so a backup's
      // memory stays flat whatever the tables' sizes.
      resourceLimits: { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16 },
    });
    started.on('message', (message: SqliteReaderMessage) => {
      inbox.push(message);
      notify();
    });
    started.on('error', (error) => {
      failure = error;
      notify();
    });
    started.on('exit', () => {
      failure = failure ?? new Error('The reading thread stopped');
      notify();
    });
    return started;
  };

  const stop = async () => {
    const running = worker;
    worker = null;
    inbox.length = 0;
    if (running) {
      running.removeAllListeners('exit');
      await running.terminate();
    }
  };

  return {
    async *lines({ table, sql, bindings, types, idIndex }) {
      if (!worker) {
        failure = null;
        worker = start();
      }
      const running = worker;
      const send = (request: SqliteReaderRequest) => running.postMessage(request);
      send({ kind: 'read', sql, bindings, types, idIndex });
      let finished = false;
      try {
        for (;;) {
          while (!inbox.length && !failure) await new Promise<void>((resolve) => (wake = resolve));
          const message = inbox.shift();
          if (!message) throw failure ?? new Error('The reading thread stopped');
          if (message.kind === 'done') {
            finished = true;
            return;
          }
          if (message.kind === 'failed') {
            finished = true;
            if (message.badRows) {
              throw new EngineError('BAD_ROWS', `The table ${table} did not read back as counted: ${message.message}`, { table });
            }
            throw new Error(message.message);
          }
          // Taken: the worker may read one more chunk while this one is compressed.
          send({ kind: 'more' });
          yield Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength);
        }
      } finally {
        // Left half-way (the backup failed): the worker is mid-table; the next table gets a new one.
        if (!finished) await stop();
      }
    },
    close: stop,
  };
};
