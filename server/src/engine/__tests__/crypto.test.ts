import { randomBytes } from 'node:crypto';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  CryptoError,
  DEFAULT_CHUNK_SIZE,
  assertKey,
  createDecryptStream,
  createEncryptStream,
  deriveKey,
  encryptedLength,
  keyCheck,
  newKeyParams,
  type KeyParams,
} from '../crypto';

const HEADER = 21;
const PREFIX = 4;
const TAG = 16;

/** Deterministic PRNG (mulberry32), so a failing slicing can be replayed from its seed. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/** Cuts `data` into slices of 1..maxSlice bytes (views, not copies). */
const slices = (data: Buffer, maxSlice: number, seed = 1): Buffer[] => {
  const random = prng(seed);
  const out: Buffer[] = [];
  for (let offset = 0; offset < data.length; ) {
    const size = 1 + Math.floor(random() * maxSlice);
    out.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return out;
};

/** Feeds the slices through the transform and collects everything it emitted, even on error. */
const run = async (transform: Transform, input: Buffer[]) => {
  const output: Buffer[] = [];
  let error: unknown;
  try {
    await pipeline(
      Readable.from(input),
      transform,
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          output.push(chunk);
          callback();
        },
      }),
    );
  } catch (caught) {
    error = caught;
  }
  return { output: Buffer.concat(output), error };
};

const encrypt = async (
  key: Buffer,
  plain: Buffer,
  opts: { chunkSize?: number; aad?: string } = {},
  maxSlice = 8192,
) => {
  const { output, error } = await run(createEncryptStream(key, opts), slices(plain, maxSlice));
  if (error) throw error;
  return output;
};

const decrypt = async (key: Buffer, data: Buffer, opts: { aad?: string } = {}, maxSlice = 8192) =>
  run(createDecryptStream(key, opts), slices(data, maxSlice, 7));

const decryptOk = async (key: Buffer, data: Buffer, opts: { aad?: string } = {}, maxSlice = 8192) => {
  const { output, error } = await decrypt(key, data, opts, maxSlice);
  if (error) throw error;
  return output;
};

/** Buffer.equals instead of toEqual: jest compares Buffers byte by byte, seconds for 64 KiB. */
const expectSameBytes = (actual: Buffer, expected: Buffer) => {
  expect(actual.length).toBe(expected.length);
  expect(actual.equals(expected)).toBe(true);
};

const codeOf = (error: unknown) =>
  error instanceof CryptoError ? error.code : `not a CryptoError: ${String(error)}`;

/** Offsets of the frames of a stream whose chunks are all `chunkSize` except the last. */
const frameStart = (i: number, chunkSize: number) => HEADER + i * (PREFIX + chunkSize + TAG);

const flipBit = (data: Buffer, byte: number, bit = 0) => {
  const copy = Buffer.from(data);
  copy[byte] ^= 1 << bit;
  return copy;
};

const key = randomBytes(32);
const otherKey = randomBytes(32);
const fastParams = (): KeyParams => ({ ...newKeyParams(), N: 2 ** 10 });

describe('encrypted stream round trip', () => {
  const cs = DEFAULT_CHUNK_SIZE;

  it.each([0, 1, cs - 1, cs, cs + 1, 3 * cs])(
    'restores %i bytes exactly, fed in random slices',
    async (size) => {
      const plain = randomBytes(size);
      const sealed = await encrypt(key, plain);
      expect(sealed.length).toBe(encryptedLength(size));
      expectSameBytes(await decryptOk(key, sealed, {}, 5000), plain);
    },
  );

  it('restores ~5 MB of random data fed in random slices up to 100 KiB', async () => {
    const plain = randomBytes(5 * 1024 * 1024 + 123);
    const sealed = await encrypt(key, plain, {}, 100 * 1024);
    expect(sealed.length).toBe(encryptedLength(plain.length));
    expectSameBytes(await decryptOk(key, sealed, {}, 100 * 1024), plain);
  });

  it('works when both sides are fed one byte at a time', async () => {
    const plain = randomBytes(1000);
    const sealed = await encrypt(key, plain, { chunkSize: 100, aad: 'media/a.png' }, 1);
    expect(sealed.length).toBe(encryptedLength(1000, 100));
    expectSameBytes(await decryptOk(key, sealed, { aad: 'media/a.png' }, 1), plain);
  });

  it('always ends with a final chunk shorter than chunkSize, empty for a multiple of it', async () => {
    const sealed = await encrypt(key, randomBytes(200), { chunkSize: 100 });
    expect(sealed.length).toBe(HEADER + 3 * (PREFIX + TAG) + 200);
    expect(sealed.readUInt32BE(frameStart(2, 100))).toBe(0);
  });

  it('writes the documented header and never repeats a nonce prefix', async () => {
    const plain = Buffer.from('same plaintext');
    const a = await encrypt(key, plain, { chunkSize: 4096 });
    const b = await encrypt(key, plain, { chunkSize: 4096 });
    expect(a.subarray(0, 8).toString('ascii')).toBe('PACTAGCM');
    expect(a[8]).toBe(1);
    expect(a.readUInt32BE(9)).toBe(4096);
    expect(a.subarray(13, 21).equals(b.subarray(13, 21))).toBe(false);
    expect(a.subarray(HEADER + PREFIX).equals(b.subarray(HEADER + PREFIX))).toBe(false);
    expect(a.includes(plain)).toBe(false);
  });

  it('refuses a bad key length or chunk size as a programming error', () => {
    expect(() => createEncryptStream(randomBytes(16))).toThrow(RangeError);
    expect(() => createDecryptStream(randomBytes(31))).toThrow(RangeError);
    expect(() => createEncryptStream(key, { chunkSize: 0 })).toThrow(RangeError);
    expect(() => createEncryptStream(key, { chunkSize: 1.5 })).toThrow(RangeError);
    expect(() => createEncryptStream(key, { chunkSize: 17 * 1024 * 1024 })).toThrow(RangeError);
  });
});

describe('encrypted stream tampering', () => {
  const cs = 64;
  const plain = randomBytes(3 * cs + 10); // three full chunks and a final one of 10 bytes
  let sealed: Buffer;

  beforeAll(async () => {
    sealed = await encrypt(key, plain, { chunkSize: cs, aad: 'entries/articles.ndjson' });
  });

  const opts = { aad: 'entries/articles.ndjson' };
  const frame = (i: number) => {
    const start = frameStart(i, cs);
    return sealed.subarray(start, start + PREFIX + sealed.readUInt32BE(start) + TAG);
  };

  it('decrypts the untouched stream', async () => {
    expectSameBytes(await decryptOk(key, sealed, opts), plain);
  });

  it('reports a wrong key as TAMPERED with the documented message', async () => {
    const { output, error } = await decrypt(otherKey, sealed, opts);
    expect(codeOf(error)).toBe('TAMPERED');
    expect((error as Error).message).toBe('the data was altered or the key is wrong');
    expect(output.length).toBe(0);
  });

  it('reports a bad magic or version as BAD_FORMAT', async () => {
    expect(codeOf((await decrypt(key, flipBit(sealed, 0), opts)).error)).toBe('BAD_FORMAT');
    expect(codeOf((await decrypt(key, flipBit(sealed, 8), opts)).error)).toBe('BAD_FORMAT');
    expect(codeOf((await decrypt(key, Buffer.from('{"not":"encrypted"}\n'.repeat(5)), opts)).error)).toBe(
      'BAD_FORMAT',
    );
  });

  it('rejects every flipped bit of the header as BAD_FORMAT or TAMPERED', async () => {
    for (let byte = 0; byte < HEADER; byte += 1) {
      for (let bit = 0; bit < 8; bit += 1) {
        const { output, error } = await decrypt(key, flipBit(sealed, byte, bit), opts);
        expect([byte, bit, codeOf(error)]).toEqual([
          byte,
          bit,
          expect.stringMatching(/^(BAD_FORMAT|TAMPERED)$/),
        ]);
        expect(output.length).toBe(0);
      }
    }
  });

  it('rejects a flipped bit in a chunk or in a tag as TAMPERED', async () => {
    const chunk1Ciphertext = frameStart(1, cs) + PREFIX + 5;
    const chunk1Tag = frameStart(1, cs) + PREFIX + cs + 3;
    const finalCiphertext = frameStart(3, cs) + PREFIX + 2;
    const finalTag = sealed.length - 1;
    for (const byte of [chunk1Ciphertext, chunk1Tag, finalCiphertext, finalTag]) {
      expect(codeOf((await decrypt(key, flipBit(sealed, byte, 3), opts)).error)).toBe('TAMPERED');
    }
  });

  it('rejects a flip of any single byte of the stream', async () => {
    for (let byte = 0; byte < sealed.length; byte += 1) {
      const { error } = await decrypt(key, flipBit(sealed, byte, byte % 8), opts);
      expect([byte, error instanceof CryptoError]).toEqual([byte, true]);
    }
  });

  it('emits only the chunks verified before the altered one', async () => {
    const { output, error } = await decrypt(key, flipBit(sealed, frameStart(2, cs) + PREFIX), opts, 1);
    expect(codeOf(error)).toBe('TAMPERED');
    expectSameBytes(output, plain.subarray(0, 2 * cs));
  });

  it('reports a cut inside a chunk as TRUNCATED', async () => {
    for (const cut of [
      frameStart(1, cs) + 2,
      frameStart(1, cs) + PREFIX + 30,
      frameStart(2, cs) - 1,
      sealed.length - 1,
    ]) {
      expect([cut, codeOf((await decrypt(key, sealed.subarray(0, cut), opts)).error)]).toEqual([
        cut,
        'TRUNCATED',
      ]);
    }
  });

  it('reports a cut at a chunk boundary as TRUNCATED', async () => {
    for (const i of [0, 1, 2, 3]) {
      const cut = frameStart(i, cs);
      const { output, error } = await decrypt(key, sealed.subarray(0, cut), opts);
      expect(codeOf(error)).toBe('TRUNCATED');
      expectSameBytes(output, plain.subarray(0, i * cs));
    }
  });

  it('reports every possible truncation, including an empty or header-only input, as TRUNCATED', async () => {
    for (let cut = 0; cut < sealed.length; cut += 1) {
      expect([cut, codeOf((await decrypt(key, sealed.subarray(0, cut), opts)).error)]).toEqual([
        cut,
        'TRUNCATED',
      ]);
    }
  });

  it('rejects two swapped chunks as TAMPERED', async () => {
    const swapped = Buffer.concat([sealed.subarray(0, HEADER), frame(1), frame(0), frame(2), frame(3)]);
    expect(swapped.length).toBe(sealed.length);
    const { output, error } = await decrypt(key, swapped, opts);
    expect(codeOf(error)).toBe('TAMPERED');
    expect(output.length).toBe(0);
  });

  it('rejects a dropped or repeated chunk', async () => {
    const dropped = Buffer.concat([sealed.subarray(0, HEADER), frame(0), frame(2), frame(3)]);
    expect(codeOf((await decrypt(key, dropped, opts)).error)).toBe('TAMPERED');
    const repeated = Buffer.concat([
      sealed.subarray(0, HEADER),
      frame(0),
      frame(0),
      frame(1),
      frame(2),
      frame(3),
    ]);
    expect(codeOf((await decrypt(key, repeated, opts)).error)).toBe('TAMPERED');
  });

  it('rejects a middle chunk presented as the last one', async () => {
    const ended = Buffer.concat([sealed.subarray(0, HEADER), frame(0), frame(1)]);
    expect(codeOf((await decrypt(key, ended, opts)).error)).toBe('TRUNCATED');
  });

  it('rejects data after the final chunk as TAMPERED', async () => {
    for (const garbage of [Buffer.from([0]), randomBytes(100), frame(3)]) {
      const { output, error } = await decrypt(key, Buffer.concat([sealed, garbage]), opts);
      expect(codeOf(error)).toBe('TAMPERED');
      expectSameBytes(output, plain);
    }
  });

  it('rejects a stream decrypted under another entry path as TAMPERED', async () => {
    expect(codeOf((await decrypt(key, sealed, { aad: 'entries/pages.ndjson' })).error)).toBe('TAMPERED');
    expect(codeOf((await decrypt(key, sealed)).error)).toBe('TAMPERED');
  });

  it('rejects a chunk taken from another stream under the same key', async () => {
    const other = await encrypt(key, plain, { chunkSize: cs, aad: opts.aad });
    const start = frameStart(1, cs);
    const spliced = Buffer.concat([
      sealed.subarray(0, start),
      other.subarray(start, frameStart(2, cs)),
      sealed.subarray(frameStart(2, cs)),
    ]);
    expect(codeOf((await decrypt(key, spliced, opts)).error)).toBe('TAMPERED');
  });
});

describe('key derivation', () => {
  it('creates scrypt parameters with a random 16-byte salt and the production cost', () => {
    const a = newKeyParams();
    const b = newKeyParams();
    expect(a).toEqual({ kdf: 'scrypt', salt: expect.any(String), N: 2 ** 15, r: 8, p: 1, keyLength: 32 });
    expect(Buffer.from(a.salt, 'base64')).toHaveLength(16);
    expect(a.salt).not.toBe(b.salt);
  });

  it('derives a 32-byte key with the production parameters (maxmem is large enough)', async () => {
    const derived = await deriveKey('correct horse battery staple', newKeyParams());
    expect(derived).toHaveLength(32);
  });

  it('is deterministic for the same passphrase and params, and differs with another salt or passphrase', async () => {
    const params = fastParams();
    const a = await deriveKey('passphrase', params);
    expect(await deriveKey('passphrase', { ...params })).toEqual(a);
    expect(await deriveKey('passphrase', { ...params, salt: fastParams().salt })).not.toEqual(a);
    expect(await deriveKey('Passphrase', params)).not.toEqual(a);
  });

  it('derives the same key from the composed and decomposed forms of a passphrase', async () => {
    const params = fastParams();
    expect(await deriveKey('caf\u00e9', params)).toEqual(await deriveKey('cafe\u0301', params));
  });

  it('refuses an empty passphrase with NO_PASSPHRASE', async () => {
    await expect(deriveKey('', fastParams())).rejects.toMatchObject({
      name: 'CryptoError',
      code: 'NO_PASSPHRASE',
    });
  });

  it.each([
    ['another kdf', { kdf: 'pbkdf2' }],
    ['a short salt', { salt: randomBytes(8).toString('base64') }],
    ['a salt that is not base64', { salt: '!!!!!!!!!!!!!!!!!!!!!!!!' }],
    ['N not a power of two', { N: 1000 }],
    ['a cost above the maximum', { N: 2 ** 22 }],
    ['r = 0', { r: 0 }],
    ['another key length', { keyLength: 16 }],
  ])('refuses params with %s as BAD_FORMAT', async (_label, change) => {
    const params = { ...fastParams(), ...change } as KeyParams;
    await expect(deriveKey('passphrase', params)).rejects.toMatchObject({ code: 'BAD_FORMAT' });
  });

  it('encrypts with a derived key and decrypts with the same passphrase', async () => {
    const params = fastParams();
    const plain = Buffer.from('{"id":1,"title":"Hello"}\n');
    const sealed = await encrypt(await deriveKey('s3cret', params), plain);
    expectSameBytes(await decryptOk(await deriveKey('s3cret', params), sealed), plain);
    expect(codeOf((await decrypt(await deriveKey('s3cret!', params), sealed)).error)).toBe('TAMPERED');
  });
});

describe('key check', () => {
  it('accepts the key it was computed from', () => {
    const check = keyCheck(key);
    expect(Buffer.from(check, 'base64')).toHaveLength(32);
    expect(keyCheck(Buffer.from(key))).toBe(check);
    expect(() => assertKey(key, check)).not.toThrow();
  });

  it('reports another key as WRONG_KEY', () => {
    expect(() => assertKey(otherKey, keyCheck(key))).toThrow(expect.objectContaining({ code: 'WRONG_KEY' }));
  });

  it('reports a malformed stored check as BAD_FORMAT', () => {
    expect(() => assertKey(key, 'abc')).toThrow(expect.objectContaining({ code: 'BAD_FORMAT' }));
    expect(() => assertKey(key, '')).toThrow(expect.objectContaining({ code: 'BAD_FORMAT' }));
  });
});

describe('secrecy of the passphrase', () => {
  it('never puts the passphrase in an error', async () => {
    const passphrase = 'Tr0ub4dor&3-very-secret';
    const params = fastParams();
    const errors: unknown[] = [];
    const derived = await deriveKey(passphrase, params);
    const wrong = await deriveKey(`${passphrase}x`, params);
    errors.push(await deriveKey(passphrase, { ...params, N: 3 }).catch((error: unknown) => error));
    errors.push(await deriveKey(passphrase, { ...params, salt: 'x' }).catch((error: unknown) => error));
    try {
      assertKey(wrong, keyCheck(derived));
    } catch (error) {
      errors.push(error);
    }
    const sealed = await encrypt(derived, randomBytes(300), { chunkSize: 64 });
    errors.push((await decrypt(wrong, sealed)).error);
    errors.push((await decrypt(derived, sealed.subarray(0, 100))).error);
    errors.push((await decrypt(derived, flipBit(sealed, 0))).error);

    expect(errors).toHaveLength(6);
    for (const error of errors) {
      expect(error).toBeInstanceOf(CryptoError);
      const text = [String(error), (error as Error).stack, JSON.stringify(error)].join('\n');
      expect(text).not.toContain(passphrase);
      expect(text).not.toContain(derived.toString('base64'));
      expect(text).not.toContain(derived.toString('hex'));
    }
  });
});
