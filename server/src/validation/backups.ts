import { errors } from '@strapi/utils';
import { z } from 'zod';

import type { CreateBackupBody, PurgeBody, RestoreBody } from '../contracts/backups';

const contentTypes = z.array(z.string().regex(/^[a-z0-9-]+::[a-z0-9-]+\.[a-z0-9-]+$/i, 'must be a content type uid')).min(1).max(500);

export const createBackupSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    contentTypes: contentTypes.optional(),
    media: z.boolean().optional(),
    adminUsers: z.boolean().optional(),
    config: z.boolean().optional(),
    compression: z.enum(['none', 'fast', 'best']).optional(),
    encrypt: z.boolean().optional(),
  })
  .strict();

export const restoreSchema = z
  .object({
    contentTypes: contentTypes.optional(),
    media: z.boolean().optional(),
    adminUsers: z.boolean().optional(),
    config: z.boolean().optional(),
    skipIncompatible: z.boolean().optional(),
    confirm: z.literal(true, { error: 'must be true: a restore replaces data (a safety backup is taken first)' }),
  })
  .strict();

/** offsite: a dry run also reads the off-site storage for the objects the purge would collect (a real purge always does). */
export const purgeSchema = z.object({ dryRun: z.boolean().optional(), offsite: z.boolean().optional() }).strict();

export const offsiteCheckSchema = z.object({ samplePercent: z.number().min(0).max(100).optional() }).strict();

export const keepSchema = z.object({ keep: z.boolean({ error: 'must be true or false' }) }).strict();

export const metricsQuerySchema = z.object({ format: z.enum(['json', 'prometheus']).optional() }).strict();

export const jobsQuerySchema = z
  .object({
    type: z.enum(['backup', 'verify', 'restore', 'drill', 'import-preview', 'import', 'fetch', 'check']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();

/** Parses a request body, or throws a 400 ValidationError naming each bad field. */
export const validate = <T>(schema: z.ZodType<T>, body: unknown): T => {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    path: issue.path.map(String),
    message: issue.message,
    name: 'ValidationError',
  }));
  throw new errors.ValidationError(
    details.map((d) => `${d.path.join('.') || '(body)'}: ${d.message}`).join('; '),
    { errors: details }
  );
};

/**
 * Refuses content type uids that are well formed but not in `known` (e.g. `api::nope.nope`),
 * with a 400 that names each of them, so that no job starts only to fail on them later.
 */
export const assertContentTypes = (
  uids: unknown,
  known: readonly string[],
  { path = ['contentTypes'], reason = 'not a content type of this app' }: { path?: string[]; reason?: string } = {}
) => {
  if (!Array.isArray(uids)) return;
  const allowed = new Set(known);
  const unknown = uids.flatMap((uid, index) => (typeof uid === 'string' && !allowed.has(uid) ? [{ uid, index }] : []));
  if (!unknown.length) return;
  throw new errors.ValidationError(`${path.join('.')}: ${reason}: ${unknown.map((u) => u.uid).join(', ')}`, {
    errors: unknown.map(({ uid, index }) => ({ path: [...path, String(index)], message: `${reason}: ${uid}`, name: 'ValidationError' })),
  });
};

/** A backup request; `selectable` are the content types a backup can hold (scope service). */
export const validateCreateBackup = (body: unknown, selectable: readonly string[]): CreateBackupBody => {
  const parsed = validate(createBackupSchema, body);
  assertContentTypes(parsed.contentTypes, selectable);
  return parsed;
};

/** A restore request; `selectable` are the content types of this app a restore can write. */
export const validateRestore = (body: unknown, selectable: readonly string[]): RestoreBody => {
  const parsed = validate(restoreSchema, body) as RestoreBody;
  assertContentTypes(parsed.contentTypes, selectable);
  return parsed;
};

/** A change of settings: the scope of scheduled backups names content types of this app only. */
export const validateSettingsScope = (body: unknown, selectable: readonly string[]) => {
  const scope = (body as { scope?: { contentTypes?: unknown } } | null)?.scope;
  if (scope && typeof scope === 'object') assertContentTypes(scope.contentTypes, selectable, { path: ['scope', 'contentTypes'] });
};
export const validatePurge = (body: unknown): PurgeBody => validate(purgeSchema, body);
export const validateOffsiteCheck = (body: unknown): { samplePercent?: number } => validate(offsiteCheckSchema, body ?? {});
export const validateKeep = (body: unknown): { keep: boolean } => validate(keepSchema, body);
export const validateMetricsQuery = (query: unknown) => validate(metricsQuerySchema, query);
export const validateJobsQuery = (query: unknown) => validate(jobsQuerySchema, query);
