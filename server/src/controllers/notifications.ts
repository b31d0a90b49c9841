import type { Core } from '@strapi/strapi';

import { getService } from '../utils';
import { validateTestNotification } from '../validation/notifications';

const createNotificationsController = ({ strapi }: { strapi: Core.Strapi }) =>
  ({
    /** Sends a test notice through the channel asked and answers each delivery's result. */
    async test(ctx) {
      const { channel } = validateTestNotification(ctx.request.body);
      ctx.body = { data: { deliveries: await getService('notifications', { strapi }).test({ channel }) } };
    },
    async events(ctx) {
      ctx.body = { data: getService('notifications', { strapi }).events() };
    },
  }) satisfies Core.Controller;

export default createNotificationsController;
