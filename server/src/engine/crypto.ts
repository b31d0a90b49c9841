import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  scrypt,
  timingSafeEqual,
} from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/*
 * Streaming authenticated encryption of one archive entry (NDJSON rows, a media file).
 *
 * Format, version 1 (all integers big-endian):
 *
 *   header  = magic "PACTAGCM" (8) | version 0x01 (1) | chunkSize uint32 (4) | noncePrefix (8)
 *   frame i = length uint32 (4) | ciphertext (length bytes) | GCM tag (16)
 *
 * A frame with length === chunkSize is a middle chunk; the last frame has length < chunkSize
 * (0 when the plaintext is a multiple of chunkSize), so the end of the data is always marked
 * by an authenticated final chunk and a cut at a chunk boundary cannot pass for a whole stream.
 * The length prefix is what lets the reader tell "the data stops here" (TRUNCATED) apart from
 * "this chunk was altered" (TAMPERED), and notice bytes after the final chunk as soon as they come.
 * (An altered length field that makes the final chunk claim more bytes reads as TRUNCATED: the
 * code names the likely cause, and every alteration is refused whatever the code.)
 *
 * Chunk i is sealed with AES-256-GCM under nonce = noncePrefix || uint32(i) and
 * AAD = header (21) | uint64(i) | final flag (1) | opts.aad (UTF-8). Binding the header stops a
 * chunk moving to another stream, the index stops reordering or dropping, the final flag stops
 * truncation, and opts.aad (the entry path in the archive) stops swapping whole entries.
 * The ciphertext length is covered by the GCM tag itself, so the length prefix needs no extra MAC.
 *
 * Nonce bounds: the index is 32 bits, so one stream holds at most 2^32 chunks (256 TiB at the
 * default 64 KiB). Streams that share a key (the entries of one archive) differ by their random
 * 64-bit prefix; the chance that two of n streams draw the same prefix is about n^2 / 2^65,
 * i.e. below 2^-25 for a million entries in one archive.
 */

const MAGIC = Buffer.from('PACTAGCM', 'ascii');
const VERSION = 1;
const NONCE_PREFIX_LENGTH = 8;
const HEADER_LENGTH = MAGIC.length + 1 + 4 + NONCE_PREFIX_LENGTH;
const LENGTH_PREFIX = 4;
const TAG_LENGTH = 16;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const MAX_CHUNKS = 2 ** 32;
const KEY_CHECK_LABEL = 'pacta-backup key check';

export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** The reader allocates one chunk from the size the header claims, so the header cannot ask for more. */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
/** scrypt needs about 128 * N * r bytes; a manifest asking for more is refused rather than obeyed. */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

export type CryptoErrorCode = 'WRONG_KEY' | 'TAMPERED' | 'TRUNCATED' | 'BAD_FORMAT' | 'NO_PASSPHRASE';

/**
 * Every failure of this module. Messages are fixed strings written here, never built from the
 * passphrase, the key or the data, so they are safe to log and to show in the admin panel.
 */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.name = 'CryptoError';
    this.code = code;
  }
}

const TAMPERED_MESSAGE = 'the data was altered or the key is wrong';
const TRUNCATED_MESSAGE = 'the encrypted data ends early: it was truncated';

export interface KeyParams {
  kdf: 'scrypt';
  /** base64 of 16 random bytes, one per archive, stored in the manifest. */
  salt: string;
  N: number;
  r: number;
  p: number;
  keyLength: 32;
}

export const newKeyParams = (): KeyParams => ({
  kdf: 'scrypt',
  salt: randomBytes(SALT_LENGTH).toString('base64'),
  N: 2 ** 15,
  r: 8,
  p: 1,
  keyLength: KEY_LENGTH,
});

const isPositiveInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value > 0;

/** Params come from a manifest that may be damaged or hostile, so they are checked before use. */
const checkKeyParams = (params: KeyParams): Buffer => {
  const badFormat = (what: string) => new CryptoError('BAD_FORMAT', `invalid key parameters: ${what}`);
  if (params?.kdf !== 'scrypt') throw badFormat('kdf must be scrypt');
  if (params.keyLength !== KEY_LENGTH) throw badFormat(`keyLength must be ${KEY_LENGTH}`);
  const { N, r, p } = params;
  if (!isPositiveInteger(N) || N < 2 || (N & (N - 1)) !== 0) throw badFormat('N must be a power of two');
  if (!isPositiveInteger(r) || !isPositiveInteger(p)) throw badFormat('r and p must be positive integers');
  if (128 * N * r > MAX_SCRYPT_MEMORY || p > 16) throw badFormat('the cost is above the supported maximum');
  const salt = typeof params.salt === 'string' ? Buffer.from(params.salt, 'base64') : Buffer.alloc(0);
  if (salt.length !== SALT_LENGTH || salt.toString('base64') !== params.salt) {
    throw badFormat(`salt must be ${SALT_LENGTH} bytes in base64`);
  }
  return salt;
};

/**
 * Derives the archive key from the passphrase. The passphrase is NFC-normalised first, so the
 * same visible passphrase typed on another system (or pasted in another Unicode form) still opens
 * the archive. Async so that the ~100 ms of scrypt does not block Strapi's event loop.
 */
export const deriveKey = async (passphrase: string, params: KeyParams): Promise<Buffer> => {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new CryptoError('NO_PASSPHRASE', 'an encryption passphrase is required');
  }
  const salt = checkKeyParams(params);
  const { N, r, p } = params;
  // Node's default maxmem (32 MiB) is just below what N = 2^15, r = 8 needs (128 * N * r plus
  // scrypt's working buffers), so it is sized from the parameters, with a margin.
  const maxmem = 128 * r * (N + p + 2) + 1024 * 1024;
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, KEY_LENGTH, { N, r, p, maxmem }, (error, key) => {
      // Node's scrypt errors describe the parameters only; still, a fixed message is certain
      // not to carry anything of the passphrase.
      if (error) reject(new CryptoError('BAD_FORMAT', 'the key could not be derived with these parameters'));
      else resolve(key);
    });
  });
};

/** A value stored in the manifest that tells a wrong key apart before any entry is decrypted. */
export const keyCheck = (key: Buffer): string =>
  createHmac('sha256', key).update(KEY_CHECK_LABEL, 'utf8').digest('base64');

export const assertKey = (key: Buffer, expectedCheck: string): void => {
  const expected = Buffer.from(typeof expectedCheck === 'string' ? expectedCheck : '', 'base64');
  if (expected.length !== 32) {
    throw new CryptoError('BAD_FORMAT', 'the key check stored in the backup is malformed');
  }
  const actual = Buffer.from(keyCheck(key), 'base64');
  if (!timingSafeEqual(actual, expected)) {
    throw new CryptoError('WRONG_KEY', 'the passphrase does not match the one this backup was made with');
  }
};

const assertKeyLength = (key: Buffer) => {
  if (!Buffer.isBuffer(key) || key.length !== KEY_LENGTH) {
    throw new RangeError(`the encryption key must be a ${KEY_LENGTH}-byte Buffer`);
  }
};

const isValidChunkSize = (size: number) => Number.isInteger(size) && size >= 1 && size <= MAX_CHUNK_SIZE;

const nonceFor = (noncePrefix: Buffer, index: number) => {
  const nonce = Buffer.alloc(NONCE_PREFIX_LENGTH + 4);
  noncePrefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, NONCE_PREFIX_LENGTH);
  return nonce;
};

const aadFor = (header: Buffer, index: number, final: boolean, aad: Buffer) => {
  const out = Buffer.alloc(header.length + 8 + 1 + aad.length);
  header.copy(out, 0);
  // uint64 written as two uint32 halves: index < 2^32, so the high half is always 0.
  out.writeUInt32BE(0, header.length);
  out.writeUInt32BE(index, header.length + 4);
  out[header.length + 8] = final ? 1 : 0;
  aad.copy(out, header.length + 9);
  return out;
};

/** Size of the encrypted stream for a plaintext of `plainLength` bytes (e.g. for a tar header). */
export const encryptedLength = (plainLength: number, chunkSize = DEFAULT_CHUNK_SIZE): number => {
  const frames = Math.floor(plainLength / chunkSize) + 1;
  return HEADER_LENGTH + frames * (LENGTH_PREFIX + TAG_LENGTH) + plainLength;
};

export const createEncryptStream = (
  key: Buffer,
  opts: { chunkSize?: number; aad?: string } = {},
): Transform => {
  assertKeyLength(key);
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!isValidChunkSize(chunkSize)) {
    throw new RangeError(`chunkSize must be an integer between 1 and ${MAX_CHUNK_SIZE}`);
  }
  const aad = Buffer.from(opts.aad ?? '', 'utf8');
  const noncePrefix = randomBytes(NONCE_PREFIX_LENGTH);
  const header = Buffer.alloc(HEADER_LENGTH);
  MAGIC.copy(header, 0);
  header[MAGIC.length] = VERSION;
  header.writeUInt32BE(chunkSize, MAGIC.length + 1);
  noncePrefix.copy(header, MAGIC.length + 5);

  // One preallocated chunk is filled by copying, whatever the slicing of the input: memory stays
  // at one chunk and every input byte is copied once.
  const pending = Buffer.alloc(chunkSize);
  let filled = 0;
  let index = 0;
  let headerSent = false;

  const seal = (stream: Transform, plaintext: Buffer, final: boolean) => {
    if (index >= MAX_CHUNKS) throw new RangeError('too much data for one encrypted stream (2^32 chunks)');
    const cipher = createCipheriv('aes-256-gcm', key, nonceFor(noncePrefix, index), {
      authTagLength: TAG_LENGTH,
    });
    cipher.setAAD(aadFor(header, index, final, aad));
    const length = Buffer.alloc(LENGTH_PREFIX);
    length.writeUInt32BE(plaintext.length, 0);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    stream.push(Buffer.concat([length, ciphertext, cipher.getAuthTag()]));
    index += 1;
  };

  const sendHeader = (stream: Transform) => {
    if (!headerSent) {
      stream.push(header);
      headerSent = true;
    }
  };

  return new Transform({
    transform(this: Transform, data: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        sendHeader(this);
        let offset = 0;
        while (offset < data.length) {
          const n = Math.min(chunkSize - filled, data.length - offset);
          data.copy(pending, filled, offset, offset + n);
          filled += n;
          offset += n;
          // A full chunk is never the final one: the final chunk is sealed at the end of input,
          // shorter than chunkSize, so the reader can always tell where the data stops.
          if (filled === chunkSize) {
            seal(this, pending, false);
            filled = 0;
          }
        }
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(this: Transform, callback: TransformCallback) {
      try {
        sendHeader(this);
        seal(this, pending.subarray(0, filled), true);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
};

export const createDecryptStream = (key: Buffer, opts: { aad?: string } = {}): Transform => {
  assertKeyLength(key);
  const aad = Buffer.from(opts.aad ?? '', 'utf8');

  const header = Buffer.alloc(HEADER_LENGTH);
  const lengthBytes = Buffer.alloc(LENGTH_PREFIX);
  let chunkSize = 0;
  let noncePrefix: Buffer = Buffer.alloc(0);
  // Allocated once the header gave the chunk size; holds one frame's ciphertext and tag.
  let frame: Buffer = Buffer.alloc(0);
  let frameLength = 0;
  let index = 0;

  // The reader is a small state machine over fixed-size fields: each state names the buffer it is
  // filling and how many bytes it needs, and input is copied into it slice by slice. A stream fed
  // one byte at a time costs the same as one fed in large blocks, with no Buffer.concat of the
  // accumulated input.
  let state: 'header' | 'length' | 'frame' | 'done' = 'header';
  let target: Buffer = header;
  let need = HEADER_LENGTH;
  let filled = 0;

  const readHeader = () => {
    if (!header.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new CryptoError('BAD_FORMAT', 'not a pacta-backup encrypted stream');
    }
    if (header[MAGIC.length] !== VERSION) {
      throw new CryptoError('BAD_FORMAT', 'unsupported version of the pacta-backup encrypted format');
    }
    chunkSize = header.readUInt32BE(MAGIC.length + 1);
    if (!isValidChunkSize(chunkSize)) {
      throw new CryptoError('BAD_FORMAT', 'invalid chunk size in the encrypted stream header');
    }
    noncePrefix = Buffer.from(header.subarray(MAGIC.length + 5));
    frame = Buffer.alloc(chunkSize + TAG_LENGTH);
  };

  const open = (stream: Transform) => {
    const final = frameLength < chunkSize;
    const decipher = createDecipheriv('aes-256-gcm', key, nonceFor(noncePrefix, index), {
      authTagLength: TAG_LENGTH,
    });
    decipher.setAAD(aadFor(header, index, final, aad));
    decipher.setAuthTag(frame.subarray(frameLength, frameLength + TAG_LENGTH));
    let plaintext: Buffer;
    try {
      // update() hands out plaintext before the tag is checked; it is pushed only after final()
      // verified the tag, so a consumer never sees a byte of an altered chunk.
      plaintext = Buffer.concat([decipher.update(frame.subarray(0, frameLength)), decipher.final()]);
    } catch {
      throw new CryptoError('TAMPERED', TAMPERED_MESSAGE);
    }
    if (plaintext.length > 0) stream.push(plaintext);
    index += 1;
    return final;
  };

  const advance = (stream: Transform) => {
    if (state === 'header') {
      readHeader();
      state = 'length';
      target = lengthBytes;
      need = LENGTH_PREFIX;
    } else if (state === 'length') {
      frameLength = lengthBytes.readUInt32BE(0);
      if (frameLength > chunkSize) throw new CryptoError('TAMPERED', TAMPERED_MESSAGE);
      if (index >= MAX_CHUNKS) throw new CryptoError('BAD_FORMAT', 'too many chunks in the encrypted stream');
      state = 'frame';
      target = frame;
      need = frameLength + TAG_LENGTH;
    } else {
      const final = open(stream);
      state = final ? 'done' : 'length';
      target = lengthBytes;
      need = LENGTH_PREFIX;
    }
    filled = 0;
  };

  return new Transform({
    transform(this: Transform, data: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        let offset = 0;
        while (offset < data.length) {
          if (state === 'done') {
            throw new CryptoError('TAMPERED', 'data follows the final chunk: the data was altered');
          }
          const n = Math.min(need - filled, data.length - offset);
          data.copy(target, filled, offset, offset + n);
          filled += n;
          offset += n;
          if (filled === need) advance(this);
        }
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(this: Transform, callback: TransformCallback) {
      // Only a verified final chunk ends a stream; anything else means bytes are missing.
      callback(state === 'done' ? null : new CryptoError('TRUNCATED', TRUNCATED_MESSAGE));
    },
  });
};
