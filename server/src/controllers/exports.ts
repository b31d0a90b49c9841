import { PassThrough } from 'node:stream';

import type { Core } from '@strapi/strapi';

import { PLUGIN_ID } from '../constants';
import { getService } from '../utils';
import { validateExportQuery } from '../validation/imports';
import { attachment } from './imports';

/**
 * GET /backups/:id/export?format=json|csv&contentTypes=uid,uid — a backup's documents as JSON
 * (one document, the import's document model; also an import source) or CSV (one content type:
 * text/csv; several: a zip of one CSV each), streamed as it is written: nothing is held whole.
 */
const createExportsController = ({ strapi }: { strapi: Core.Strapi }) => {
  return {
    async export(ctx) {
      const { format, contentTypes } = validateExportQuery(ctx.query);
      const id = String(ctx.params.id);
      // Errors before the first byte (no such backup, a content type it lacks) are JSON answers.
      const prepared = await getService('exports', { strapi }).open(id, { format, contentTypes });
      const out = new PassThrough();
      // A failure mid-way destroys `out`: the download breaks off rather than looking complete.
      prepared.write(out).catch((error: Error) => {
        if (error?.message && !/premature close|aborted/i.test(error.message)) {
          strapi.log.error(`[${PLUGIN_ID}] export of backup ${id} failed: ${error.message}`);
        }
      });
      ctx.set('Content-Type', prepared.mimeType);
      ctx.set('Content-Disposition', attachment(prepared.fileName));
      ctx.status = 200;
      ctx.body = out;
    },
  } satisfies Core.Controller;
};

export default createExportsController;
