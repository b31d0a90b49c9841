import fs from 'node:fs';
import zlib from 'node:zlib';

import unzipper from 'unzipper';

export interface RawEntry {
  name: string;
  /** The content. */
  data: Buffer;
  /** Deflated (raw deflate) bytes to store instead of `data`: the entry is then method 8. */
  deflated?: Buffer;
  /** The uncompressed size the headers claim (a lie, for bombs); the real size otherwise. */
  declaredSize?: number;
  /** unix mode written in the external attributes (0o120777 marks a symbolic link). */
  mode?: number;
}

/**
 * A minimal zip writer for tests that need archives the plugin would never write: an entry
 * named `../x`, two entries of one name, a manifest edited by hand, a symbolic link, an entry
 * whose headers lie about its size.
 */
export const zipBytes = (entries: RawEntry[]) => {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data, deflated, declaredSize, mode } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const body = deflated ?? data;
    const crc = zlib.crc32(data);
    const size = declaredSize ?? data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(deflated ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(mode === undefined ? 20 : 0x0300 | 20, 4); // made by unix when a mode is given
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(deflated ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(mode === undefined ? 0 : (mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, body);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
};

export const writeZip = (file: string, entries: RawEntry[]) => fs.writeFileSync(file, zipBytes(entries));

/** Every entry of a zip, as stored bytes after the zip's own decompression. */
export const readZip = async (file: string) => {
  const directory = await unzipper.Open.file(file);
  return Promise.all(directory.files.map(async (f) => ({ name: f.path, data: await f.buffer() })));
};

/**
 * Raw deflate of `size` bytes of `byte` (`size` a multiple of 8 MiB): one 8 MiB segment deflated
 * with a full flush (byte-aligned, no reference to what came before), repeated, then an empty
 * final block. A 1 GiB bomb weighs ~1 MB and costs one 8 MiB deflate to make.
 */
export const deflateBomb = (size: number, byte = 0x20) => {
  const segmentSize = 8 * 1024 * 1024;
  if (size % segmentSize !== 0) throw new RangeError('the size of a bomb is a multiple of 8 MiB');
  const segment = zlib.deflateRawSync(Buffer.alloc(segmentSize, byte), { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
  return Buffer.concat([...Array.from({ length: size / segmentSize }, () => segment), Buffer.from([0x01, 0x00, 0x00, 0xff, 0xff])]);
};
