import type { Core } from '@strapi/strapi';

import { ACTIONS } from './constants';
import { MODELS } from './models';
import { uploadPassthrough } from './services/uploads';

const register = async ({ strapi }: { strapi: Core.Strapi }) => {
  await strapi.service('admin::permission').actionProvider.registerMany(ACTIONS);
  // Created and migrated by Strapi's schema sync with the app's own tables.
  const models = strapi.get('models') as { add(model: unknown): void };
  for (const model of MODELS) models.add(model);
  // Ahead of the app's middlewares (strapi::body among them): import uploads reach their
  // controller unparsed and stream to the staging folder under the plugin's own cap.
  strapi.server.use(uploadPassthrough);
};

export default register;
