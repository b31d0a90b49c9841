import type { Core } from '@strapi/strapi';
import { errors } from '@strapi/utils';

import { getService } from '../utils';

const createJobsController = ({ strapi }: { strapi: Core.Strapi }) =>
  ({
    async findOne(ctx) {
      const job = getService('jobs', { strapi }).get(ctx.params.id);
      if (!job) throw new errors.NotFoundError(`No job ${ctx.params.id}`);
      ctx.body = { data: job };
    },
  }) satisfies Core.Controller;

export default createJobsController;
