import { z } from 'zod';

/**
 * manifest.json: what an archive holds and how to check it. Read with this schema before
 * anything else, so a damaged or foreign file is refused with the field that is wrong.
 * Holds no secret: the encryption parameters are a salt and a key check, never the key.
 */

export const FORMAT = 'pacta-backup';
export const FORMAT_VERSION = 1;

export const MANIFEST_ENTRY = 'manifest.json';
/** SHA-256 of manifest.json, so a flipped byte in the manifest itself is noticed. */
export const MANIFEST_CHECKSUM_ENTRY = 'manifest.sha256';
/** HMAC-SHA256 of manifest.json under the archive key (encrypted archives only). */
export const MANIFEST_MAC_ENTRY = 'manifest.mac';
export const MEDIA_INDEX_ENTRY = 'media/index.ndjson';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex');

/** Entry paths are relative, with no `..`, no backslash and no drive letter. */
export const isSafeEntryPath = (entryPath: string) =>
  entryPath.length > 0 &&
  entryPath.length <= 512 &&
  !entryPath.startsWith('/') &&
  !entryPath.includes('\\') &&
  !entryPath.includes('\0') &&
  !/^[a-zA-Z]:/.test(entryPath) &&
  entryPath.split('/').every((part) => part !== '' && part !== '.' && part !== '..');

const entryPath = z.string().refine(isSafeEntryPath, 'must be a relative path inside the archive');

export const entrySchema = z.object({
  path: entryPath,
  /** Bytes of the content (rows or file) before compression and encryption. */
  size: z.number().int().nonnegative(),
  sha256: sha256Hex,
  compressed: z.boolean(),
});

/** A condition on a column: equal to a value, or in the values a sub-query selects. */
export interface Condition {
  column: string;
  equals?: string | number;
  in?: SubQuery;
}
export interface SubQuery {
  table: string;
  column: string;
  where?: RowFilter;
}
/** Alternatives (OR) of conjunctions (AND) of conditions. */
export type RowFilter = Condition[][];

const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.object({
    column: z.string(),
    equals: z.union([z.string(), z.number()]).optional(),
    in: subQuerySchema.optional(),
  })
);
const subQuerySchema: z.ZodType<SubQuery> = z.lazy(() =>
  z.object({ table: z.string(), column: z.string(), where: rowFilterSchema.optional() })
);
const rowFilterSchema: z.ZodType<RowFilter> = z.array(z.array(conditionSchema));

export const columnSchema = z.object({ name: z.string(), type: z.string() });

export const tableSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_$]+$/, 'must be a plain table name'),
  /** content | admin | config: the part of the scope the table belongs to. */
  group: z.enum(['content', 'admin', 'config']),
  /** The model (content type, component, core model) that owns the table. */
  owner: z.string(),
  columns: z.array(columnSchema).min(1),
  rows: z.number().int().nonnegative(),
  /** The id the next insert would get, so a restore puts the sequence back exactly. */
  nextId: z.number().int().positive().nullable(),
  /** replace: the whole table; filtered: the rows `filter` selects; upsert: rows by id only. */
  mode: z.enum(['replace', 'filtered', 'upsert']),
  filter: rowFilterSchema.nullable(),
  entry: entryPath,
});

export const contentTypeSchema = z.object({
  uid: z.string(),
  kind: z.enum(['collectionType', 'singleType']),
  displayName: z.string(),
  table: z.string(),
  schemaHash: sha256Hex,
  rows: z.number().int().nonnegative(),
});

export const mediaFileSchema = z.object({
  path: entryPath,
  sha256: sha256Hex,
  size: z.number().int().nonnegative(),
});

export const manifestSchema = z.object({
  format: z.literal(FORMAT),
  formatVersion: z.literal(FORMAT_VERSION),
  id: z.string().regex(/^[0-9A-Za-z-]+$/),
  name: z.string(),
  kind: z.enum(['manual', 'scheduled', 'safety']),
  createdAt: z.iso.datetime(),
  plugin: z.object({ version: z.string() }),
  strapi: z.object({ version: z.string() }),
  database: z.object({ client: z.enum(['sqlite', 'postgres', 'mysql']) }),
  scope: z.object({
    contentTypes: z.union([z.literal('all'), z.array(z.string())]),
    media: z.boolean(),
    adminUsers: z.boolean(),
    config: z.boolean(),
  }),
  compression: z.enum(['none', 'fast', 'best']),
  encryption: z
    .object({
      algorithm: z.literal('aes-256-gcm'),
      chunkSize: z.number().int().positive(),
      kdf: z.object({
        kdf: z.literal('scrypt'),
        salt: z.string(),
        N: z.number().int().positive(),
        r: z.number().int().positive(),
        p: z.number().int().positive(),
        keyLength: z.literal(32),
      }),
      keyCheck: z.string(),
    })
    .nullable(),
  contentTypes: z.array(contentTypeSchema),
  tables: z.array(tableSchema),
  media: z.object({
    included: z.boolean(),
    provider: z.string(),
    files: z.number().int().nonnegative(),
    bytes: z.number().int().nonnegative(),
    /** Files the database names but the upload folder does not have. */
    missing: z.array(z.string()),
  }),
  entries: z.array(entrySchema),
  totals: z.object({ rows: z.number().int().nonnegative(), bytes: z.number().int().nonnegative() }),
  timings: z.record(z.string(), z.number().nonnegative()),
  warnings: z.array(z.string()),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestTable = z.infer<typeof tableSchema>;
export type ManifestEntry = z.infer<typeof entrySchema>;
export type MediaFile = z.infer<typeof mediaFileSchema>;
export type ContentTypeSummary = z.infer<typeof contentTypeSchema>;
