import { isUtcZone, planLines } from '../postgres-json-read';

/** node-postgres's parsers as a SELECT would use them, with Strapi's DATE/JSONB/NUMERIC replacements. */
const pgTypes = (
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('pg') as { types: { getTypeParser(oid: number, format: 'text'): (text: string) => unknown } }
).types;
const identity = (text: string) => text;
const STRAPI: Record<number, (text: string) => unknown> = { 1082: identity, 3802: identity, 1700: parseFloat };
const strapiParser = (oid: number) => STRAPI[oid] ?? pgTypes.getTypeParser(oid, 'text');
const plainParser = (oid: number) => pgTypes.getTypeParser(oid, 'text');

const plan = (oids: number[], types: string[], parserOf = strapiParser, utc = true, shortest = true) =>
  planLines(
    oids.map((_, i) => `c${i}`),
    types,
    oids,
    parserOf,
    { utc, shortest }
  );

describe('PostgreSQL JSON lines: which columns the server renders', () => {
  it('renders every type Strapi makes, with the parsers Strapi installs', () => {
    const result = plan(
      [23, 1043, 25, 1114, 701, 3802, 16, 20, 1700, 1082, 114, 1083, 17, 1184, 2950, 21, 700],
      ['integer', 'string', 'text', 'datetime', 'double', 'jsonb', 'boolean', 'bigInteger', 'decimal', 'date', 'specificType', 'time', 'specificType', 'datetime', 'specificType', 'integer', 'double']
    );
    expect(result).toHaveProperty('expression');
    const { expression } = result as { expression: string };
    expect(expression.startsWith("'[' || CASE WHEN \"c0\" IS NULL THEN 'null' ELSE")).toBe(true);
    expect(expression.endsWith("|| ']'")).toBe(true);
  });

  it('leaves a table to the current path where the canonical value is not what the server can write', () => {
    // An interval, an array: no expression.
    expect(plan([23, 1186], ['integer', 'specificType'])).toEqual({ reason: 'column c1 (type oid 1186, specificType)' });
    expect(plan([1007], ['specificType'])).toHaveProperty('reason');
    // A timestamp read as Node's local time, when that is not UTC.
    expect(plan([1114], ['datetime'], strapiParser, false)).toHaveProperty('reason');
    expect(plan([1184], ['datetime'], strapiParser, false)).toHaveProperty('expression');
    // jsonb parsed by node-postgres and then again by toCanonical (no Strapi override).
    expect(plan([3802], ['jsonb'], plainParser)).toHaveProperty('reason');
    expect(plan([3802], ['specificType'], plainParser)).toHaveProperty('expression');
    // NUMERIC as text, DATE as a local Date: Strapi's replacements missing.
    expect(plan([1700], ['decimal'], plainParser)).toHaveProperty('reason');
    expect(plan([1082], ['date'], plainParser)).toHaveProperty('reason');
    // numeric cast to float8 where the server would write a float8 rounded (extra_float_digits 0).
    expect(plan([1700], ['decimal'], strapiParser, true, false)).toHaveProperty('reason');
    expect(plan([701], ['double'], strapiParser, true, false)).toHaveProperty('expression');
    // A bigint the inspector calls integer (toNumber rounds it), a text it calls json (parsed).
    expect(plan([20], ['integer'])).toHaveProperty('reason');
    expect(plan([25], ['json'])).toHaveProperty('reason');
    // int8 parsed to numbers (pg.defaults.parseInt8).
    expect(plan([20], ['bigInteger'], (oid) => (oid === 20 ? Number : strapiParser(oid)))).toHaveProperty('reason');
  });

  it('takes a zone for UTC only when it is UTC at every date', () => {
    for (const zone of ['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Etc/GMT+0', 'Etc/Universal', 'Zulu']) expect([zone, isUtcZone(zone)]).toEqual([zone, true]);
    for (const zone of ['Europe/London', 'Africa/Abidjan', 'America/New_York', 'Etc/GMT+5', 'UTC+1', '']) expect([zone, isUtcZone(zone)]).toEqual([zone, false]);
  });
});
