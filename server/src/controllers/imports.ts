import type { Core } from '@strapi/strapi';

import { getService } from '../utils';
import { validateApply, validateDocumentKey, validateDocumentsQuery, validatePreview } from '../validation/imports';
import { startJob } from './start-job';

/** An ASCII file name for Content-Disposition (and the exact one as filename*). */
export const attachment = (name: string) => {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
};

const createImportsController = ({ strapi }: { strapi: Core.Strapi }) => {
  const imports = () => getService('imports', { strapi });
  const uploads = () => getService('uploads', { strapi });
  const selectable = () => getService('scope', { strapi }).selectable();
  return {
    async upload(ctx) {
      const upload = await uploads().receive(ctx);
      ctx.status = 201;
      ctx.body = { data: upload };
    },
    async deleteUpload(ctx) {
      ctx.body = { data: await uploads().remove(ctx.params.id) };
    },
    async preview(ctx) {
      const body = validatePreview(ctx.request.body, selectable());
      await startJob(ctx, () => imports().startPreview(body));
    },
    async listPreviews(ctx) {
      ctx.body = { data: await imports().listPreviews() };
    },
    async getPreview(ctx) {
      ctx.body = { data: await imports().getPreview(ctx.params.id) };
    },
    async listDocuments(ctx) {
      const query = validateDocumentsQuery(ctx.query);
      ctx.body = { data: await imports().listDocuments(ctx.params.id, query) };
    },
    async getDocument(ctx) {
      const key = validateDocumentKey(ctx.params.key);
      ctx.body = { data: await imports().getDocument(ctx.params.id, key) };
    },
    async apply(ctx) {
      const body = validateApply(ctx.request.body);
      await startJob(ctx, () => imports().startApply(ctx.params.id, body));
    },
    async log(ctx) {
      const { name, stream } = await imports().logOf(ctx.params.id);
      ctx.set('Content-Type', 'application/x-ndjson; charset=utf-8');
      ctx.set('Content-Disposition', attachment(name));
      ctx.body = stream;
    },
  } satisfies Core.Controller;
};

export default createImportsController;
