import { z } from 'zod';

/**
 * manifest.json: what an archive holds and how to check it. Read with this schema before
 * anything else, so a damaged or foreign file is refused with the field that is wrong.
 * Holds no secret: the encryption parameters are a salt and a key check, never the key.
 */

export const FORMAT = 'pacta-backup';
/**
 * 1: manifest.json in clear in every archive (with manifest.mac when encrypted).
 * 2: an encrypted archive keeps in clear only an envelope (what deriving and checking the key
 *    needs, plus id, kind and createdAt) and seals the full manifest in manifest.enc; a plain
 *    archive is laid out as in 1. Both versions are read.
 */
export const FORMAT_VERSION = 2;
export const FORMAT_VERSIONS = [1, 2] as const;

export const MANIFEST_ENTRY = 'manifest.json';
/** SHA-256 of manifest.json, so a flipped byte in the manifest itself is noticed. */
export const MANIFEST_CHECKSUM_ENTRY = 'manifest.sha256';
/** HMAC-SHA256 of manifest.json under the archive key (encrypted archives of format 1 only). */
export const MANIFEST_MAC_ENTRY = 'manifest.mac';
/** The full manifest, deflated and sealed with AES-256-GCM (encrypted archives of format 2). */
export const SEALED_MANIFEST_ENTRY = 'manifest.enc';
export const MEDIA_INDEX_ENTRY = 'media/index.ndjson';

/**
 * What the reader accepts from an archive, which is untrusted input: every cap is checked while
 * streaming, so neither a lying zip header nor a hostile manifest makes the server inflate or
 * hold more than this.
 */
export const ARCHIVE_LIMITS = {
  /**
   * Bytes of manifest.json (or of the sealed manifest once opened). The manifest of the largest
   * bench dataset (50k contracts, 2k media files) is ~0.5 MB; a media file adds ~230 bytes and a
   * table a few KB, so 32 MiB holds ~140k media files, while a manifest bomb stops here.
   */
  maxManifestBytes: 32 * 1024 * 1024,
  /** Entries in the zip: above what a manifest within its cap can list (~140k). */
  maxEntries: 200_000,
  /**
   * Bytes of one NDJSON line, i.e. one row. A row written through Strapi's API arrives in a JSON
   * body that Strapi's body middleware caps at 1 MB by default; 16 MiB leaves room for apps that
   * raise it, and bounds what one JSON.parse holds.
   */
  maxLineBytes: 16 * 1024 * 1024,
  /**
   * Inflated bytes per compressed byte of one entry of an archive that is not authenticated (the
   * entries of an authenticated one are cut off at the sizes its sealed manifest declares). Real
   * NDJSON deflates 5–40x (a table of 200 mostly-null columns ~200x); deflate's own maximum is
   * ~1030x, reached only by runs of one byte, which is what a zip bomb is.
   */
  maxRatio: 500,
  /**
   * The ratio is only checked past this many inflated bytes: a blank file (an all-zero image, a
   * silent WAV) also deflates ~1000x, and Strapi's body parser takes uploads of at most 200 MB by
   * default, so no such file of an app with default settings trips it.
   */
  ratioGraceBytes: 256 * 1024 * 1024,
  /** manifest.sha256 and manifest.mac hold one hex digest. */
  maxDigestBytes: 1024,
};

export type ArchiveLimits = typeof ARCHIVE_LIMITS;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex');

/**
 * Entry paths are relative, with no `..`, no backslash, no drive letter and no control character
 * (a name is shown in messages and logs, where a newline would forge a line).
 */
export const isSafeEntryPath = (entryPath: string) =>
  entryPath.length > 0 &&
  entryPath.length <= 512 &&
  !entryPath.startsWith('/') &&
  !entryPath.includes('\\') &&
  ![...entryPath].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f) &&
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
  /** attribute → type, for the compatibility report of an import (archives since format 2.1). */
  attributes: z.record(z.string(), z.string()).optional(),
});

/**
 * Where the data of a backup comes from: the app instance that wrote it, and the backup that
 * instance was last restored from (null: never restored). An import finds the common base of
 * an archive and this app from it (three-way merge).
 */
/**
 * A table an archive of some content types does not hold but its links point at (the suppliers
 * of an archive of contracts): only each row's identity (id, document_id, locale, published_at),
 * so that an import tells where a link goes. Never restored.
 */
export const referenceSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_$]+$/, 'must be a plain table name'),
  columns: z.array(columnSchema).min(1),
  rows: z.number().int().nonnegative(),
  entry: entryPath,
});

export const lineageSchema = z.object({
  instance: z.string().regex(/^[0-9a-f]{8,64}$/),
  basedOn: z.string().regex(/^[0-9A-Za-z-]+$/).nullable(),
});

export const mediaFileSchema = z.object({
  path: entryPath,
  sha256: sha256Hex,
  size: z.number().int().nonnegative(),
});

export const encryptionSchema = z.object({
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
});

/**
 * manifest.json of an encrypted archive of format 2: only what deriving and checking the key
 * needs, and id, kind and createdAt. Those three stay in clear so that a backup the configured
 * key cannot open still lists in its place (date order, kind) instead of as an unknown file;
 * they tell little the file name and date do not already tell.
 */
export const envelopeSchema = z.object({
  format: z.literal(FORMAT),
  formatVersion: z.literal(2),
  id: z.string().regex(/^[0-9A-Za-z-]+$/),
  kind: z.enum(['manual', 'scheduled', 'safety']),
  createdAt: z.iso.datetime(),
  encryption: encryptionSchema,
  sealed: z.literal(SEALED_MANIFEST_ENTRY),
});

export type ManifestEnvelope = z.infer<typeof envelopeSchema>;

export const manifestSchema = z.object({
  format: z.literal(FORMAT),
  formatVersion: z.union([z.literal(1), z.literal(2)]),
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
  encryption: encryptionSchema.nullable(),
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
  lineage: lineageSchema.optional(),
  references: z.array(referenceSchema).optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestTable = z.infer<typeof tableSchema>;
export type ManifestEntry = z.infer<typeof entrySchema>;
export type MediaFile = z.infer<typeof mediaFileSchema>;
export type ContentTypeSummary = z.infer<typeof contentTypeSchema>;
export type Lineage = z.infer<typeof lineageSchema>;
export type ManifestReference = z.infer<typeof referenceSchema>;
