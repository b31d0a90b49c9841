import { isPlainInteger, RowBuffer } from './row-buffer';

/**
 * PostgreSQL's COPY text format (https://www.postgresql.org/docs/current/sql-copy.html, "Text
 * Format"): one row per line, fields separated by tabs, `\N` for NULL, and backslash escapes
 * for the bytes that would break that layout. Both directions, without knowing the column types:
 * the fields are the very texts the server's output and input functions read and write, the
 * same texts node-postgres parses on a SELECT and sends for a bound parameter.
 */

/** One decoded row: each field's text, or null. */
export type TextRow = Array<string | null>;

const NEWLINE = 0x0a;

const SIMPLE: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

const isOctal = (byte: number) => byte >= 0x30 && byte <= 0x37;
const hexValue = (byte: number) => {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  return -1;
};

/**
 * A field with `\ooo` or `\xhh` escapes: they name bytes, which may make up a multi-byte UTF-8
 * character together, so the field is taken apart byte by byte. COPY TO never writes these (it
 * writes the characters themselves); a COPY FROM may read them.
 */
const unescapeBytes = (field: string) => {
  const input = Buffer.from(field, 'utf8');
  const output = Buffer.allocUnsafe(input.length);
  let length = 0;
  for (let i = 0; i < input.length; i += 1) {
    const byte = input[i];
    if (byte !== 0x5c || i + 1 >= input.length) {
      output[length++] = byte;
      continue;
    }
    const next = input[i + 1];
    if (isOctal(next)) {
      let value = 0;
      let digits = 0;
      while (digits < 3 && i + 1 < input.length && isOctal(input[i + 1])) {
        value = value * 8 + (input[i + 1] - 0x30);
        i += 1;
        digits += 1;
      }
      output[length++] = value & 0xff;
    } else if (next === 0x78 && i + 2 < input.length && hexValue(input[i + 2]) >= 0) {
      let value = hexValue(input[i + 2]);
      i += 2;
      if (i + 1 < input.length && hexValue(input[i + 1]) >= 0) {
        value = value * 16 + hexValue(input[i + 1]);
        i += 1;
      }
      output[length++] = value;
    } else {
      const simple = SIMPLE[String.fromCharCode(next)];
      output[length++] = simple === undefined ? next : simple.charCodeAt(0);
      i += 1;
    }
  }
  return output.toString('utf8', 0, length);
};

const BYTE_ESCAPE = /\\(?:[0-7]|x[0-9a-fA-F])/;
const ESCAPE = /\\([\s\S])/g;

/** The text of one field as COPY wrote it (not `\N`: the caller tells NULL apart first). */
export const unescapeField = (field: string): string => {
  if (field.indexOf('\\') === -1) return field;
  if (BYTE_ESCAPE.test(field)) return unescapeBytes(field);
  return field.replace(ESCAPE, (_, c: string) => SIMPLE[c] ?? c);
};

/**
 * The rows of `text` (whole lines, the last newline cut off): one pass, the next tab, newline
 * and backslash found with indexOf (no array per line, no test per field without a backslash).
 */
const decodeLines = (text: string): TextRow[] => {
  const rows: TextRow[] = [];
  const end = text.length;
  let tab = text.indexOf('\t');
  let newline = text.indexOf('\n');
  let backslash = text.indexOf('\\');
  if (tab === -1) tab = end;
  if (newline === -1) newline = end;
  if (backslash === -1) backslash = end;
  let row: TextRow = [];
  let position = 0;
  for (;;) {
    const stop = tab < newline ? tab : newline;
    let field: string | null = text.slice(position, stop);
    if (backslash < stop) {
      field = field === '\\N' ? null : unescapeField(field);
      backslash = text.indexOf('\\', stop);
      if (backslash === -1) backslash = end;
    }
    row.push(field);
    if (stop === end) {
      rows.push(row);
      return rows;
    }
    position = stop + 1;
    if (stop === tab) {
      tab = text.indexOf('\t', position);
      if (tab === -1) tab = end;
    } else {
      rows.push(row);
      row = [];
      newline = text.indexOf('\n', position);
      if (newline === -1) newline = end;
    }
  }
};

/**
 * Rows out of a stream of COPY TO output, whatever the chunks' boundaries: a raw newline byte
 * always ends a row (one inside a value is written `\n`, and no byte of a multi-byte UTF-8
 * character is 0x0a), so each chunk is cut after its last newline and the rest waits for the next.
 */
export class CopyTextDecoder {
  private pending: Buffer[] = [];

  /** The rows the chunks so far complete. */
  push(chunk: Buffer): TextRow[] {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      this.pending.push(chunk);
      return [];
    }
    const head = chunk.subarray(0, last);
    const text = (this.pending.length ? Buffer.concat([...this.pending, head]) : head).toString('utf8');
    this.pending = last + 1 < chunk.length ? [chunk.subarray(last + 1)] : [];
    return decodeLines(text);
  }

  /** At the end of the stream: COPY ends every row with a newline, so nothing may be left. */
  end(): TextRow[] {
    if (!this.pending.length) return [];
    const text = Buffer.concat(this.pending).toString('utf8');
    this.pending = [];
    if (text === '\\.' || text === '') return [];
    throw new Error('The COPY output ended inside a row');
  }
}

const NEEDS_ESCAPE = /[\\\n\r\t]/;
const TO_ESCAPE = /[\\\n\r\t]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * One field of a COPY FROM row, given the value node-postgres would bind (its `prepareValue`):
 * null as `\N`, a Buffer as bytea's hex input (the bytes node-postgres sends as a binary
 * parameter), any other text with its backslashes, newlines, carriage returns and tabs escaped.
 */
export const encodeField = (prepared: unknown): string => {
  if (prepared === null || prepared === undefined) return '\\N';
  if (Buffer.isBuffer(prepared)) return `\\\\x${prepared.toString('hex')}`;
  const text = String(prepared);
  return NEEDS_ESCAPE.test(text) ? text.replace(TO_ESCAPE, (c) => ESCAPED[c]) : text;
};

/** 0001-01-01T00:00:00.000Z and 10000-01-01T00:00:00.000Z: where toISOString writes four-digit years after Christ. */
const FIRST_ISO_YEAR = -62135596800000;
const PAST_ISO_YEARS = 253402300800000;

/**
 * `encodeField(prepareValue(value))`, the same text, without the detours for the values a restore
 * writes most: a number or a boolean is its own text (prepareValue's `toString`), a string needs
 * only its escapes, and a Date in a zone at UTC (the usual server) is its ISO text with `+00:00`
 * — what node-postgres's dateToString and dateToStringUTC both write then, each field read back
 * from the Date. Anything else (a Date elsewhere or outside years 1–9999, a Buffer, an object)
 * goes through `prepareValue` as before.
 */
export const fieldEncoder =
  (prepareValue: (value: unknown) => unknown) =>
  (value: unknown): string => {
    switch (typeof value) {
      case 'number':
        return String(value);
      case 'boolean':
        return value ? 'true' : 'false';
      case 'string':
        return NEEDS_ESCAPE.test(value) ? value.replace(TO_ESCAPE, (c) => ESCAPED[c]) : value;
      case 'undefined':
        return '\\N';
      case 'object': {
        if (value === null) return '\\N';
        if (value instanceof Date) {
          const time = value.getTime();
          if (time >= FIRST_ISO_YEAR && time < PAST_ISO_YEARS && value.getTimezoneOffset() === 0) {
            return `${value.toISOString().slice(0, 23)}+00:00`;
          }
        }
        break;
      }
      default:
    }
    return encodeField(prepareValue(value));
  };

/** Rows of COPY text as bytes (row-buffer.ts), each field as `fieldEncoder` writes it. */
export class CopyTextWriter {
  private readonly out: RowBuffer;

  private readonly field: (value: unknown) => string;

  constructor(prepareValue: (value: unknown) => unknown, size = 1 << 20) {
    this.field = fieldEncoder(prepareValue);
    this.out = new RowBuffer(size);
  }

  /** Bytes written so far. */
  get bytes() {
    return this.out.bytes;
  }

  /** One row: its fields separated by tabs, then a newline. */
  row(values: readonly unknown[]) {
    for (let i = 0; i < values.length; i += 1) {
      if (i) this.out.byte(0x09);
      const value = values[i];
      if (isPlainInteger(value)) this.out.digits(value);
      else this.out.text(this.field(value));
    }
    this.out.byte(0x0a);
  }

  /** The rows written, as one buffer of their own. */
  take(): Buffer {
    return this.out.take();
  }
}
