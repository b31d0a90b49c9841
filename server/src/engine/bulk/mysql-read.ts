import type { MysqlConnection } from './mysql-driver';
import { databaseError } from './mysql-driver';

/**
 * The rows of one SELECT, streamed from the server in batches of `size` arrays: the driver
 * reads the result as it arrives and the socket is paused while `ahead` batches wait for the
 * consumer (memory stays flat whatever the table's size). Values are what the connection's own
 * typeCast makes of them, exactly as a knex query on the same connection would return.
 *
 * Stopping early (the consumer throws or returns) reads the rest of the result and drops it:
 * the connection must be free again for the statements that follow (the snapshot's COMMIT).
 */
export async function* streamSelect(
  connection: MysqlConnection,
  sql: string,
  values: readonly unknown[],
  { size = 2000, ahead = 2 }: { size?: number; ahead?: number } = {}
): AsyncGenerator<unknown[][]> {
  const ready: unknown[][][] = [];
  let batch: unknown[][] = [];
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

  connection
    .query({ sql, values, rowsAsArray: true })
    .on('result', (row) => {
      if (discard) return;
      batch.push(row);
      if (batch.length < size) return;
      ready.push(batch);
      batch = [];
      if (ready.length >= ahead && !paused) {
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
      if (batch.length && !discard) ready.push(batch);
      batch = [];
      ended = true;
      notify();
    });

  try {
    for (;;) {
      if (ready.length) {
        const next = ready.shift()!;
        if (paused && ready.length < ahead) {
          paused = false;
          connection.resume();
        }
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
      discard = true;
      ready.length = 0;
      batch = [];
      if (paused) {
        paused = false;
        connection.resume();
      }
      while (!ended) await waitForNews();
    }
  }
}
