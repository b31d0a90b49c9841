/**
 * A worker thread that reads the tables of a SQLite snapshot (its private copy, read-only) and
 * hands their NDJSON lines to the main thread in chunks: the rows in canonical form (values.ts)
 * exactly as the in-process path writes them (toCanonical, then JSON.stringify), with the checks
 * backup.ts makes on that path (ids integers, ascending).
 *
 * Why a thread: better-sqlite3 is synchronous, so reading and serialising millions of rows held
 * the main thread (and its garbage collector) for the whole rows phase, and the compression of
 * the blocks already read waited for it. Here the second core reads while the main thread hashes,
 * hands blocks to the compressor and writes the zip.
 *
 * One worker per snapshot, one table at a time (`read`); at most `ahead` chunks of a table are
 * not yet acknowledged (`more`): the worker waits for the main thread before it reads further,
 * so memory stays bounded whatever the table's size. Compiled on its own into dist/workers/
 * (server/tsconfig.workers.json): a worker needs a file of its own.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { toCanonical } from '../values';

export interface SqliteReaderSetup {
  /** better-sqlite3's module file, as the app loaded it. */
  driver: string;
  /** The snapshot's private copy. */
  file: string;
  chunkChars: number;
  ahead: number;
}

export interface SqliteReadRequest {
  kind: 'read';
  sql: string;
  bindings: unknown[];
  types: string[];
  /** Position of the id column, -1 without one. */
  idIndex: number;
}

export type SqliteReaderRequest = SqliteReadRequest | { kind: 'more' };

export type SqliteReaderMessage =
  | { kind: 'chunk'; data: Uint8Array; rows: number }
  | { kind: 'done' }
  | { kind: 'failed'; badRows: boolean; message: string };

interface Database {
  prepare(sql: string): { raw(on: boolean): { iterate(...bindings: unknown[]): IterableIterator<unknown[]> } };
}

const serve = (setup: SqliteReaderSetup, port: NonNullable<typeof parentPort>) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Driver = require(setup.driver) as new (file: string, options: object) => Database;
  const database = new Driver(setup.file, { readonly: true, fileMustExist: true });
  let credits = 0;
  let wake: (() => void) | null = null;
  const reads: SqliteReadRequest[] = [];
  let busy = false;

  const read = async ({ sql, bindings, types, idIndex }: SqliteReadRequest) => {
    credits = setup.ahead;
    let text = '';
    let rows = 0;
    let lastId: number | null = null;
    const send = async () => {
      while (credits <= 0) await new Promise<void>((resolve) => (wake = resolve));
      credits -= 1;
      const data = Buffer.from(text, 'utf8');
      port.postMessage({ kind: 'chunk', data, rows } satisfies SqliteReaderMessage, [data.buffer as ArrayBuffer]);
      text = '';
      rows = 0;
    };
    const bad = (message: string) => Object.assign(new Error(message), { badRows: true });
    try {
      for (const row of database.prepare(sql).raw(true).iterate(...bindings)) {
        for (let i = 0; i < row.length; i += 1) row[i] = toCanonical(row[i], types[i], 'sqlite');
        if (idIndex >= 0) {
          const id = row[idIndex];
          if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw bad('an id that is not an integer');
          if (lastId !== null && id <= lastId) throw bad(`id ${id} after id ${lastId}: not in id order`);
          lastId = id;
        }
        text += `${JSON.stringify(row)}\n`;
        rows += 1;
        if (text.length >= setup.chunkChars) await send();
      }
      if (rows) await send();
      port.postMessage({ kind: 'done' } satisfies SqliteReaderMessage);
    } catch (error) {
      const { message, badRows } = error as Error & { badRows?: boolean };
      port.postMessage({ kind: 'failed', badRows: Boolean(badRows), message } satisfies SqliteReaderMessage);
    }
  };

  const next = async () => {
    if (busy) return;
    busy = true;
    for (let request = reads.shift(); request; request = reads.shift()) await read(request);
    busy = false;
  };

  port.on('message', (request: SqliteReaderRequest) => {
    if (request.kind === 'more') {
      credits += 1;
      const resume = wake;
      wake = null;
      resume?.();
      return;
    }
    reads.push(request);
    void next();
  });
};

if (parentPort) serve(workerData as SqliteReaderSetup, parentPort);
