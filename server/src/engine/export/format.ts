import type { AttributeKind, ModelDescription } from '../import/types';

/**
 * The JSON export of a backup's documents (and an import source):
 *
 *   { "format": "pacta-backup-documents", "formatVersion": 1, "exportedAt": ISO,
 *     "backup": { "id", "createdAt" },
 *     "contentTypes": [ { uid, displayName, kind, draftAndPublish, localized,
 *                         attributes: [ { name, kind, type, many?, target?, components? } ] } ],
 *     "documents": [ DocumentVersion, … ] }
 *
 * The header keys come before `documents` (the writer writes them so; a reader of a file whose
 * keys were reordered reads the header in a first pass). One document version per line inside
 * `documents`, so the file can be read, grepped and diffed by a person.
 */
export const JSON_EXPORT_FORMAT = 'pacta-backup-documents';
export const JSON_EXPORT_FORMAT_VERSION = 1;

export interface ExportedAttribute {
  name: string;
  kind: AttributeKind;
  /** Strapi's attribute type (string, decimal, relation, media, component, dynamiczone, …). */
  type: string;
  /** to-many relation, repeatable component, multiple media. */
  many?: boolean;
  /** Relations: the target content type. Components: the component's uid. */
  target?: string;
  /** Dynamic zones: the component uids it allows. */
  components?: string[];
}

export interface ExportedContentType {
  uid: string;
  displayName: string;
  kind?: ModelDescription['kind'];
  draftAndPublish?: boolean;
  localized?: boolean;
  attributes: ExportedAttribute[];
}

export interface ExportedBackup {
  id: string;
  createdAt: string | null;
}

export interface JsonExportHeader {
  format: typeof JSON_EXPORT_FORMAT;
  formatVersion: typeof JSON_EXPORT_FORMAT_VERSION;
  exportedAt: string;
  backup: ExportedBackup;
  contentTypes: ExportedContentType[];
}

/** What an export says of a content type: its attributes' names and kinds, no table or column. */
export const describeContentType = (model: ModelDescription): ExportedContentType => ({
  uid: model.uid,
  displayName: model.displayName,
  kind: model.kind,
  draftAndPublish: model.draftAndPublish,
  localized: model.localized,
  attributes: model.attributes.map((attribute) => {
    const described: ExportedAttribute = { name: attribute.name, kind: attribute.kind, type: attribute.type };
    if (attribute.many !== undefined) described.many = attribute.many;
    if (attribute.target !== undefined) described.target = attribute.target;
    if (attribute.components !== undefined) described.components = [...attribute.components];
    return described;
  }),
});
