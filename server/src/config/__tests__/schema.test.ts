import config from '..';
import { configSchema } from '../schema';

describe('plugin configuration', () => {
  it('has a complete default, so an app without config/plugins.ts entry works', () => {
    expect(config.default).toEqual({
      storage: { folder: 'backups' },
      encryptionKeyEnv: 'PACTA_BACKUP_KEY',
      compression: 'best',
    });
    expect(() => config.validator(config.default)).not.toThrow();
  });

  it('fills the defaults of the fields a user leaves out', () => {
    expect(configSchema.parse({ storage: {} }).storage).toEqual({ folder: 'backups' });
  });

  it('refuses an empty storage folder and names the field', () => {
    expect(() => config.validator({ storage: { folder: '  ' } })).toThrow(
      'Invalid pacta-backup configuration: storage.folder: must be a non-empty path'
    );
  });

  it('refuses a value of the wrong type and names the field', () => {
    expect(() => config.validator({ storage: { folder: 42 } })).toThrow(/storage\.folder: .*string/);
  });

  it('refuses an encryption key variable that is not a variable name, and a bad compression', () => {
    expect(() => config.validator({ encryptionKeyEnv: 'my key' })).toThrow(/encryptionKeyEnv: must be an environment variable name/);
    expect(() => config.validator({ compression: 'max' })).toThrow(/compression: /);
  });

  it('refuses a misspelt option instead of ignoring it', () => {
    expect(() => config.validator({ storage: { folder: 'x' }, schedul: '0 2 * * *' })).toThrow(
      /\(root\): Unrecognized key.*schedul/
    );
  });
});
