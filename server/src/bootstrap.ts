import type { Core } from '@strapi/strapi';

import { getService } from './utils';

const bootstrap = async ({ strapi }: { strapi: Core.Strapi }) => {
  // The settings edited in the admin panel, over the defaults, under config/plugins.ts.
  await getService('config', { strapi }).load();
  const logger = getService('logger', { strapi }).get();
  const backups = getService('backups', { strapi });
  const storage = backups.storage();
  // A restore a crash interrupted: its media files follow its rows, forward or back.
  try {
    await backups.recoverRestores();
  } catch (error) {
    logger.error(`could not finish the media files of an interrupted restore: ${(error as Error).message}`, { publicDir: strapi.dirs.static.public });
  }
  // After a crash: jobs of dead processes become interrupted (an alert says so), their temporary
  // files and plaintext snapshot copies go. What a live process (the CLI next to us) uses stays.
  // A failure here is logged: it never keeps Strapi from starting.
  try {
    const { interrupted, temporary, snapshots } = await getService('jobs', { strapi }).recover();
    const cleaned = [
      interrupted.length ? `${interrupted.length} interrupted jobs marked` : '',
      temporary.length ? `removed ${temporary.length} unfinished temporary files` : '',
      snapshots.length ? `removed ${snapshots.length} snapshot copies of interrupted backups` : '',
    ].filter(Boolean);
    logger.info(`backups are stored in ${storage.location}${cleaned.length ? ` (${cleaned.join(', ')})` : ''}`);
  } catch (error) {
    logger.error(`could not recover after an earlier crash: ${(error as Error).message}`, { storage: storage.location });
  }
  // Import previews past their time (they hold an archive's documents) and their work files.
  try {
    const removed = await getService('imports', { strapi }).cleanup();
    if (removed.length) logger.info(`removed ${removed.length} import previews older than 7 days`);
  } catch (error) {
    logger.error(`could not clean the import previews: ${(error as Error).message}`, { storage: storage.location });
  }
  // Import uploads older than a day, and uploads a crash cut off.
  try {
    const removed = await getService('uploads', { strapi }).cleanup();
    if (removed.length) logger.info(`removed ${removed.length} import uploads older than 24 hours or left unfinished`);
  } catch (error) {
    logger.error(`could not clean the import uploads: ${(error as Error).message}`, { storage: storage.location });
  }
  // The plugin's events in Strapi's webhook store, and a notice at each job's end (a backup the
  // CLI runs is told too). The CLI boots the app to run one command: it never runs the schedule
  // nor the periodic alert check.
  const cli = process.env.PACTA_BACKUP_CLI === '1';
  getService('notifications', { strapi }).start({ checkPeriodically: !cli });
  if (!cli) getService('scheduler', { strapi }).start();
};

export default bootstrap;
