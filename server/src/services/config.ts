import path from 'node:path';

import type { Core } from '@strapi/strapi';

import { PLUGIN_ID } from '../constants';
import type { PluginConfig } from '../config/schema';

/** Reads the validated plugin configuration and resolves paths against the app root. */
const createConfigService = ({ strapi }: { strapi: Core.Strapi }) => ({
  get(): PluginConfig {
    return strapi.config.get(`plugin::${PLUGIN_ID}`) as PluginConfig;
  },

  storageFolder(): string {
    return path.resolve(strapi.dirs.app.root, this.get().storage.folder);
  },
});

export default createConfigService;
