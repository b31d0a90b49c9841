import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

import { EngineError } from './errors';
import { ARCHIVE_LIMITS } from './manifest';

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

export interface NdjsonOptions {
  /** The longest line accepted, in characters (at most its bytes). */
  maxLineBytes?: number;
  /** What the stream is (an archive entry), for the error messages. */
  label?: string;
}

/**
 * The parsed lines of an NDJSON stream, one batch per chunk read: a restore handles millions
 * of rows, and one promise per batch instead of several per row saves much of its CPU time
 * (Strapi runs with async hooks on, which every promise pays for).
 *
 * The input is untrusted: a line longer than maxLineBytes ends the stream with an error as soon
 * as it is seen, and a line that spans many chunks is gathered in parts and joined once, so a
 * long line costs linear time (joining it to the rest at every chunk cost quadratic time: a
 * 24 MB line took 100 s). A line that is not JSON is an EngineError naming the line.
 */
export async function* ndjsonBatches(input: Readable, options: NdjsonOptions = {}): AsyncGenerator<unknown[][]> {
  const maxLine = options.maxLineBytes ?? ARCHIVE_LIMITS.maxLineBytes;
  const label = options.label ?? 'NDJSON';
  const decoder = new StringDecoder('utf8');
  // The start of the current line, in the parts it came in.
  let parts: string[] = [];
  let partsLength = 0;
  let lineNumber = 0;

  const tooLong = () =>
    new EngineError('TOO_LARGE', `${label}: line ${lineNumber + 1} is longer than the limit of ${maxLine} bytes`, {
      entry: options.label,
      line: lineNumber + 1,
      limit: maxLine,
    });
  const parse = (line: string): unknown[] => {
    lineNumber += 1;
    try {
      return JSON.parse(line) as unknown[];
    } catch {
      throw new EngineError('BAD_ROWS', `${label}: line ${lineNumber} is not valid JSON`, { entry: options.label, line: lineNumber });
    }
  };

  try {
    for await (const chunk of input) {
      const text = decoder.write(chunk as Buffer);
      const first = text.indexOf('\n');
      if (first === -1) {
        parts.push(text);
        partsLength += text.length;
        if (partsLength > maxLine) throw tooLong();
        continue;
      }
      const batch: unknown[][] = [];
      // The line the earlier chunks started, then the whole lines of this chunk at once (split is
      // native and far quicker than a loop), then the start of the next line.
      if (partsLength + first > maxLine) throw tooLong();
      const head = partsLength ? parts.join('') + text.slice(0, first) : text.slice(0, first);
      if (head) batch.push(parse(head));
      else lineNumber += 1;
      const last = text.lastIndexOf('\n');
      if (last > first) {
        for (const line of text.slice(first + 1, last).split('\n')) {
          if (line.length > maxLine) throw tooLong();
          if (line) batch.push(parse(line));
          else lineNumber += 1;
        }
      }
      parts = last + 1 < text.length ? [text.slice(last + 1)] : [];
      partsLength = text.length - last - 1;
      if (partsLength > maxLine) throw tooLong();
      if (batch.length) yield batch;
    }
    const tail = decoder.end();
    if (tail) {
      parts.push(tail);
      partsLength += tail.length;
    }
    if (partsLength > maxLine) throw tooLong();
    if (partsLength) yield [parse(parts.join(''))];
  } finally {
    input.destroy();
  }
}

/** Parsed lines of an NDJSON stream, one by one. */
export async function* fromNdjson(input: Readable, options: NdjsonOptions = {}): AsyncGenerator<unknown[]> {
  for await (const batch of ndjsonBatches(input, options)) yield* batch;
}
