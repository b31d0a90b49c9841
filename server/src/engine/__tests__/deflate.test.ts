import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';

import { CDC_MAX, CDC_MIN, ParallelDeflate, crc32, findBoundary } from '../deflate';

const deflateAll = async (
  chunks: Buffer[],
  options: { level: number; blockSize?: number; maxInFlight?: number; chunking?: 'fixed' | 'content' }
) => {
  const deflate = new ParallelDeflate(options);
  const out: Buffer[] = [];
  for await (const chunk of Readable.from(chunks).pipe(deflate)) out.push(chunk as Buffer);
  return { data: Buffer.concat(out), crc: deflate.crc, size: deflate.size };
};

const text = (bytes: number) => {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i += 1) {
    const line = `[${i},"doc${i % 97}","contract ${i * 7919}",${i % 13 === 0 ? 'null' : `"${'x'.repeat(i % 40)}"`}]\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
};

describe('ParallelDeflate', () => {
  it.each([
    ['empty', 0, 64 * 1024],
    ['one byte', 1, 64 * 1024],
    ['below a block', 50_000, 64 * 1024],
    ['exactly one block', 64 * 1024, 64 * 1024],
    ['many blocks', 1_000_000, 64 * 1024],
    ['blocks shorter than the window', 300_000, 10_000],
  ])('makes one raw deflate stream that inflates to the input (%s)', async (_name, bytes, blockSize) => {
    const input = text(bytes);
    const chunks: Buffer[] = [];
    for (let at = 0; at < input.length; at += 7_777) chunks.push(input.subarray(at, at + 7_777));
    const { data, crc, size } = await deflateAll(chunks, { level: 9, blockSize, maxInFlight: 3 });
    expect(zlib.inflateRawSync(data).equals(input)).toBe(true);
    expect(size).toBe(input.length);
    expect(crc).toBe(crc32(input));
    expect(crc).toBe(zlib.crc32(input));
  });

  it('compresses about as well as one stream (the dictionary carries the window over)', async () => {
    const input = text(2_000_000);
    const { data } = await deflateAll([input], { level: 6, blockSize: 128 * 1024 });
    expect(data.length).toBeLessThan(zlib.deflateRawSync(input, { level: 6 }).length * 1.01);
  });

  it('takes random (incompressible) data too', async () => {
    const input = randomBytes(500_000);
    const { data } = await deflateAll([input], { level: 1, blockSize: 100_000 });
    expect(zlib.inflateRawSync(data).equals(input)).toBe(true);
  });

  it('computes the zip CRC-32 without zlib.crc32 the same way', () => {
    const input = text(100_000);
    const half = crc32(input.subarray(0, 40_000));
    expect(crc32(input.subarray(40_000), half)).toBe(crc32(input));
  });

  describe("chunking: 'content'", () => {
    /** The deflated pieces: the output cut after each sync flush marker. */
    const piecesOf = (data: Buffer) => {
      const pieces: string[] = [];
      let from = 0;
      for (let at = data.indexOf(MARKER); at >= 0; at = data.indexOf(MARKER, at + 1)) {
        pieces.push(data.subarray(from, at + 4).toString('base64'));
        from = at + 4;
      }
      pieces.push(data.subarray(from).toString('base64'));
      return pieces;
    };
    const MARKER = Buffer.from([0, 0, 0xff, 0xff]);
    const shared = (a: string[], b: string[]) => {
      const seen = new Set(a);
      return b.filter((piece) => seen.has(piece)).length;
    };
    const split = (input: Buffer, size: number) => {
      const chunks: Buffer[] = [];
      for (let at = 0; at < input.length; at += size) chunks.push(input.subarray(at, at + size));
      return chunks;
    };

    it.each([
      ['empty', 0],
      ['one byte', 1],
      ['below the smallest piece', CDC_MIN - 1],
      ['many pieces', 3_000_000],
    ])('makes one raw deflate stream that inflates to the input (%s)', async (_name, bytes) => {
      const input = text(bytes);
      const { data, crc, size } = await deflateAll(split(input, 7_777), { level: 6, chunking: 'content', maxInFlight: 2 });
      expect(zlib.inflateRawSync(data).equals(input)).toBe(true);
      expect(size).toBe(input.length);
      expect(crc).toBe(zlib.crc32(input));
    });

    it('cuts the same pieces however the input arrives', async () => {
      const input = text(2_000_000);
      const whole = await deflateAll([input], { level: 6, chunking: 'content' });
      const small = await deflateAll(split(input, 1_000), { level: 6, chunking: 'content', blockSize: 100_000 });
      expect(small.data.equals(whole.data)).toBe(true);
    });

    it('gives the same pieces again around an edit and an insertion', async () => {
      const input = text(4_000_000);
      const before = piecesOf((await deflateAll([input], { level: 6, chunking: 'content' })).data);
      expect(before.length).toBeGreaterThan(4_000_000 / (CDC_MAX + 1));

      const edited = Buffer.from(input);
      edited.write('EDITED', 2_000_000);
      const afterEdit = piecesOf((await deflateAll([edited], { level: 6, chunking: 'content' })).data);
      // The edited piece and the next (its dictionary) differ, one more if the edit moved a
      // boundary; the last piece ends the stream.
      expect(shared(before, afterEdit)).toBeGreaterThanOrEqual(before.length - 4);

      const inserted = Buffer.concat([input.subarray(0, 1_000_000), Buffer.from('a new row\n'.repeat(50)), input.subarray(1_000_000)]);
      const afterInsert = piecesOf((await deflateAll([inserted], { level: 6, chunking: 'content' })).data);
      expect(shared(before, afterInsert)).toBeGreaterThanOrEqual(before.length - 5);
    });

    it('compresses rows within a few percent of one stream (each piece has the end of the one before as its dictionary)', async () => {
      const input = text(3_000_000);
      const { data } = await deflateAll([input], { level: 6, chunking: 'content' });
      expect(data.length).toBeLessThan(zlib.deflateRawSync(input, { level: 6 }).length * 1.05);
    });

    it('cuts pieces of CDC_MIN to CDC_MAX bytes, random data too', () => {
      for (const input of [text(3_000_000), randomBytes(3_000_000), Buffer.alloc(1_000_000)]) {
        let from = 0;
        const sizes: number[] = [];
        while (from < input.length) {
          const { at } = findBoundary(input.subarray(from), 0, 0);
          if (at < 0) break;
          sizes.push(at);
          from += at;
        }
        expect(sizes.length).toBeGreaterThan(0);
        expect(Math.min(...sizes)).toBeGreaterThanOrEqual(CDC_MIN);
        expect(Math.max(...sizes)).toBeLessThanOrEqual(CDC_MAX);
      }
    });
  });
});
