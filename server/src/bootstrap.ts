import type { Core } from '@strapi/strapi';

import { getService } from './utils';

const bootstrap = async ({ strapi }: { strapi: Core.Strapi }) => {
  strapi.log.info(
    `[pacta-backup] backups are stored in ${getService('config', { strapi }).storageFolder()}`
  );
};

export default bootstrap;
