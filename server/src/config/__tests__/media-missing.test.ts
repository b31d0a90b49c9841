import config from '..';
import { configSchema } from '../schema';

describe('media.missing', () => {
  it("is 'warn' unless set, and takes 'fail'", () => {
    expect(configSchema.parse({}).media).toEqual({ missing: 'warn', rehashAfterDays: 7 });
    expect(configSchema.parse({ media: {} }).media).toEqual({ missing: 'warn', rehashAfterDays: 7 });
    expect(configSchema.parse({ media: { missing: 'fail' } }).media).toEqual({ missing: 'fail', rehashAfterDays: 7 });
  });

  it('media.rehashAfterDays: 7 days unless set, 0 to hash every file every time, whole days up to a year', () => {
    expect(configSchema.parse({ media: { rehashAfterDays: 0 } }).media.rehashAfterDays).toBe(0);
    expect(() => config.validator({ media: { rehashAfterDays: -1 } })).toThrow(/media\.rehashAfterDays/);
    expect(() => config.validator({ media: { rehashAfterDays: 1.5 } })).toThrow(/media\.rehashAfterDays/);
    expect(() => config.validator({ media: { rehashAfterDays: 366 } })).toThrow(/media\.rehashAfterDays/);
  });

  it('refuses another value and an unknown field, naming them', () => {
    expect(() => config.validator({ media: { missing: 'ignore' } })).toThrow(/media\.missing: .*"warn"\|"fail"/);
    expect(() => config.validator({ media: { missing: 'warn', skip: true } })).toThrow(/media: Unrecognized key.*"skip"/);
  });
});
