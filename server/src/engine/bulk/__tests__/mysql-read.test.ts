import { EventEmitter } from 'node:events';

import type { MysqlConnection } from '../mysql-driver';
import { streamQuery, streamSelect } from '../mysql-read';

/**
 * A stand-in for a mysql2 connection streaming `total` rows: rows arrive while the socket is
 * not paused, as the driver delivers them; `maxAhead` records how many rows were delivered and
 * not yet handed to the consumer at most (what backpressure bounds).
 */
const fakeConnection = (total: number, { failAt }: { failAt?: number } = {}) => {
  const state = { paused: false, sent: 0, ended: false, pauses: 0 };
  let query: EventEmitter;
  const pump = () => {
    while (!state.paused && state.sent < total) {
      if (state.sent === failAt) {
        query.emit('error', Object.assign(new Error('Lost connection'), { sql: 'SELECT secret', code: 'PROTOCOL_CONNECTION_LOST' }));
        state.ended = true;
        return;
      }
      query.emit('result', [state.sent, `row ${state.sent}`]);
      state.sent += 1;
      if (state.sent % 100 === 0) {
        setImmediate(pump);
        return;
      }
    }
    if (state.sent >= total && !state.ended) {
      state.ended = true;
      query.emit('end');
    }
  };
  const connection = {
    query: () => {
      query = new EventEmitter();
      setImmediate(pump);
      return query;
    },
    pause: () => {
      state.paused = true;
      state.pauses += 1;
    },
    resume: () => {
      state.paused = false;
      setImmediate(pump);
    },
  } as unknown as MysqlConnection;
  return { connection, state };
};

describe('streamSelect', () => {
  it('hands out every row in order, in batches of the size asked', async () => {
    const { connection } = fakeConnection(2345);
    const sizes: number[] = [];
    const ids: unknown[] = [];
    for await (const batch of streamSelect(connection, 'SELECT', [], { size: 500 })) {
      sizes.push(batch.length);
      ids.push(...batch.map((row) => row[0]));
    }
    expect(sizes).toEqual([500, 500, 500, 500, 345]);
    expect(ids).toEqual(Array.from({ length: 2345 }, (_, i) => i));
  });

  it('pauses the socket while batches wait for a slow consumer', async () => {
    const { connection, state } = fakeConnection(20000);
    let seen = 0;
    let maxAhead = 0;
    for await (const batch of streamSelect(connection, 'SELECT', [], { size: 1000, ahead: 2 })) {
      seen += batch.length;
      maxAhead = Math.max(maxAhead, state.sent - seen);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(seen).toBe(20000);
    expect(state.pauses).toBeGreaterThan(0);
    // Two batches ready, one being filled, and what the driver had in hand when paused.
    expect(maxAhead).toBeLessThanOrEqual(3 * 1000 + 100);
  });

  it('reads the rest of the result when the consumer stops early, leaving the connection free', async () => {
    const { connection, state } = fakeConnection(10000);
    for await (const batch of streamSelect(connection, 'SELECT', [], { size: 100 })) {
      expect(batch).toHaveLength(100);
      break;
    }
    expect(state.ended).toBe(true);
    expect(state.sent).toBe(10000);
    expect(state.paused).toBe(false);
  });

  it('fails with the database words only (not the statement the driver keeps)', async () => {
    const { connection } = fakeConnection(5000, { failAt: 1234 });
    const read = async () => {
      for await (const batch of streamSelect(connection, 'SELECT', [], { size: 100 })) void batch;
    };
    const error = await read().catch((e: unknown) => e as Error & { sql?: string; code?: string });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ message: 'Lost connection', code: 'PROTOCOL_CONNECTION_LOST' });
    expect((error as { sql?: string }).sql).toBeUndefined();
  });
});

describe('streamQuery', () => {
  it('a collector that stops: what it emitted is handed on once the rest of the result was dropped', async () => {
    const { connection, state } = fakeConnection(5000);
    const seen: Array<{ item: string; sentWhenHanded: number; ended: boolean }> = [];
    let rows = 0;
    const stream = streamQuery<string>(
      connection,
      { sql: 'SELECT' },
      {
        take(row, emit, stop) {
          rows += 1;
          if (row[0] === 1500) {
            emit('before');
            emit(`stop at ${String(row[0])}`);
            stop();
          }
        },
        end: (emit) => emit('end'),
      }
    );
    for await (const item of stream) seen.push({ item, sentWhenHanded: state.sent, ended: state.ended });
    expect(seen.map((s) => s.item)).toEqual(['before', 'stop at 1500']);
    // The collector saw no row after its stop, and the connection was free before either item.
    expect(rows).toBe(1501);
    expect(seen.every((s) => s.ended && s.sentWhenHanded === 5000)).toBe(true);
    expect(state.paused).toBe(false);
  });

  it('emits what is left when the result ends', async () => {
    const { connection } = fakeConnection(250);
    let count = 0;
    const items: number[] = [];
    const collector = {
      take: (_row: unknown[], emit: (n: number) => void) => {
        count += 1;
        if (count % 100 === 0) emit(count);
      },
      end: (emit: (n: number) => void) => emit(count),
    };
    for await (const item of streamQuery<number>(connection, { sql: 'SELECT' }, collector)) items.push(item);
    expect(items).toEqual([100, 200, 250]);
  });
});
