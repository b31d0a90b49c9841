import { PassThrough } from 'node:stream';

import type { Core } from '@strapi/strapi';
import { errors } from '@strapi/utils';

import { PLUGIN_ID } from '../constants';
import { writeCsvExport, writeCsvZip } from '../engine/export/csv';
import { writeJsonExport } from '../engine/export/json';
import type { ContentModel, DocumentVersion, ModelDescription } from '../engine/import/types';
import { getService } from '../utils';
import { validateExportQuery } from '../validation/imports';
import { attachment } from './imports';

/** What services/imports.ts opens for an export: a backup's documents, one content type at a time. */
export interface OpenedDocuments {
  model: ContentModel;
  contentTypes: string[];
  documents(uid: string): AsyncIterable<DocumentVersion>;
  close(): Promise<void>;
}

interface ExportsApi {
  openDocuments(source: { backupId: string }, options: { contentTypes?: string[]; passphrase?: string }): Promise<OpenedDocuments>;
}

/** `api::contract.contract` → `contract`. */
const shortName = (uid: string) => uid.slice(uid.lastIndexOf('.') + 1).replace(/[^A-Za-z0-9._-]+/g, '_');

/**
 * GET /backups/:id/export?format=json|csv&contentTypes=uid,uid — a backup's documents as JSON
 * (one document, the import's document model; also an import source) or CSV (one content type:
 * text/csv; several: a zip of one CSV each), streamed as it is written: nothing is held whole.
 */
const createExportsController = ({ strapi }: { strapi: Core.Strapi }) => {
  return {
  async export(ctx) {
    const { format = 'json', contentTypes: asked } = validateExportQuery(ctx.query);
    const id = String(ctx.params.id);
    // 404 for a backup not in the list, before anything is opened.
    const backup = await getService('backups', { strapi }).get(id);
    const imports = strapi.plugin(PLUGIN_ID).service('imports') as unknown as ExportsApi;
    const opened = await imports.openDocuments({ backupId: id }, asked ? { contentTypes: asked } : {});
    let streaming = false;
    try {
      const available = new Set(opened.contentTypes);
      const missing = (asked ?? []).filter((uid) => !available.has(uid));
      if (missing.length) {
        throw new errors.ValidationError(`contentTypes: not in backup ${id}: ${missing.join(', ')}`, {
          errors: missing.map((uid) => ({ path: ['contentTypes'], message: `not in backup ${id}: ${uid}`, name: 'ValidationError' })),
        });
      }
      const uids = asked ?? opened.contentTypes;
      if (!uids.length) throw new errors.ValidationError(`Backup ${id} holds no content type to export`);
      const models = uids.map((uid) => {
        const model = opened.model.get(uid);
        if (!model) throw new errors.ValidationError(`contentTypes: ${uid} has no model in backup ${id}`);
        return model;
      }) as ModelDescription[];

      const out = new PassThrough();
      let written: Promise<unknown>;
      if (format === 'json') {
        ctx.set('Content-Type', 'application/json; charset=utf-8');
        ctx.set('Content-Disposition', attachment(`${id}-documents.json`));
        // One type after the other, as the backup holds them.
        async function* all() {
          for (const uid of uids) yield* opened.documents(uid);
        }
        written = writeJsonExport({ meta: { backup: { id, createdAt: backup.createdAt ?? null } }, contentTypes: models, documents: all() }, out);
      } else if (models.length === 1) {
        ctx.set('Content-Type', 'text/csv; charset=utf-8');
        ctx.set('Content-Disposition', attachment(`${id}-${shortName(models[0].uid)}.csv`));
        written = writeCsvExport({ model: models[0], documents: opened.documents(models[0].uid) }, out);
      } else {
        ctx.set('Content-Type', 'application/zip');
        ctx.set('Content-Disposition', attachment(`${id}-csv.zip`));
        written = writeCsvZip(
          models.map((model) => ({ model, documents: () => opened.documents(model.uid) })),
          out
        );
      }
      streaming = true;
      // A failure mid-way destroys `out`: the download breaks off rather than looking complete.
      written
        .catch((error: Error) => {
          if (error?.message && !/premature close|aborted/i.test(error.message)) {
            strapi.log.error(`[${PLUGIN_ID}] export of backup ${id} failed: ${error.message}`);
          }
        })
        .finally(() => opened.close().catch(() => undefined));
      ctx.status = 200;
      ctx.body = out;
    } finally {
      if (!streaming) await opened.close().catch(() => undefined);
    }
  },
  } satisfies Core.Controller;
};

export default createExportsController;
