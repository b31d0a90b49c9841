import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';

import { ParallelDeflate, crc32 } from '../deflate';

const deflateAll = async (chunks: Buffer[], options: { level: number; blockSize?: number; maxInFlight?: number }) => {
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
});
