import readline from 'node:readline';
import { Readable } from 'node:stream';

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

/** Parsed lines of an NDJSON stream. */
export async function* fromNdjson(input: Readable): AsyncGenerator<unknown[]> {
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (line) yield JSON.parse(line) as unknown[];
    }
  } finally {
    lines.close();
    input.destroy();
  }
}
