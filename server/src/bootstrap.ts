import type { Core } from '@strapi/strapi';

import { getService } from './utils';

const bootstrap = async ({ strapi }: { strapi: Core.Strapi }) => {
  // The settings edited in the admin panel, over the defaults, under config/plugins.ts.
  await getService('config', { strapi }).load();
  const backups = getService('backups', { strapi });
  // A restore a crash interrupted: its media files follow its rows (forward or back).
  await backups.recoverRestores();
  const storage = backups.storage();
  // A backup interrupted by a crash or a restart leaves a temporary file: never listed, removed here.
  const removed = await storage.cleanTemp();
  getService('logger', { strapi })
    .get()
    .info(`backups are stored in ${storage.location}${removed.length ? ` (removed ${removed.length} unfinished temporary files)` : ''}`);
  // The CLI boots the app to run one command: it never runs the schedule.
  if (process.env.PACTA_BACKUP_CLI !== '1') getService('scheduler', { strapi }).start();
};

export default bootstrap;
