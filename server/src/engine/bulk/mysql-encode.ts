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

/**
 * One line of a LOAD DATA file (FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY
 * '\n', no enclosure): NULL is `\N`, a boolean 1 or 0 (the driver's TRUE/FALSE), numbers as the
 * driver writes them, strings and dates the driver's quoted literal without its quotes. That
 * literal already escapes backslash, NUL, tab, newline, CR, backspace, Ctrl-Z and both quotes
 * with a backslash, which LOAD DATA reads back to the same characters. Buffers have no text
 * form here: `null` tells the caller to write the row another way.
 */
export const loadLine = (values: readonly unknown[], escape: Escape): string | null => {
  let line = '';
  for (let i = 0; i < values.length; i += 1) {
    if (i) line += '\t';
    const value = values[i];
    if (value === null || value === undefined) {
      line += '\\N';
    } else if (typeof value === 'boolean') {
      line += value ? '1' : '0';
    } else if (typeof value === 'number' || typeof value === 'bigint') {
      const text = escape(value);
      // NaN and Infinity have no literal: the INSERT path reports what the database says of them.
      if (!/^-?[\d.e+-]+$/i.test(text)) return null;
      line += text;
    } else if (typeof value === 'string' || value instanceof Date) {
      const literal = escape(value);
      if (literal.length < 2 || literal[0] !== "'" || literal[literal.length - 1] !== "'") return null;
      line += literal.slice(1, -1);
    } else {
      return null;
    }
  }
  return `${line}\n`;
};
