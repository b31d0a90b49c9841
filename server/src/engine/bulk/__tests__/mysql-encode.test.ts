import { escape as driverEscape } from 'mysql2';

import { insertTuple, loadLine, LoadTextWriter } from '../mysql-encode';

/** mysql2's own escape, as a connection with timezone 'Z' calls it. */
const escape = (value: unknown) => driverEscape(value as never, false, 'Z');

/**
 * How LOAD DATA reads a field with FIELDS TERMINATED BY '\t' ESCAPED BY '\\' (MariaDB's
 * documented escapes; any other escaped character stands for itself).
 */
const ESCAPES: Record<string, string> = { '0': '\0', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a' };
const readLine = (line: string): Array<string | null> => {
  expect(line.endsWith('\n')).toBe(true);
  return line
    .slice(0, -1)
    .split('\t')
    .map((field) => (field === '\\N' ? null : field.replace(/\\(.)/gs, (_, c: string) => ESCAPES[c] ?? c)));
};

const NASTY = [
  '',
  'plain',
  'tab\there',
  'new\nline and\r\nCRLF',
  'back\\slash \\N \\t \\\\',
  'quotes \' and "',
  'NUL \0 inside',
  'ctrl-z \x1a backspace \b',
  'unicode é 中文 — emoji 🎉👩‍👩‍👧',
  '{"json":"with \\"escapes\\" and \\n"}',
  '\\',
  'ends with backslash \\',
];

describe('loadLine', () => {
  it('writes NULL as \\N, booleans as 1/0, numbers as the driver does', () => {
    expect(loadLine([null, undefined, true, false, 0, -7, 1234.5, 1e21, '42'], escape)).toBe('\\N\t\\N\t1\t0\t0\t-7\t1234.5\t1e+21\t42\n');
  });

  it('gives back every string exactly through LOAD DATA escaping', () => {
    const line = loadLine(NASTY, escape)!;
    expect(line.split('\n')).toHaveLength(2);
    expect(readLine(line)).toEqual(NASTY);
  });

  it('writes a date as the driver formats it in the connection time zone', () => {
    const date = new Date('2024-02-29T23:59:58.123Z');
    expect(loadLine([date], escape)).toBe('2024-02-29 23:59:58.123\n');
    expect(loadLine([date], (v) => driverEscape(v as never, false, '+02:00'))).toBe('2024-03-01 01:59:58.123\n');
  });

  it('has no text for a Buffer, NaN, an invalid date or an object (the caller INSERTs those)', () => {
    expect(loadLine([Buffer.from('x')], escape)).toBeNull();
    expect(loadLine([Number.NaN], escape)).toBeNull();
    expect(loadLine([Infinity], escape)).toBeNull();
    expect(loadLine([new Date('nope')], escape)).toBeNull();
    expect(loadLine([{ a: 1 }], escape)).toBeNull();
  });
});

describe('LoadTextWriter', () => {
  it('writes each string as the driver literal without its quotes, those it writes as they are too', () => {
    const specials = ['\0', '\b', '\t', '\n', '\r', '\x1a', '"', "'", '\\', 'é', '🎉', 'a', ' '];
    const strings = [...NASTY];
    for (let i = 0; i < 2000; i += 1) {
      let text = '';
      for (let j = 0; j < (i % 7) + 1; j += 1) text += specials[(i * 31 + j * 17) % specials.length];
      strings.push(text);
    }
    const writer = new LoadTextWriter(escape, 64);
    const parts: Buffer[] = [];
    for (const text of strings) {
      expect(writer.row([text])).toBe(true);
      if (writer.bytes >= 64) parts.push(writer.take());
    }
    parts.push(writer.take());
    const lines = Buffer.concat(parts).toString('utf8').split('\n').slice(0, -1);
    expect(lines).toEqual(strings.map((text) => escape(text).slice(1, -1)));
    expect(lines.map((line) => readLine(`${line}\n`)[0])).toEqual(strings);
  });

  it('gives up a row with a value it has no text for and keeps the rows before it', () => {
    const writer = new LoadTextWriter(escape, 1024);
    expect(writer.row([1, 'one', null])).toBe(true);
    expect(writer.row([2, 'two', Buffer.from('x')])).toBe(false);
    expect(writer.row([3, 'three', Number.NaN])).toBe(false);
    expect(writer.row([4, 4.5, new Date('2024-02-29T23:59:58.123Z')])).toBe(true);
    expect(writer.take().toString('utf8')).toBe('1\tone\t\\N\n4\t4.5\t2024-02-29 23:59:58.123\n');
  });
});

describe('LoadTextWriter in a floating-point column', () => {
  it('takes safe integers and NULL there, and gives up the row at any other value', () => {
    const writer = new LoadTextWriter(escape, 1024, [false, true]);
    expect(writer.row([1, 3])).toBe(true);
    expect(writer.row([2, -(2 ** 53 - 1)])).toBe(true);
    expect(writer.row([3, null])).toBe(true);
    for (const other of [1.5, 2 ** 53, '4', true, Number.NaN]) expect(writer.row([4, other])).toBe(false);
    expect(writer.row([5.5, 6])).toBe(true);
    expect(writer.take().toString('utf8')).toBe(`1\t3\n2\t-${2 ** 53 - 1}\n3\t\\N\n5.5\t6\n`);
  });
});

describe('insertTuple', () => {
  it('is the list of the driver literals', () => {
    expect(insertTuple([1, 'a\tb', null, true, Buffer.from([0, 255])], escape)).toBe("(1,'a\\tb',NULL,true,X'00ff')");
  });
});
