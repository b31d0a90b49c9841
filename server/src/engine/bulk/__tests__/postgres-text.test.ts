import { CopyTextDecoder, encodeField, unescapeField } from '../postgres-text';

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
});
