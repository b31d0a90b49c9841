import type { Core } from '@strapi/strapi';
import { errors } from '@strapi/utils';

import { getService } from '../utils';
import { validateJobsQuery } from '../validation/backups';

const createJobsController = ({ strapi }: { strapi: Core.Strapi }) =>
  ({
    async find(ctx) {
      const { type, limit } = validateJobsQuery(ctx.query);
      ctx.body = { data: await getService('jobs', { strapi }).history({ type, limit }) };
    },
    async findOne(ctx) {
      const job = await getService('jobs', { strapi }).find(ctx.params.id);
      if (!job) throw new errors.NotFoundError(`No job ${ctx.params.id}`);
      ctx.body = { data: job };
    },
  }) satisfies Core.Controller;

export default createJobsController;
