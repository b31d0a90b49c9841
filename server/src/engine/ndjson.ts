import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** Value arrays as NDJSON lines, produced lazily so a table never sits whole in memory. */
export const toNdjson = (batches: AsyncIterable<unknown[][]>): Readable =>
  Readable.from(
    (async function* lines() {
      for await (const batch of batches) {
        let text = '';
        for (const row of batch) text += `${JSON.stringify(row)}\n`;
        yield Buffer.from(text);
      }
    })()
  );

/**
 * The parsed lines of an NDJSON stream, one batch per chunk read: a restore handles millions
 * of rows, and one promise per batch instead of several per row saves much of its CPU time
 * (Strapi runs with async hooks on, which every promise pays for).
 */
export async function* ndjsonBatches(input: Readable): AsyncGenerator<unknown[][]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for await (const chunk of input) {
      const lines = (rest + decoder.write(chunk as Buffer)).split('\n');
      rest = lines.pop()!;
      const batch: unknown[][] = [];
      for (const line of lines) if (line) batch.push(JSON.parse(line) as unknown[]);
      if (batch.length) yield batch;
    }
    const last = rest + decoder.end();
    if (last) yield [JSON.parse(last) as unknown[]];
  } finally {
    input.destroy();
  }
}

/** Parsed lines of an NDJSON stream, one by one. */
export async function* fromNdjson(input: Readable): AsyncGenerator<unknown[]> {
  for await (const batch of ndjsonBatches(input)) yield* batch;
}
