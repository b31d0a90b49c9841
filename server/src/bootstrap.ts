import type { Core } from '@strapi/strapi';

import { getService } from './utils';

const bootstrap = async ({ strapi }: { strapi: Core.Strapi }) => {
  const storage = getService('backups', { strapi }).storage();
  // A backup interrupted by a crash or a restart leaves a temporary file: never listed, removed here.
  const removed = await storage.cleanTemp();
  strapi.log.info(
    `[pacta-backup] backups are stored in ${storage.location}` +
      (removed.length ? ` (removed ${removed.length} unfinished temporary files)` : '')
  );
};

export default bootstrap;
