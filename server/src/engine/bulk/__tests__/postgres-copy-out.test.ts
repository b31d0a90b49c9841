import { CopyOutParser } from '../postgres-copy-out';

/** A backend message: its code, its length (itself included), its payload. */
const message = (code: string, payload: Buffer | string = '') => {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const header = Buffer.alloc(5);
  header.write(code, 0, 'latin1');
  header.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
};

const rows = ['[1,"uno"]\n', '[2,"dos, ñandú"]\n', '', '[3,null]\n', `[4,"${'x'.repeat(300)}"]\n`];
const copyOutResponse = message('H', Buffer.from([0, 0, 2, 0, 0, 0, 0]));
const notice = message('N', 'SNOTICE\0Mhello\0\0');
const after = Buffer.concat([message('C', 'COPY 5\0'), message('Z', 'T')]);
const stream = Buffer.concat([copyOutResponse, message('d', rows[0]), message('d', rows[1]), notice, ...rows.slice(2).map((r) => message('d', r)), message('c'), after]);
const expected = Buffer.from(rows.join(''));

/** Feeds `bytes` cut at `cuts`; what the parser made of them. */
const feed = (bytes: Buffer, cuts: number[]) => {
  const parser = new CopyOutParser();
  const data: Buffer[] = [];
  let rest: Buffer | null = null;
  let failed = false;
  let start = 0;
  for (const end of [...cuts, bytes.length]) {
    const result = parser.feed(bytes.subarray(start, end));
    if (result.data) data.push(result.data);
    start = end;
    if (result.rest) {
      rest = Buffer.concat([result.rest, bytes.subarray(end)]);
      failed = result.failed;
      break;
    }
  }
  return { data: Buffer.concat(data), rest, failed };
};

describe('CopyOutParser', () => {
  it('joins the CopyData payloads and hands back what follows CopyDone, wherever the reads are cut', () => {
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const { data, rest, failed } = feed(stream, [cut]);
      expect(data.equals(expected)).toBe(true);
      expect(rest?.equals(after)).toBe(true);
      expect(failed).toBe(false);
    }
  });

  it('takes messages whose header and payload come a byte at a time', () => {
    const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    const { data, rest } = feed(stream, cuts);
    expect(data.equals(expected)).toBe(true);
    expect(rest?.equals(after)).toBe(true);
  });

  it('stops at an ErrorResponse and hands it, whole, to pg', () => {
    const error = message('E', 'SERROR\0C22012\0Mdivision by zero\0\0');
    const failing = Buffer.concat([copyOutResponse, message('d', rows[0]), error, message('Z', 'I')]);
    for (let cut = 0; cut <= failing.length; cut += 1) {
      const { data, rest, failed } = feed(failing, [cut]);
      expect(failed).toBe(true);
      expect(rest?.equals(Buffer.concat([error, message('Z', 'I')]))).toBe(true);
      // The rows before the error may or may not have been handed on: never anything else.
      expect(expected.subarray(0, data.length).equals(data)).toBe(true);
    }
  });

  it('gives one buffer per read, not one per row', () => {
    const many = Buffer.concat([copyOutResponse, ...Array.from({ length: 1000 }, (_, i) => message('d', `[${i}]\n`)), message('c'), after]);
    const parser = new CopyOutParser();
    const result = parser.feed(many);
    expect(result.data?.toString()).toBe(Array.from({ length: 1000 }, (_, i) => `[${i}]\n`).join(''));
    expect(result.rest?.equals(after)).toBe(true);
  });
});
