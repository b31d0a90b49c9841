import { errors } from '@strapi/utils';
import { z } from 'zod';

import type { ApplyBody, DocumentState, ImportPolicy, PreviewBody } from '../contracts/imports';
import { assertContentTypes } from './backups';

const UID = /^[a-z0-9-]+::[a-z0-9-]+\.[a-z0-9-]+$/i;
const uid = z.string().max(200).regex(UID, 'must be a content type uid such as api::contract.contract');
/** Backup ids (`20260101-000000-abcdef`) and upload ids (32 hex digits). */
const backupId = z.string().min(1).max(100).regex(/^[0-9A-Za-z-]+$/, 'must be a backup id');
const uploadId = z.string().regex(/^[0-9a-f]{32}$/, 'must be the uploadId POST /imports/uploads answered');
/** An attribute name as Strapi allows it. */
const attribute = z.string().min(1).max(200).regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'must be an attribute name');
/** Passphrases: never echoed back, so the messages say nothing of the value. */
const passphrase = z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).max(1024, { error: 'must be at most 1024 characters' });
const POLICIES = ['keep', 'incoming', 'newer', 'skip'] as const satisfies readonly ImportPolicy[];
const policy = z.enum(POLICIES, { error: `must be one of ${POLICIES.join(', ')}` });
const STATES = ['create', 'update', 'unchanged', 'conflict', 'absent'] as const satisfies readonly DocumentState[];
/** `${uid}|${documentId}|${locale}|${draft|published}` */
const documentKey = z
  .string()
  .max(500)
  .regex(/^[a-z0-9-]+::[a-z0-9-]+\.[a-z0-9-]+\|[^|]{1,200}\|[^|]{0,100}\|(draft|published)$/i, 'must be a document key uid|documentId|locale|draft or published');

const record = <V extends z.ZodType>(key: z.ZodType<string>, value: V, max: number) =>
  z.record(key, value).refine((r) => Object.keys(r).length <= max, { message: `at most ${max} entries` });

export const previewSchema = z
  .object({
    source: z.union([z.object({ backupId }).strict(), z.object({ uploadId }).strict()], {
      error: 'must be { backupId } (a backup in the list) or { uploadId } (an upload)',
    }),
    passphrase: passphrase.optional(),
    contentTypes: z.array(uid).min(1).max(500).optional(),
    skipIncompatible: z.boolean().optional(),
    match: record(uid, attribute, 500).optional(),
    mirror: z.boolean().optional(),
  })
  .strict();

export const applySchema = z
  .object({
    policies: record(uid, policy, 500).optional(),
    documents: record(documentKey, policy, 1_000_000).optional(),
    fields: record(documentKey, record(z.string().min(1).max(500), z.enum(['current', 'incoming'], { error: 'must be current or incoming' }), 10_000), 1_000_000).optional(),
    dangling: z.enum(['drop', 'stop'], { error: 'must be drop or stop' }).optional(),
    passphrase: passphrase.optional(),
    confirm: z.literal(true, { error: 'must be true: an import writes to this app (a safety backup is taken first)' }),
  })
  .strict();

export const documentsQuerySchema = z
  .object({
    uid: uid.optional(),
    state: z.enum(STATES, { error: `must be one of ${STATES.join(', ')}` }).optional(),
    page: z.coerce.number().int().min(1).max(1_000_000).optional(),
    pageSize: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

const EXPORT_FORMATS = ['json', 'csv'] as const;
export const exportQuerySchema = z
  .object({
    format: z.enum(EXPORT_FORMATS, { error: 'must be json or csv' }).optional(),
    /** Comma-separated uids. */
    contentTypes: z
      .string()
      .max(100_000)
      .transform((raw) => [...new Set(raw.split(',').map((s) => s.trim()).filter(Boolean))])
      .pipe(z.array(uid).min(1, 'must name at least one content type uid').max(500))
      .optional(),
  })
  .strict();

export type ExportQuery = z.infer<typeof exportQuerySchema>;
export type DocumentsQuery = z.infer<typeof documentsQuerySchema>;

/**
 * Parses into a 400 ValidationError naming each bad field. Unlike validation/backups' `validate`,
 * a message never quotes the value: a passphrase can be the bad value.
 */
const validate = <T>(schema: z.ZodType<T>, body: unknown, where = '(body)'): T => {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    path: issue.path.map(String),
    // zod's own messages for unrecognized keys name the keys (never values); the rest are ours or generic.
    message: issue.path[0] === 'passphrase' ? (issue.code === 'invalid_type' ? 'must be a string' : issue.message) : issue.message,
    name: 'ValidationError',
  }));
  throw new errors.ValidationError(details.map((d) => `${d.path.join('.') || where}: ${d.message}`).join('; '), { errors: details });
};

/** A preview request; `selectable` are this app's content types (the scope service). */
export const validatePreview = (body: unknown, selectable?: readonly string[]): PreviewBody => {
  const parsed = validate(previewSchema, body) as PreviewBody;
  if (selectable) {
    assertContentTypes(parsed.contentTypes, selectable);
    if (parsed.match) assertContentTypes(Object.keys(parsed.match), selectable, { path: ['match'] });
  }
  return parsed;
};

export const validateApply = (body: unknown): ApplyBody => validate(applySchema, body) as ApplyBody;
export const validateDocumentsQuery = (query: unknown): DocumentsQuery => validate(documentsQuerySchema, query, '(query)');
export const validateExportQuery = (query: unknown): ExportQuery => validate(exportQuerySchema, query, '(query)');

/** A document key from the URL (already decoded by the router). */
export const validateDocumentKey = (key: unknown): string => validate(documentKey, key, 'key');
