import type { MysqlConnection, MysqlQueryOptions } from './mysql-driver';
import { databaseError } from './mysql-driver';

/**
 * What a streamed query makes of its rows: `take` sees each row as it arrives and hands on
 * whatever is ready with `emit`; `stop` ends the stream after what was emitted (the rest of the
 * result is read and dropped). `end` emits what is left when the result ends.
 */
export interface RowCollector<T> {
  take(row: unknown[], emit: (item: T) => void, stop: () => void): void;
  end(emit: (item: T) => void): void;
}

/**
 * The items a collector makes of one query's rows, as the driver reads the result: the socket is
 * paused while `ahead` items wait for the consumer (memory stays flat whatever the table's size).
 *
 * The connection is free again before the stream ends, however it ends (the consumer throws or
 * returns, or the collector stops it): the rest of the result is read and dropped first, because
 * the statements that follow (the snapshot's COMMIT, the rest of a table read another way) need
 * the connection. After a stop, the items already emitted are handed on only once it is free.
 */
export async function* streamQuery<T>(
  connection: MysqlConnection,
  options: MysqlQueryOptions,
  collector: RowCollector<T>,
  ahead = 2
): AsyncGenerator<T> {
  const ready: T[] = [];
  let ended = false;
  let failure: Error | null = null;
  let paused = false;
  let discard = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    const resume = wake;
    wake = null;
    resume?.();
  };
  const waitForNews = () => new Promise<void>((resolve) => (wake = resolve));
  const emit = (item: T) => {
    ready.push(item);
  };
  const stop = () => {
    discard = true;
  };
  const unpause = () => {
    if (!paused) return;
    paused = false;
    connection.resume();
  };
  /** Reads the rest of the result and drops it. */
  const drain = async () => {
    discard = true;
    unpause();
    while (!ended) await waitForNews();
  };

  connection
    .query({ rowsAsArray: true, ...options })
    .on('result', (row) => {
      if (discard) return;
      const before = ready.length;
      collector.take(row, emit, stop);
      if (ready.length === before && !discard) return;
      if (ready.length >= ahead && !paused && !discard) {
        paused = true;
        connection.pause();
      }
      notify();
    })
    .on('error', (error) => {
      failure = databaseError(error);
      ended = true;
      notify();
    })
    .on('end', () => {
      if (!discard) collector.end(emit);
      ended = true;
      notify();
    });

  try {
    for (;;) {
      if (ready.length) {
        if (discard && !ended) {
          await drain();
          if (failure) throw failure;
        }
        const next = ready.shift()!;
        if (paused && ready.length < ahead) unpause();
        yield next;
      } else if (failure) {
        throw failure;
      } else if (ended) {
        return;
      } else {
        await waitForNews();
      }
    }
  } finally {
    if (!ended) {
      ready.length = 0;
      await drain();
    }
  }
}

/**
 * The rows of one SELECT, streamed from the server in batches of `size` arrays (see
 * streamQuery). Values are what the connection's own typeCast makes of them, exactly as a knex
 * query on the same connection would return.
 */
export function streamSelect(
  connection: MysqlConnection,
  sql: string,
  values: readonly unknown[],
  { size = 2000, ahead = 2 }: { size?: number; ahead?: number } = {}
): AsyncGenerator<unknown[][]> {
  let batch: unknown[][] = [];
  return streamQuery<unknown[][]>(
    connection,
    { sql, values },
    {
      take(row, emit) {
        batch.push(row);
        if (batch.length < size) return;
        emit(batch);
        batch = [];
      },
      end(emit) {
        if (batch.length) emit(batch);
        batch = [];
      },
    },
    ahead
  );
}
