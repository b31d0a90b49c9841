import type { Core } from '@strapi/strapi';

import { JobConflictError } from '../services/jobs';

type Context = Parameters<Core.ControllerHandler>[0];

/** An import's StalePreviewError, told by its code (no class identity needed across bundles). */
const isStale = (error: unknown): error is Error & { code: 'STALE_PREVIEW'; details?: Record<string, unknown> } =>
  error instanceof Error && (error as { code?: unknown }).code === 'STALE_PREVIEW';

/**
 * Starts a job: 202 with the job; 409 Conflict when another job runs (here or in another
 * process), or when what an import's preview saw changed since (`details.code: STALE_PREVIEW`).
 */
export const startJob = async (ctx: Context, start: () => unknown) => {
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
