import type { Core } from '@strapi/strapi';

import { getService } from '../utils';
import { previewSchedule, schedulePreviewQuerySchema } from '../utils/cron';
import { validate, validateMetricsQuery, validateSettingsScope } from '../validation/backups';

const createMonitoringController = ({ strapi }: { strapi: Core.Strapi }) =>
  ({
    async alerts(ctx) {
      ctx.body = { data: await getService('monitoring', { strapi }).alerts() };
    },
    async metrics(ctx) {
      const { format } = validateMetricsQuery(ctx.query);
      if (format === 'prometheus') {
        ctx.set('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
        ctx.body = await getService('monitoring', { strapi }).prometheus();
        return;
      }
      ctx.body = { data: await getService('monitoring', { strapi }).metrics() };
    },
    async schedule(ctx) {
      ctx.body = { data: getService('scheduler', { strapi }).info() };
    },
    /** What a cron expression the admin is typing means: valid or why not, and its next three runs. */
    async schedulePreview(ctx) {
      const { expression, timezone } = validate(schedulePreviewQuerySchema, ctx.query);
      ctx.body = { data: previewSchedule(expression, timezone ?? getService('config', { strapi }).get().timezone) };
    },
    async settings(ctx) {
      ctx.body = {
        data: { ...getService('config', { strapi }).settings(), schedule: getService('scheduler', { strapi }).info(), offsite: getService('backups', { strapi }).offsiteTarget() },
      };
    },
    async updateSettings(ctx) {
      // Every scheduled backup would fail on a content type this app does not have.
      validateSettingsScope(ctx.request.body, getService('scope', { strapi }).selectable());
      const settings = await getService('config', { strapi }).update(ctx.request.body);
      // The new schedule takes effect at once.
      getService('scheduler', { strapi }).start();
      ctx.body = { data: { ...settings, schedule: getService('scheduler', { strapi }).info(), offsite: getService('backups', { strapi }).offsiteTarget() } };
    },
  }) satisfies Core.Controller;

export default createMonitoringController;
