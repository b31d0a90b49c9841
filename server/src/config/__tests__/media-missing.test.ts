import config from '..';
import { configSchema } from '../schema';

describe('media.missing', () => {
  it("is 'warn' unless set, and takes 'fail'", () => {
    expect(configSchema.parse({}).media).toEqual({ missing: 'warn' });
    expect(configSchema.parse({ media: {} }).media).toEqual({ missing: 'warn' });
    expect(configSchema.parse({ media: { missing: 'fail' } }).media).toEqual({ missing: 'fail' });
  });

  it('refuses another value and an unknown field, naming them', () => {
    expect(() => config.validator({ media: { missing: 'ignore' } })).toThrow(/media\.missing: .*"warn"\|"fail"/);
    expect(() => config.validator({ media: { missing: 'warn', skip: true } })).toThrow(/media: Unrecognized key.*"skip"/);
  });
});
