import { columnPlan, isStrapiTypeCast, planLines, renderOptionsOf, type MysqlConfig, type MysqlField, type RenderOptions } from '../mysql-json-read';

/** The mysql2 settings Strapi's MariaDB dialect makes (typeCast, big numbers), as at its start. */
const strapiConfig = (extra: Record<string, unknown> = {}): MysqlConfig => {
  const connection: Record<string, unknown> = { ...extra };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const MysqlDialect = require('@strapi/database/dist/dialects/mysql/index.js');
  MysqlDialect.prototype.configure.call({ db: { config: { connection: { connection } } } }, connection);
  return connection as MysqlConfig;
};

const UTF8MB4 = 224;
const wire = (columnType: number, more: Partial<MysqlField> = {}): MysqlField => ({
  name: 'c',
  columnType,
  columnLength: 11,
  characterSet: 63,
  ...more,
});
const FIELDS = {
  int: wire(3),
  tinyint1: wire(1, { columnLength: 1 }),
  tinyint: wire(1, { columnLength: 4 }),
  bigint: wire(8),
  decimal: wire(246),
  double: wire(5),
  float: wire(4),
  date: wire(10),
  time: wire(11),
  datetime: wire(12),
  timestamp: wire(7),
  varchar: wire(253, { characterSet: UTF8MB4 }),
  longtext: wire(252, { characterSet: UTF8MB4 }),
  json: wire(252, { characterSet: UTF8MB4, extendedFormat: 'json' }),
  blob: wire(252),
  bit: wire(16),
  uuid: wire(254, { characterSet: UTF8MB4, extendedTypeName: 'uuid' }),
};

const OPTIONS: RenderOptions = { utc: true, bigints: 'strings', parsesJson: true, bigJsonIntegers: false };
const plan = (field: MysqlField, type: string, options: Partial<RenderOptions> = {}) => columnPlan('c', field, type, { ...OPTIONS, ...options });

describe('MariaDB JSON lines: the settings the rows are read with', () => {
  it("takes Strapi's typeCast for what it is, and no other", () => {
    expect(isStrapiTypeCast(strapiConfig().typeCast)).toBe(true);
    expect(isStrapiTypeCast(undefined)).toBe(false);
    // A typeCast that parses DECIMAL as mysql2 does by default (text), or reads TINYINT(1) as a number.
    expect(isStrapiTypeCast((field: { type: string; string(): string }, next: () => unknown) => (field.type === 'TINY' ? field.string() : next()))).toBe(false);
    expect(isStrapiTypeCast(() => 'x')).toBe(false);
  });

  it('reads DATETIME as UTC only where mysql2 does', () => {
    expect(renderOptionsOf(strapiConfig({ timezone: 'Z' }))).toMatchObject({ utc: true, bigints: 'strings', parsesJson: true });
    expect(renderOptionsOf(strapiConfig({ timezone: '+00:00' }))?.utc).toBe(true);
    expect(renderOptionsOf(strapiConfig({ timezone: '+02:00' }))?.utc).toBe(false);
    // 'local' (mysql2's default): Node's own zone decides (UTC where these tests run as in CI).
    expect(renderOptionsOf(strapiConfig())?.utc).toBe(new Date(2024, 6, 1).getTimezoneOffset() === 0 && new Date(2024, 0, 1).getTimezoneOffset() === 0);
    expect(renderOptionsOf(strapiConfig({ dateStrings: true }))).toBeNull();
    expect(renderOptionsOf({ ...strapiConfig(), typeCast: undefined })).toBeNull();
    expect(renderOptionsOf(strapiConfig({ bigNumberStrings: false }))?.bigints).toBe('safe');
    expect(renderOptionsOf({ ...strapiConfig(), supportBigNumbers: false })?.bigints).toBe('lossy');
    expect(renderOptionsOf(strapiConfig({ jsonStrings: true }))?.parsesJson).toBe(false);
  });
});

describe('MariaDB JSON lines: which columns the server renders', () => {
  it('renders every column type Strapi makes on MariaDB, with the types its inspector names', () => {
    const columns: Array<[keyof typeof FIELDS, string]> = [
      ['int', 'increments'],
      ['int', 'integer'],
      ['tinyint1', 'boolean'],
      ['tinyint', 'boolean'],
      ['bigint', 'bigInteger'],
      ['decimal', 'decimal'],
      ['double', 'double'],
      ['float', 'specificType'],
      ['date', 'date'],
      ['time', 'time'],
      ['datetime', 'datetime'],
      ['timestamp', 'timestamp'],
      ['varchar', 'string'],
      ['longtext', 'text'],
      ['json', 'text'],
      ['json', 'json'],
      ['longtext', 'json'],
      ['blob', 'specificType'],
    ];
    const names = columns.map((_, i) => `c${i}`);
    const result = planLines(
      names,
      columns.map(([, type]) => type),
      columns.map(([field]) => FIELDS[field]),
      OPTIONS
    );
    expect(result).toHaveProperty('expression');
    const { expression, certain } = result as { expression: string; certain: string };
    expect(expression.startsWith('CASE WHEN ')).toBe(true);
    expect(expression).toContain("CONCAT('[', CASE WHEN `c0` IS NULL THEN 'null' ELSE CAST(`c0` AS CHAR) END, ',', ");
    // A row the checks cannot vouch for is its id's marker (there is no id here: a bare marker).
    expect(expression.endsWith("ELSE '!' END")).toBe(true);
    // Checked: the datetimes and the JSON texts.
    for (const i of [10, 11, 14, 15, 16]) expect(certain).toContain(`\`c${i}\` IS NULL OR`);
    expect(certain).not.toContain('`c0` IS NULL OR');
  });

  it('marks a row it cannot render with its id, where there is one', () => {
    const result = planLines(['id', 'at'], ['increments', 'datetime'], [FIELDS.int, FIELDS.datetime], OPTIONS) as { expression: string };
    expect(result.expression.endsWith("ELSE CONCAT('!', `id`) END")).toBe(true);
    // Nothing to check: the line alone.
    const plain = planLines(['id', 'name'], ['increments', 'string'], [FIELDS.int, FIELDS.varchar], OPTIONS) as { expression: string; certain: null };
    expect(plain.certain).toBeNull();
    expect(plain.expression.startsWith("CONCAT('[', ")).toBe(true);
  });

  it('leaves a table to the current path where the canonical value is not what the server can write', () => {
    expect(planLines(['id', 'flags'], ['increments', 'specificType'], [FIELDS.int, FIELDS.bit], OPTIONS)).toEqual({ reason: 'column flags (wire type 16, specificType)' });
    // MariaDB's own types behind a string (UUID, INET6…).
    expect(plan(FIELDS.uuid, 'string')).toBeNull();
    // A DATETIME mysql2 reads in another zone than UTC.
    expect(plan(FIELDS.datetime, 'datetime', { utc: false })).toBeNull();
    expect(plan(FIELDS.timestamp, 'timestamp', { utc: false })).toBeNull();
    // Types toCanonical converts from a wire type it is not written for.
    expect(plan(FIELDS.date, 'datetime')).toBeNull();
    expect(plan(FIELDS.datetime, 'date')).toBeNull();
    expect(plan(FIELDS.varchar, 'integer')).toBeNull();
    expect(plan(FIELDS.varchar, 'boolean')).toBeNull();
    expect(plan(FIELDS.blob, 'json')).toBeNull();
    expect(plan(FIELDS.decimal, 'bigInteger')).toBeNull();
    expect(plan(FIELDS.tinyint1, 'bigInteger')).toBeNull();
    // A BIGINT mysql2 reads as a (rounded) number.
    expect(plan(FIELDS.bigint, 'bigInteger', { bigints: 'lossy' })).toBeNull();
    expect(plan(FIELDS.bigint, 'specificType', { bigints: 'lossy' })).toBeNull();
  });

  it('writes each type the way the current path reads it', () => {
    // TINYINT(1): Strapi's typeCast is true for 1 only.
    expect(plan(FIELDS.tinyint1, 'boolean')).toEqual({ render: "IF(`c` = 1, 'true', 'false')" });
    expect(plan(FIELDS.tinyint, 'integer')).toEqual({ render: 'CAST(`c` AS CHAR)' });
    // BIGINT: a number where it is safe, its digits beyond (bigNumberStrings: digits always, kept).
    expect(plan(FIELDS.bigint, 'bigInteger')?.render).toBe(
      "IF(`c` BETWEEN -9007199254740991 AND 9007199254740991, CAST(`c` AS CHAR), CONCAT('\"', `c`, '\"'))"
    );
    expect(plan(FIELDS.bigint, 'specificType')?.render).toBe("CONCAT('\"', `c`, '\"')");
    expect(plan(FIELDS.bigint, 'specificType', { bigints: 'safe' })?.render).toContain('BETWEEN -9007199254740991');
    // DECIMAL: -0 written 0.
    expect(plan(FIELDS.decimal, 'decimal')?.render).toBe("IF(`c` = 0, '0', CAST(`c` AS CHAR))");
    // DOUBLE: mysql2's own arithmetic for 16 and 17 characters without an exponent.
    expect(plan(FIELDS.double, 'double')?.render).toContain('LENGTH(CAST(`c` AS CHAR)) BETWEEN 16 AND 17');
    // DATETIME: milliseconds cut, not rounded; checked for what mysql2 reads otherwise.
    expect(plan(FIELDS.datetime, 'datetime')).toEqual({
      render: "CONCAT(LEFT(DATE_FORMAT(`c`, '\"%Y-%m-%dT%H:%i:%s.%f'), 24), 'Z\"')",
      certain: "(`c` >= '0100-01-01' AND MONTH(`c`) > 0 AND DAYOFMONTH(`c`) BETWEEN 1 AND DAYOFMONTH(LAST_DAY(`c`)))",
    });
    // TIME: toTime's form for the time Strapi makes, the text as it is for a kept type.
    expect(plan(FIELDS.time, 'time')?.render).toContain("RPAD(TRIM(TRAILING '0' FROM SUBSTRING(CAST(`c` AS CHAR), 10)), 3, '0')");
    expect(plan(FIELDS.time, 'specificType')).toEqual({ render: 'JSON_QUOTE(CAST(`c` AS CHAR))' });
    // Text, in UTF-8 (converted first where the column is not utf8mb4), a BLOB as base64.
    expect(plan(FIELDS.varchar, 'string')).toEqual({ render: 'JSON_QUOTE(`c`)' });
    expect(columnPlan('c', FIELDS.varchar, 'string', { ...OPTIONS, convert: true })).toEqual({ render: 'JSON_QUOTE(CONVERT(`c` USING utf8mb4))' });
    expect(plan(FIELDS.blob, 'specificType')?.render).toBe("CONCAT('{\"$base64\":\"', REPLACE(TO_BASE64(`c`), CHAR(10), ''), '\"}')");
  });

  it('writes a JSON text as it is only where JavaScript reads it as MariaDB does', () => {
    // A JSON column mysql2 parses: the text, checked; a JSON string in it is parsed twice (json).
    const parsed = plan(FIELDS.json, 'text')!;
    expect(parsed.render).toBe('`c`');
    expect(parsed.certain).toMatch(/^\(\(JSON_VALID\(`c`\) AND `c` NOT REGEXP '\(\?-i\)/);
    expect(parsed.certain).not.toContain('JSON_TYPE');
    expect(plan(FIELDS.json, 'json')!.certain).toContain("JSON_TYPE(`c`) <> 'STRING'");
    // Where mysql2 turns a JSON text's big integers into strings (JSON.parse with source text).
    expect(plan(FIELDS.json, 'text', { bigJsonIntegers: true })!.certain).toContain("NOT REGEXP '[0-9]{16}'");
    // A LONGTEXT Strapi calls json: the text where it is JSON, the string where it certainly is not.
    const loose = plan(FIELDS.longtext, 'json')!;
    expect(loose.render).toBe('IF(JSON_VALID(`c`), `c`, JSON_QUOTE(`c`))');
    expect(loose.certain).toContain('OR (NOT JSON_VALID(`c`) AND `c` NOT REGEXP');
    // jsonStrings: a JSON column handed back as text, as a LONGTEXT.
    expect(plan(FIELDS.json, 'json', { parsesJson: false })).toEqual(loose);
    expect(plan(FIELDS.json, 'text', { parsesJson: false })).toEqual({ render: 'JSON_QUOTE(`c`)' });
    // Patterns are SQL literals with their backslashes escaped (the pattern `(?<!\\)(?:\\\\)*+\\`).
    expect(parsed.certain).toContain(String.raw`'(?-i)(?<!\\\\)(?:\\\\\\\\)*+\\\\(?:[^"\\\\/bfnrtu]`);
  });
});
