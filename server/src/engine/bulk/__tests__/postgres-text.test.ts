import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { fromCanonical } from '../../values';
import { CopyTextDecoder, CopyTextWriter, encodeField, unescapeField } from '../postgres-text';

const decodeAll = (chunks: Buffer[]) => {
  const decoder = new CopyTextDecoder();
  const rows = chunks.flatMap((chunk) => decoder.push(chunk));
  return [...rows, ...decoder.end()];
};

/** Every way of cutting `buffer` in two, and byte by byte. */
const cuts = (buffer: Buffer) => [
  ...Array.from({ length: buffer.length + 1 }, (_, i) => [buffer.subarray(0, i), buffer.subarray(i)]),
  Array.from(buffer, (byte) => Buffer.from([byte])),
];

describe('COPY text format', () => {
  it('unescapes what COPY TO writes and what COPY FROM reads', () => {
    expect(unescapeField('plain')).toBe('plain');
    expect(unescapeField('a\\tb\\nc\\rd\\\\e')).toBe('a\tb\nc\rd\\e');
    expect(unescapeField('\\b\\f\\v')).toBe('\b\f\v');
    expect(unescapeField('\\N')).toBe('N');
    expect(unescapeField('\\.')).toBe('.');
    expect(unescapeField('\\101\\x42\\7')).toBe('AB\x07');
    // Octal and hex escapes name bytes: two of them make one UTF-8 character.
    expect(unescapeField('\\303\\251t\\xc3\\xa9')).toBe('été');
    expect(unescapeField('\\x4g')).toBe('\x04g');
    expect(unescapeField('\\xg')).toBe('xg');
    expect(unescapeField('\\1234')).toBe('S4');
  });

  it('cuts rows and fields, tells NULL from the text \\N, whatever the chunks', () => {
    const text = 'a\tb\\tc\t\\N\n\t\\\\N\t\n😀 é\\\\x00\tμ\\n\t\n';
    const expected = [
      ['a', 'b\tc', null],
      ['', '\\N', ''],
      ['😀 é\\x00', 'μ\n', ''],
    ];
    const buffer = Buffer.from(text, 'utf8');
    for (const chunks of cuts(buffer)) expect(decodeAll(chunks)).toEqual(expected);
  });

  it('gives one empty field for an empty line, and nothing for an empty stream', () => {
    expect(decodeAll([Buffer.from('\n\n')])).toEqual([[''], ['']]);
    expect(decodeAll([])).toEqual([]);
  });

  it('refuses output that stops inside a row', () => {
    const decoder = new CopyTextDecoder();
    decoder.push(Buffer.from('1\ttwo\n3\tfo'));
    expect(() => decoder.end()).toThrow(/inside a row/);
  });

  it('encodes what node-postgres would bind so that decoding gives it back', () => {
    expect(encodeField(null)).toBe('\\N');
    expect(encodeField(undefined)).toBe('\\N');
    expect(encodeField('\\N')).toBe('\\\\N');
    expect(encodeField('true')).toBe('true');
    expect(encodeField(Buffer.from([0, 1, 0xfe]))).toBe('\\\\x0001fe');
    const values = ['tab\there', 'line\nbreak\r\n', 'back\\slash\\', '😀 émoji', '', '\\.', '{"a":"b\\n"}'];
    const line = `${values.map(encodeField).join('\t')}\n`;
    expect(line.split('\n')).toHaveLength(2);
    expect(decodeAll([Buffer.from(line)])).toEqual([values]);
  });

  it('writes the same field as encodeField(prepareValue(…)) for every value a restore converts, in any time zone', () => {
    const types = ['integer', 'bigInteger', 'double', 'decimal', 'boolean', 'string', 'text', 'date', 'time', 'datetime', 'timestamp', 'json', 'uuid'];
    const values: unknown[] = [
      null, 0, -0, 1, -17, 2 ** 53 + 2, 1.1, 1e21, 1e-7, -3.5e300, true, false, '', 'é 😀', 'tab\there', 'a\\b', '\\N', 'line\r\n',
      '12345678901234567890', '2026-11-30', '12:34:56.789', { $base64: 'AAH+' }, { a: [1, 'x\ty'] }, [1, 2],
      '2026-11-30T12:34:56.789Z', '2026-03-29T01:30:00.000Z', '2026-10-25T00:59:59.999Z', '1970-01-01T00:00:00.000Z',
      '0001-01-01T00:00:00.000Z', '0000-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z', '+010000-01-01T00:00:00.000Z',
      '-000001-06-01T00:00:00.000Z', '2026-02-30T00:00:00.000Z', 'not a date', 1700000000000,
    ];
    for (let i = 0; i < 200; i += 1) values.push(new Date(-62135596800000 + ((i * 7919) % 200) * 1.3e12).toISOString());
    // What apply.ts hands the inserter, sent to the child as JSON (Dates as their time, Buffers as base64).
    const converted = types.flatMap((type) => values.map((value) => fromCanonical(value, type as never, 'postgres')));
    const wire = JSON.stringify(
      converted.map((value) =>
        value instanceof Date ? { date: value.getTime() } : Buffer.isBuffer(value) ? { buffer: value.toString('base64') } : { value }
      )
    );
    // Jest's process.env is its own copy: a zone is only a zone in a process started with it.
    // The child reads the TypeScript source through TypeScript's own transpiler.
    const script = `
      const fs = require('node:fs');
      const ts = require(${JSON.stringify(require.resolve('typescript'))});
      require.extensions['.ts'] = (module, filename) => module._compile(
        ts.transpileModule(fs.readFileSync(filename, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText,
        filename
      );
      const { encodeField, fieldEncoder } = require(${JSON.stringify(path.join(__dirname, '..', 'postgres-text.ts'))});
      const { prepareValue } = require(${JSON.stringify(require.resolve('pg/lib/utils'))});
      const field = fieldEncoder(prepareValue);
      const values = JSON.parse(process.argv[1]).map((v) => ('date' in v ? new Date(v.date) : 'buffer' in v ? Buffer.from(v.buffer, 'base64') : v.value));
      let fast = 0;
      const differ = values.flatMap((value) => {
        const a = field(value), b = encodeField(prepareValue(value));
        if (value instanceof Date && a.endsWith('+00:00')) fast += 1;
        return a === b ? [] : [{ value: String(value), fast: a, generic: b }];
      });
      process.stdout.write(JSON.stringify({ offset: new Date(Date.UTC(2026, 6, 1)).getTimezoneOffset(), differ, fast }));`;
    for (const zone of ['UTC', 'Europe/Madrid', 'America/Mexico_City', 'Asia/Kolkata']) {
      const output = execFileSync(process.execPath, ['-e', script, wire], { env: { ...process.env, TZ: zone }, encoding: 'utf8' });
      const { offset, differ, fast } = JSON.parse(output) as { offset: number; differ: unknown[]; fast: number };
      expect({ zone, utc: offset === 0, differ }).toEqual({ zone, utc: zone === 'UTC', differ: [] });
      // The values hold about 400 Dates: at UTC each is written with +00:00, the quick way.
      if (zone === 'UTC') expect(fast).toBeGreaterThan(400);
    }
  });

  it('writes rows as bytes exactly as the text of their fields, a row longer than its buffer too', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { prepareValue } = require('pg/lib/utils') as { prepareValue: (value: unknown) => unknown };
    const long = `${'é😀\t\\'.repeat(3000)}end`;
    const rows: unknown[][] = [
      [0, -0, 1, 9, 10, 999999999999999, 1e15, 2 ** 53, -1, 1.5, 1e21, Number.NaN],
      [null, undefined, true, false, '', '\\N', 'tab\tline\nreturn\r', Buffer.from([0, 0xff]), { a: 'b' }, new Date(Date.UTC(2026, 10, 30, 1, 2, 3, 4))],
      [long, 7, long],
      [123456789, 'Contrato nº 1'],
    ];
    const writer = new CopyTextWriter(prepareValue, 64);
    const expected = rows.map((row) => `${row.map((value) => encodeField(prepareValue(value))).join('\t')}\n`).join('');
    const taken: Buffer[] = [];
    for (const row of rows) {
      writer.row(row);
      if (writer.bytes >= 64) taken.push(writer.take());
    }
    taken.push(writer.take());
    expect(writer.bytes).toBe(0);
    expect(Buffer.concat(taken).toString('utf8')).toBe(expected);
    expect(taken.map((part) => part.toString('utf8').endsWith('\n'))).toEqual(taken.map(() => true));
    expect(decodeAll(taken).map((row) => row.length)).toEqual(rows.map((row) => row.length));
  });
});
