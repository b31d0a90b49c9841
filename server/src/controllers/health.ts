import type { Core } from '@strapi/strapi';

import type { GetHealth } from '../contracts/health';
import { getService } from '../utils';

const createHealthController = ({ strapi }: { strapi: Core.Strapi }) =>
  ({
    async index(ctx) {
      ctx.body = { data: getService('health', { strapi }).status() } satisfies GetHealth.Response;
    },
  }) satisfies Core.Controller;

export default createHealthController;
