import os from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';

/**
 * One raw deflate stream made by compressing blocks of the input at the same time, the way pigz
 * does: each block is deflated on its own (on libuv's threadpool) with the last 32 KiB of the
 * input before it as its dictionary, and ends with a sync flush (an empty stored block, so it
 * ends on a byte boundary) except the last, which ends the stream. Concatenated in order, the
 * blocks are one valid deflate stream that any inflater reads; the dictionary keeps the ratio
 * within a fraction of a percent of a single stream.
 *
 * Why: level 6 deflates NDJSON at ~68 MB/s on one core (level 9 at ~17 MB/s). One zlib
 * stream uses one core; this one keeps up to `maxInFlight` blocks compressing while the main
 * thread goes on reading and serialising rows. Memory: at most maxInFlight blocks (input and
 * output) plus the block being filled.
 *
 * It also takes the CRC-32 and the size of the input (the zip's entry header needs them).
 *
 * `chunking: 'content'` cuts the input where its content says (below) instead of every
 * `blockSize` bytes, and deflates each piece with the last 32 KiB of the piece before it as its
 * dictionary (not of everything before): the deflated bytes of a piece depend on that piece and
 * the one before only, and each ends with the sync flush's marker (00 00 ff ff). An unchanged
 * run of rows in a table whose other rows changed then gives the same deflated bytes again, but
 * for the piece after an edited one, which the deduplicated off-site copies cut at those markers
 * and do not send twice (engine/backends/chunked.ts). Used for plain archives (an encrypted
 * entry never repeats). Measured on the M dataset's contracts (113.6 MB of rows, 6.36 MB as one
 * stream), pieces of at least 32 KiB: 6.48 MB (+1.9 %); without the dictionary 8.93 MB (+40 %),
 * with pieces of at least 16 KiB 6.65 MB and 10.38 MB. The dictionary makes an edit resend the
 * next piece too: after 1 % of the rows were edited a copy sent 2.65 MB of that table with it,
 * 2.39 MB without (bigger pieces, fewer objects: the index an unchanged copy sends stays small).
 */

const WINDOW = 32 * 1024;
export const DEFAULT_BLOCK_SIZE = 1024 * 1024;
/** Blocks compressing at once: one per core (at least two, at most four: memory stays small). */
export const DEFAULT_MAX_IN_FLIGHT = Math.min(4, Math.max(2, os.availableParallelism()));
const OUTPUT_CHUNK = 256 * 1024;
const PIECE_OUTPUT = 64 * 1024;

/** CRC-32 (zip's): zlib.crc32 where Node has it (20.15+), a table otherwise. */
const crcTable = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

const crc32Js = (data: Buffer, value = 0): number => {
  let crc = ~value;
  for (let i = 0; i < data.length; i += 1) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
};

const native = (zlib as unknown as { crc32?: (data: Buffer, value?: number) => number }).crc32;

export const crc32 = (data: Buffer, value = 0): number => (native ? native(data, value) : crc32Js(data, value));

/**
 * Content-defined boundaries (FastCDC's gear hash): a piece ends after the first byte, at least
 * CDC_MIN bytes in, where the top CDC_BITS bits of the gear hash of the last 32 bytes are all
 * zero, and at CDC_MAX bytes at the latest. On varied bytes pieces average CDC_MIN + 2^CDC_BITS
 * (64 KiB); on rows that repeat a 32-byte run (a JSON field's boilerplate) the first such run
 * after CDC_MIN ends the piece, so pieces are about CDC_MIN plus a row. An edit moves at most the
 * boundaries near it, so the pieces before and after it come out the same. Why bytes and not
 * rows: a boundary needs no knowledge of the entry's format.
 *
 * The gear table and these numbers are part of what makes two backups' pieces match: changing
 * them makes the next copy send everything once.
 */
export const CDC_MIN = 32 * 1024;
export const CDC_MAX = 256 * 1024;
const CDC_BITS = 15;
const CDC_MASK = (((1 << CDC_BITS) - 1) << (32 - CDC_BITS)) | 0;
const GEAR = (() => {
  // Fixed for ever (see above): mulberry32 from a constant seed.
  const table = new Int32Array(256);
  let state = 0x9e3779b9;
  for (let i = 0; i < 256; i += 1) {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    table[i] = t ^ (t >>> 14);
  }
  return table;
})();

/**
 * Where the next boundary is in `data`, given `filled` bytes of the current piece before it and
 * the hash so far: the index just after the boundary's byte, or -1 (and the new hash) if none.
 */
export const findBoundary = (data: Uint8Array, filled: number, hash: number): { at: number; hash: number } => {
  let h = hash;
  // The first CDC_MIN bytes of a piece are not hashed; the hash starts 32 bytes before its first
  // test, so it depends on the piece's own bytes only.
  let i = Math.max(0, CDC_MIN - 32 - filled);
  if (filled + i === CDC_MIN - 32) h = 0;
  const limit = Math.min(data.length, CDC_MAX - filled);
  for (; i < limit; i += 1) {
    h = ((h << 1) + GEAR[data[i]]) | 0;
    if ((h & CDC_MASK) === 0 && filled + i + 1 >= CDC_MIN) return { at: i + 1, hash: 0 };
  }
  if (filled + limit >= CDC_MAX) return { at: limit, hash: 0 };
  return { at: -1, hash: h };
};

const deflateBlock = (block: Buffer, level: number, dictionary: Buffer | null, last: boolean, chunkSize = OUTPUT_CHUNK) =>
  new Promise<Buffer>((resolve, reject) => {
    zlib.deflateRaw(
      block,
      {
        level,
        // Output in few large pieces: each piece is a callback on the main thread.
        chunkSize,
        ...(dictionary ? { dictionary } : {}),
        finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
      },
      (error, out) => (error ? reject(error) : resolve(out))
    );
  });

export interface ParallelDeflateOptions {
  level: number;
  /** fixed: blocks of `blockSize` with the window carried over; content: see above. */
  chunking?: 'fixed' | 'content';
  /** Bytes of input per job on the threadpool (content: whole pieces, at least this many). */
  blockSize?: number;
  maxInFlight?: number;
}

export class ParallelDeflate extends Transform {
  /** CRC-32 of the input so far (of all of it once the stream ended). */
  crc = 0;
  /** Bytes of input so far. */
  size = 0;
  private readonly level: number;
  private readonly chunking: 'fixed' | 'content';
  private readonly blockSize: number;
  private readonly maxInFlight: number;
  /** The block (fixed) or piece (content) being filled. */
  private parts: Buffer[] = [];
  private filled = 0;
  private dictionary: Buffer | null = null;
  /** content: whole pieces waiting for the next job, their bytes, and the gear hash so far. */
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  private hash = 0;
  private readonly inFlight: Array<Promise<Buffer>> = [];

  constructor({ level, chunking = 'fixed', blockSize = DEFAULT_BLOCK_SIZE, maxInFlight = DEFAULT_MAX_IN_FLIGHT }: ParallelDeflateOptions) {
    super();
    this.level = level;
    this.chunking = chunking;
    this.blockSize = blockSize;
    this.maxInFlight = Math.max(1, maxInFlight);
  }

  private takeParts() {
    const block = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.filled);
    this.parts = [];
    this.filled = 0;
    return block;
  }

  private enqueue(job: Promise<Buffer>) {
    // A rejection is handled where the job is awaited, in order; this only keeps it from
    // counting as unhandled meanwhile.
    job.catch(() => undefined);
    this.inFlight.push(job);
  }

  private submit(last: boolean) {
    const block = this.takeParts();
    this.enqueue(deflateBlock(block, this.level, this.dictionary, last));
    if (!last) {
      // The window the next block may refer back to: the last 32 KiB of everything so far (a
      // block is never shorter than that but the last, which has no successor).
      const tail = block.subarray(Math.max(0, block.length - WINDOW));
      this.dictionary = this.dictionary && tail.length < WINDOW ? Buffer.concat([this.dictionary, tail]).subarray(-WINDOW) : Buffer.from(tail);
    }
  }

  /** content: one job of the whole pieces so far (and, last, the piece being filled, ending the stream). */
  private submitPieces(last: boolean) {
    const pieces = this.pieces;
    this.pieces = [];
    this.pieceBytes = 0;
    if (last) pieces.push(this.takeParts());
    // Each piece's dictionary: the end of the piece before it (none for the entry's first).
    const dictionaries = pieces.map((piece) => {
      const dictionary = this.dictionary;
      this.dictionary = piece.length >= WINDOW ? piece.subarray(piece.length - WINDOW) : piece;
      return dictionary;
    });
    // One piece after the other within a job (one threadpool task at a time per job, as a fixed
    // block is): a job's pieces queued at once would hold the threadpool's four threads and
    // delay the file reads and writes behind them (measured: an M backup 6 s slower).
    const job = (async () => {
      const out: Buffer[] = [];
      for (const [i, piece] of pieces.entries()) {
        // A piece deflates to less than PIECE_OUTPUT but for incompressible data: one buffer each.
        out.push(await deflateBlock(piece, this.level, dictionaries[i], last && i === pieces.length - 1, PIECE_OUTPUT));
      }
      return out.length === 1 ? out[0] : Buffer.concat(out);
    })();
    this.enqueue(job);
  }

  /** content: cuts `chunk` at its boundaries into whole pieces. */
  private cut(chunk: Buffer) {
    let rest = chunk;
    while (rest.length) {
      const { at, hash } = findBoundary(rest, this.filled, this.hash);
      this.hash = hash;
      if (at < 0) {
        this.parts.push(rest);
        this.filled += rest.length;
        return;
      }
      this.parts.push(rest.subarray(0, at));
      this.filled += at;
      const piece = this.takeParts();
      this.pieces.push(piece);
      this.pieceBytes += piece.length;
      rest = rest.subarray(at);
    }
  }

  /** Pushes finished blocks in order while more than `keep` are in flight. */
  private async drain(keep: number) {
    while (this.inFlight.length > keep) {
      const out = await this.inFlight[0];
      this.inFlight.shift();
      if (out.length) this.push(out);
    }
  }

  _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.crc = crc32(chunk, this.crc);
    this.size += chunk.length;
    if (this.chunking === 'content') {
      this.cut(chunk);
      if (this.pieceBytes < this.blockSize) {
        callback();
        return;
      }
      this.submitPieces(false);
    } else {
      this.parts.push(chunk);
      this.filled += chunk.length;
      if (this.filled < this.blockSize) {
        callback();
        return;
      }
      this.submit(false);
    }
    this.drain(this.maxInFlight - 1).then(() => callback(), callback);
  }

  _flush(callback: TransformCallback) {
    if (this.chunking === 'content') this.submitPieces(true);
    else this.submit(true);
    this.drain(0).then(() => callback(), callback);
  }
}
