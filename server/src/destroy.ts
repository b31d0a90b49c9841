import type { Core } from '@strapi/strapi';

import { getService } from './utils';

const destroy = async ({ strapi }: { strapi: Core.Strapi }) => {
  // A scheduled backup in progress gets a few seconds to finish and record itself.
  await getService('scheduler', { strapi }).stop();
  await getService('logger', { strapi }).close();
};

export default destroy;
