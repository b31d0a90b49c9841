import type { Core } from '@strapi/strapi';

import { getService } from './utils';

const destroy = async ({ strapi }: { strapi: Core.Strapi }) => {
  getService('scheduler', { strapi }).stop();
  await getService('logger', { strapi }).close();
};

export default destroy;
