import type { Readable } from 'node:stream';

import type { Core } from '@strapi/strapi';

import { PLUGIN_ID } from '../constants';
import type { Job, JobTrigger } from '../contracts/backups';
import type { ApplyBody, DocumentDiff, DocumentPage, DocumentState, ImportPreview, PreviewBody } from '../contracts/imports';
import { JobConflictError } from '../services/jobs';
import { getService } from '../utils';
import { validateApply, validateDocumentKey, validateDocumentsQuery, validatePreview } from '../validation/imports';

type Context = Parameters<Core.ControllerHandler>[0];

/** The imports service (server/src/services/imports.ts) as the plan describes it. */
export interface ImportsApi {
  startPreview(body: PreviewBody, options?: { trigger?: JobTrigger }): Promise<Job>;
  listPreviews(): Promise<ImportPreview[]>;
  getPreview(id: string): Promise<ImportPreview>;
  listDocuments(id: string, query: { uid?: string; state?: DocumentState; page?: number; pageSize?: number }): Promise<DocumentPage>;
  getDocument(id: string, key: string): Promise<DocumentDiff>;
  startApply(id: string, body: ApplyBody, options?: { trigger?: JobTrigger }): Promise<Job>;
  logOf(id: string): Promise<{ name: string; stream: Readable }>;
}

export const importsService = (strapi: Core.Strapi) => strapi.plugin(PLUGIN_ID).service('imports') as unknown as ImportsApi;

/** StalePreviewError of services/imports.ts, told by its code (no import cycle, no class identity across bundles). */
const isStale = (error: unknown): error is Error & { code: 'STALE_PREVIEW'; details?: Record<string, unknown> } =>
  error instanceof Error && (error as { code?: unknown }).code === 'STALE_PREVIEW';

/** 202 with the job; 409 when another job runs or when what the preview saw changed since. */
const startJob = async (ctx: Context, start: () => Promise<Job>) => {
  try {
    const job = await start();
    ctx.status = 202;
    ctx.body = { data: job };
  } catch (error) {
    if (error instanceof JobConflictError) {
      ctx.status = 409;
      ctx.body = { data: null, error: { status: 409, name: 'ConflictError', message: error.message, details: { job: error.running } } };
      return;
    }
    if (isStale(error)) {
      ctx.status = 409;
      ctx.body = {
        data: null,
        error: { status: 409, name: 'ConflictError', message: error.message, details: { ...(error.details ?? {}), code: 'STALE_PREVIEW' } },
      };
      return;
    }
    throw error;
  }
};

/** An ASCII file name for Content-Disposition (and the exact one as filename*). */
export const attachment = (name: string) => {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
};

const createImportsController = ({ strapi }: { strapi: Core.Strapi }) => {
  const imports = () => importsService(strapi);
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
