/**
 * The document model the import previews, diffs, merges and writes, and the JSON export
 * writes: one object per document version (documentId + locale + draft/published), with
 * components and dynamic zones nested, relations by the target's documentId and media by the
 * SHA-256 of the file. Ids are not content: they differ between two instances.
 */

/** A field's value: scalars as in an archive (canonical form), the rest as below. */
export type FieldValue =
  | null
  | string
  | number
  | boolean
  | FieldValue[]
  | { [key: string]: FieldValue }
  | Record<string, unknown>;

/**
 * A component: its own fields; in a dynamic zone also `__component` (its uid).
 * A relation: the target's documentId (to-one) or the documentIds in order (to-many).
 * A media field: the file's SHA-256 (single) or the SHA-256s in order (multiple).
 */
export interface DocumentVersion {
  uid: string;
  documentId: string;
  /** null when the content type is not localized. */
  locale: string | null;
  /** Draft and published versions are separate documents (publishedAt null / set). */
  published: boolean;
  fields: Record<string, FieldValue>;
  /** Not content: compared for "newer wins" and shown; never part of a digest. */
  meta: { createdAt: string | null; updatedAt: string | null; publishedAt: string | null };
}

/** `${uid}|${documentId}|${locale}|${draft|published}`. */
export const versionKey = (v: Pick<DocumentVersion, 'uid' | 'documentId' | 'locale' | 'published'>) =>
  `${v.uid}|${v.documentId}|${v.locale ?? ''}|${v.published ? 'published' : 'draft'}`;

export const parseVersionKey = (key: string) => {
  const [uid, documentId, locale, version] = key.split('|');
  return { uid, documentId, locale: locale || null, published: version === 'published' };
};

/** JSON with object keys sorted: equal content, equal text, equal digest. */
export const stableJson = (value: unknown): string => {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
};

/** How an attribute is stored and compared. */
export type AttributeKind = 'scalar' | 'component' | 'dynamiczone' | 'relation' | 'media';

export interface AttributeDescription {
  name: string;
  kind: AttributeKind;
  /** Strapi's attribute type (string, decimal, relation, media, component, …). */
  type: string;
  /** Scalars: the column. */
  column?: string;
  /** to-many relation, repeatable component, multiple media. */
  many?: boolean;
  /** Relations: the target content type; components: the component uid(s). */
  target?: string;
  components?: string[];
  /** Relations: the join table and its columns (owning side only; inverse sides are not content). */
  joinTable?: { name: string; joinColumn: string; inverseJoinColumn: string; orderColumn: string | null; inverseOrderColumn: string | null };
}

export interface ModelDescription {
  uid: string;
  table: string;
  kind: 'collectionType' | 'singleType' | 'component';
  displayName: string;
  draftAndPublish: boolean;
  localized: boolean;
  /** Content attributes, in the schema's order. */
  attributes: AttributeDescription[];
  /** The `_cmps` table of its components and dynamic zones, if it has any. */
  componentTable: string | null;
}

/** Every model the import needs (content types and the components they use), by uid. */
export type ContentModel = Map<string, ModelDescription>;
