import type { Core } from '@strapi/strapi';

import { getService } from './utils';

const destroy = async ({ strapi }: { strapi: Core.Strapi }) => {
  // A scheduled backup in progress gets a few seconds to finish and record itself.
  await getService('scheduler', { strapi }).stop();
  // Notices of the jobs that just ended (a CLI backup's) get a few seconds to go out.
  await getService('notifications', { strapi }).stop();
  await getService('logger', { strapi }).close();
};

export default destroy;
