import type { Core } from '@strapi/strapi';

import { getService } from '../utils';
import { startJob } from './start-job';
import { validateCreateBackup, validateKeep, validateOffsiteCheck, validatePurge, validateRestore } from '../validation/backups';

const createBackupsController = ({ strapi }: { strapi: Core.Strapi }) => {
  const backups = () => getService('backups', { strapi });
  const selectable = () => getService('scope', { strapi }).selectable();
  return {
    async find(ctx) {
      ctx.body = { data: await backups().list() };
    },
    async findOne(ctx) {
      ctx.body = { data: await backups().get(ctx.params.id) };
    },
    async create(ctx) {
      const body = validateCreateBackup(ctx.request.body, selectable());
      await startJob(ctx, () => backups().startBackup(body));
    },
    async delete(ctx) {
      await backups().remove(ctx.params.id);
      ctx.body = { data: { id: ctx.params.id } };
    },
    async download(ctx) {
      const { name, size, stream } = await backups().download(ctx.params.id);
      ctx.set('Content-Type', 'application/zip');
      ctx.set('Content-Disposition', `attachment; filename="${name}"`);
      ctx.set('Content-Length', String(size));
      ctx.body = stream;
    },
    async verify(ctx) {
      await startJob(ctx, () => backups().startVerify(ctx.params.id));
    },
    async restore(ctx) {
      // Content types of this app here; what the backup holds is checked by the service (CLI too).
      const body = validateRestore(ctx.request.body, selectable());
      await startJob(ctx, () => backups().startRestore(ctx.params.id, body));
    },
    async update(ctx) {
      const { keep } = validateKeep(ctx.request.body);
      ctx.body = { data: await backups().setKeep(ctx.params.id, keep) };
    },
    async purge(ctx) {
      const { dryRun, offsite } = validatePurge(ctx.request.body);
      ctx.body = { data: await backups().purge({ dryRun, offsite: offsite ?? !dryRun }) };
    },
    /** What the next purge would remove, and why (the backups list badges them); nothing is deleted. */
    async purgePreview(ctx) {
      ctx.body = { data: await backups().purge({ dryRun: true }) };
    },
    async drill(ctx) {
      await startJob(ctx, async () => {
        await backups().get(ctx.params.id);
        return getService('monitoring', { strapi }).startDrill({ backupId: ctx.params.id });
      });
    },
    async storage(ctx) {
      ctx.body = { data: await backups().storageInfo() };
    },
    async offsite(ctx) {
      ctx.body = { data: await backups().offsiteCatalogue() };
    },
    /** The repository check now (a job): every index, every object looked for, a sample read whole. */
    async checkOffsite(ctx) {
      const { samplePercent } = validateOffsiteCheck(ctx.request.body);
      await startJob(ctx, () => backups().startCheck({ samplePercent }));
    },
    async fetchOffsite(ctx) {
      await startJob(ctx, () => backups().startFetch(ctx.params.id));
    },
    /** Writes, reads back and deletes a probe object at the off-site location (Settings' test). */
    async testOffsite(ctx) {
      ctx.body = { data: await backups().testOffsite() };
    },
    async contentTypes(ctx) {
      ctx.body = { data: await getService('scope', { strapi }).listContentTypes() };
    },
  } satisfies Core.Controller;
};

export default createBackupsController;
