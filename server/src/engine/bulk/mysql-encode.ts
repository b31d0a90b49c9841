import { isPlainInteger, RowBuffer } from './row-buffer';

/**
 * Row text for MariaDB/MySQL, built from what the driver itself makes of each value: `escape`
 * is the connection's (mysql2's SqlString with the connection's time zone), so a value is
 * stored exactly as a knex INSERT binding it on that connection stores it.
 */
export type Escape = (value: unknown) => string;

/** `(v1,v2,…)` of an extended INSERT: the driver's SQL literal of each value. */
export const insertTuple = (values: readonly unknown[], escape: Escape): string => {
  let text = '(';
  for (let i = 0; i < values.length; i += 1) {
    if (i) text += ',';
    text += escape(values[i]);
  }
  return `${text})`;
};

/** The characters mysql2's string literal escapes (sql-escaper's escapeChars); without them the literal is the string quoted. */
// eslint-disable-next-line no-control-regex
const ESCAPED_IN_LITERAL = /[\0\b\t\n\r\x1a"'\\]/;

/** A number the driver writes as `value + ''` that LOAD DATA reads back as that number. */
const NUMBER_TEXT = /^-?[\d.e+-]+$/i;

/**
 * Lines of a LOAD DATA file (FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY
 * '\n', no enclosure), written as bytes (row-buffer.ts): NULL is `\N`, a boolean 1 or 0 (the
 * driver's TRUE/FALSE), numbers as the driver writes them, strings and dates the driver's quoted
 * literal without its quotes. That literal already escapes backslash, NUL, tab, newline, CR,
 * backspace, Ctrl-Z and both quotes with a backslash, which LOAD DATA reads back to the same
 * characters; a string with none of them is its own literal and is written as it is.
 */
export class LoadTextWriter {
  private readonly out: RowBuffer;

  /**
   * `integersOnly[i]`: column i takes only safe integers (or NULL) here — a floating-point column,
   * whose other values LOAD DATA may read to another double than an INSERT of the same text.
   */
  constructor(
    private readonly escape: Escape,
    size = 1 << 20,
    private readonly integersOnly: readonly boolean[] = []
  ) {
    this.out = new RowBuffer(size);
  }

  /** Bytes written so far. */
  get bytes() {
    return this.out.bytes;
  }

  /**
   * One line. False, with nothing written, when a value has no text here (a Buffer, NaN or
   * Infinity, an invalid date, an object, a value other than a safe integer in a column of
   * `integersOnly`): the caller writes the row another way.
   */
  row(values: readonly unknown[]): boolean {
    const start = this.out.bytes;
    for (let i = 0; i < values.length; i += 1) {
      if (i) this.out.byte(0x09);
      const value = values[i];
      if (value === null || value === undefined) {
        this.out.text('\\N');
      } else if (this.integersOnly[i] && !Number.isSafeInteger(value)) {
        return this.giveUp(start);
      } else if (typeof value === 'boolean') {
        this.out.byte(value ? 0x31 : 0x30);
      } else if (isPlainInteger(value)) {
        this.out.digits(value);
      } else if (typeof value === 'number' || typeof value === 'bigint') {
        const text = this.escape(value);
        // NaN and Infinity have no literal: the INSERT path reports what the database says of them.
        if (!NUMBER_TEXT.test(text)) return this.giveUp(start);
        this.out.text(text);
      } else if (typeof value === 'string' && !ESCAPED_IN_LITERAL.test(value)) {
        this.out.text(value);
      } else if (typeof value === 'string' || value instanceof Date) {
        const literal = this.escape(value);
        if (literal.length < 2 || literal[0] !== "'" || literal[literal.length - 1] !== "'") return this.giveUp(start);
        this.out.text(literal.slice(1, -1));
      } else {
        return this.giveUp(start);
      }
    }
    this.out.byte(0x0a);
    return true;
  }

  private giveUp(start: number) {
    this.out.truncate(start);
    return false;
  }

  /** The lines written, as one buffer of their own. */
  take(): Buffer {
    return this.out.take();
  }
}

/** One line of a LOAD DATA file (LoadTextWriter), or null when a value has no text there. */
export const loadLine = (values: readonly unknown[], escape: Escape): string | null => {
  const writer = new LoadTextWriter(escape, 0);
  return writer.row(values) ? writer.take().toString('utf8') : null;
};
