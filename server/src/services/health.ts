import type { Core } from '@strapi/strapi';

import pkg from '../../../package.json';
import type { Health } from '../contracts/health';
import { PLUGIN_ID } from '../constants';
import { getService } from '../utils';

const createHealthService = ({ strapi }: { strapi: Core.Strapi }) => ({
  status(): Health {
    return {
      plugin: { id: PLUGIN_ID, version: pkg.version },
      strapiVersion: strapi.config.get('info.strapi') as string,
      database: { client: strapi.db.dialect.client },
      storage: { folder: getService('config', { strapi }).storageFolder() },
    };
  },
});

export default createHealthService;
