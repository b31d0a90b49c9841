import path from 'node:path';

import type { Core } from '@strapi/strapi';

import { createPluginLogger, type PluginLogger } from '../logging/logger';
import { getService } from '../utils';

/** The plugin's logger, built from the configuration on first use and closed in destroy(). */
const createLoggerService = ({ strapi }: { strapi: Core.Strapi }) => {
  let logger: PluginLogger | null = null;
  return {
    get(): PluginLogger {
      if (!logger) {
        const config = getService('config', { strapi });
        const { log, encryptionKeyEnv } = config.get();
        logger = createPluginLogger({
          folder: path.resolve(strapi.dirs.app.root, log.folder),
          level: log.level,
          maxDays: log.maxDays,
          forward: strapi.log,
          secrets: () => [process.env[encryptionKeyEnv]],
        });
      }
      return logger;
    },
    async close() {
      const current = logger;
      logger = null;
      await current?.close();
    },
  };
};

export default createLoggerService;
