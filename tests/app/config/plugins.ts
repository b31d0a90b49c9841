import path from 'path';

const appRoot = path.resolve(__dirname, '..', '..');

export default ({ env }) => ({
  'pacta-backup': {
    enabled: true,
    config: {
      storage: {
        folder: path.resolve(appRoot, env('PACTA_BACKUP_STORAGE', 'backups')),
      },
    },
  },
});
