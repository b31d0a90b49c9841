import type { Knex } from 'knex';

import { EngineError } from '../errors';
import { fromCanonical, type Dialect } from '../values';
import { selectIn } from './reader';
import type { ContentModel, FieldValue, ModelDescription } from './types';

/**
 * Writes document versions into this app's tables, inside the caller's transaction, the way
 * Strapi lays them out: the main row (a new id from the table's own sequence: an import never
 * takes an id, so it never overwrites a row that happens to share one), component rows and
 * their `_cmps` links, relation link rows (to the target's row of the same locale and the same
 * draft/published state) and media links (`files_related_mph`, to the file with that SHA-256).
 * An update rewrites only the fields that change; the version keeps its row and id, so links
 * other documents hold towards it stay.
 */

const MEDIA_TABLE = 'files_related_mph';

export interface WriterOptions {
  trx: Knex.Transaction;
  dialect: Dialect;
  model: ContentModel;
  /** This app's column types (table → column → type). */
  columns: Map<string, Map<string, string>>;
  /** A relation's target documentId as the archive names it → this app's. */
  hereIdOf: (uid: string, documentId: string) => string;
  /** The file here with this SHA-256 (reused or added by the import), or null: not available. */
  fileOf: (sha256: string) => number | null;
  /** A relation whose target is in neither side: report it (drop) or throw (stop). */
  onDangling: (info: { uid: string; documentId: string; locale: string | null; field: string; target: string; targetDocumentId: string }) => void;
}

export interface VersionTarget {
  uid: string;
  documentId: string;
  locale: string | null;
  published: boolean;
}

type Row = Record<string, unknown>;

export const createWriter = (options: WriterOptions) => {
  const { trx, dialect, model, columns } = options;
  const now = new Date().toISOString();
  /** The version being written (what a dangling link is reported against). */
  let root: VersionTarget = { uid: '', documentId: '', locale: null, published: false };

  const bind = (table: string, column: string, value: unknown) => fromCanonical(value, columns.get(table)?.get(column) ?? 'string', dialect);
  const hasColumn = (table: string, column: string) => Boolean(columns.get(table)?.has(column));

  /** Inserts a row and answers its new id (RETURNING where the engine has it). */
  const insert = async (table: string, row: Row): Promise<number> => {
    if (dialect === 'mysql') {
      const [id] = (await trx(table).insert(row)) as number[];
      return Number(id);
    }
    const [out] = (await trx(table).insert(row).returning('id')) as Array<{ id: number } | number>;
    return Number(typeof out === 'object' ? out.id : out);
  };

  /** Target rows by documentId, cached for the whole import (after the main rows were written). */
  const targetRows = new Map<string, Map<string, Array<{ id: number; locale: string | null; published: boolean }>>>();
  const prefetch = async (uid: string, documentIds: string[]) => {
    const desc = model.get(uid);
    if (!desc) return;
    const cache = targetRows.get(uid) ?? new Map();
    targetRows.set(uid, cache);
    const missing = documentIds.filter((id) => !cache.has(id));
    if (!missing.length) return;
    const select = ['id', 'document_id', ...(hasColumn(desc.table, 'locale') ? ['locale'] : []), ...(hasColumn(desc.table, 'published_at') ? ['published_at'] : [])];
    for (const id of missing) cache.set(id, []);
    for (const row of await selectIn<Row>(trx, desc.table, 'document_id', missing, select)) {
      cache.get(String(row.document_id))!.push({
        id: Number(row.id),
        locale: (row.locale as string | null) ?? null,
        published: !desc.draftAndPublish || (row.published_at !== null && row.published_at !== undefined),
      });
    }
  };
  /** Forget cached target rows of a document (its versions changed). */
  const forget = (uid: string, documentId: string) => targetRows.get(uid)?.delete(documentId);

  /**
   * The row a relation points at: the target's version in the same state (Strapi links a
   * published version to published targets, a draft to drafts), in the same locale when the
   * target is localized. undefined: the target document is nowhere (dangling); null: it exists
   * but not in that state (Strapi leaves such a link out too).
   */
  const resolveTarget = async (uid: string, documentId: string, source: { locale: string | null; published: boolean }) => {
    const desc = model.get(uid);
    if (!desc) return undefined;
    await prefetch(uid, [documentId]);
    const rows = targetRows.get(uid)!.get(documentId)!;
    if (!rows.length) return undefined;
    const state = rows.filter((r) => r.published === (desc.draftAndPublish ? source.published : true));
    if (!state.length) return null;
    return (desc.localized ? (state.find((r) => r.locale === source.locale) ?? state[0]) : state[0]).id;
  };

  /** Deletes what a field of an entity (content row or component row) holds: links, components. */
  const clearField = async (desc: ModelDescription, id: number, name: string) => {
    const attribute = desc.attributes.find((a) => a.name === name)!;
    if (attribute.kind === 'relation' && attribute.joinTable) {
      await trx(attribute.joinTable.name).where(attribute.joinTable.joinColumn, id).delete();
    } else if (attribute.kind === 'media') {
      await trx(MEDIA_TABLE).where({ related_type: desc.uid, related_id: id, field: name }).delete();
    } else if ((attribute.kind === 'component' || attribute.kind === 'dynamiczone') && desc.componentTable) {
      const links = (await trx(desc.componentTable).where({ entity_id: id, field: name }).select(['cmp_id', 'component_type'])) as Row[];
      for (const link of links) await deleteComponent(String(link.component_type), Number(link.cmp_id));
      await trx(desc.componentTable).where({ entity_id: id, field: name }).delete();
    }
  };

  const deleteComponent = async (uid: string, id: number) => {
    const desc = model.get(uid);
    if (!desc) return;
    for (const attribute of desc.attributes) {
      if (attribute.kind !== 'scalar') await clearField(desc, id, attribute.name);
    }
    await trx(desc.table).where('id', id).delete();
  };

  const scalarRow = (desc: ModelDescription, fields: Record<string, FieldValue>, only?: Set<string>) => {
    const row: Row = {};
    for (const attribute of desc.attributes) {
      if (attribute.kind !== 'scalar' || !attribute.column || !(attribute.name in fields)) continue;
      if (only && !only.has(attribute.name)) continue;
      if (!hasColumn(desc.table, attribute.column)) continue;
      row[attribute.column] = bind(desc.table, attribute.column, fields[attribute.name]);
    }
    return row;
  };

  /** Writes a field's links and components for an entity whose field is empty. */
  const fillField = async (
    desc: ModelDescription,
    id: number,
    name: string,
    value: FieldValue,
    source: { locale: string | null; published: boolean },
    path: string
  ) => {
    const attribute = desc.attributes.find((a) => a.name === name)!;
    if (value === null || value === undefined) return;
    const values = Array.isArray(value) ? value : [value];
    if (attribute.kind === 'relation' && attribute.joinTable) {
      const join = attribute.joinTable;
      let order = 0;
      for (const documentId of values) {
        if (typeof documentId !== 'string') continue;
        const here = options.hereIdOf(attribute.target!, documentId);
        const target = await resolveTarget(attribute.target!, here, source);
        if (target === undefined) {
          options.onDangling({ uid: root.uid, documentId: root.documentId, locale: root.locale, field: path, target: attribute.target!, targetDocumentId: documentId });
          continue;
        }
        if (target === null) continue;
        order += 1;
        const row: Row = { [join.joinColumn]: id, [join.inverseJoinColumn]: target };
        if (join.orderColumn && hasColumn(join.name, join.orderColumn)) row[join.orderColumn] = order;
        if (join.inverseOrderColumn && hasColumn(join.name, join.inverseOrderColumn)) {
          const [{ max }] = (await trx(join.name).where(join.inverseJoinColumn, target).max({ max: join.inverseOrderColumn })) as Array<{ max: unknown }>;
          row[join.inverseOrderColumn] = Number(max ?? 0) + 1;
        }
        await trx(join.name).insert(row);
      }
    } else if (attribute.kind === 'media') {
      let order = 0;
      for (const sha of values) {
        if (typeof sha !== 'string') continue;
        const file = options.fileOf(sha);
        if (file === null) continue;
        order += 1;
        await trx(MEDIA_TABLE).insert({ file_id: file, related_id: id, related_type: desc.uid, field: name, order });
      }
    } else if ((attribute.kind === 'component' || attribute.kind === 'dynamiczone') && desc.componentTable) {
      let order = 0;
      for (const [index, item] of values.entries()) {
        if (!item || typeof item !== 'object' || Array.isArray(item)) continue;
        const entry = item as Record<string, FieldValue>;
        const type = attribute.kind === 'dynamiczone' ? String(entry.__component) : attribute.components![0];
        const component = model.get(type);
        if (!component) continue;
        const cmpId = await insertEntity(component, entry, source, `${path}${Array.isArray(value) ? `[${index}]` : ''}.`);
        order += 1;
        await trx(desc.componentTable).insert({ entity_id: id, cmp_id: cmpId, component_type: type, field: name, order });
      }
    }
  };

  /** A component row and everything under it; its new id. */
  const insertEntity = async (desc: ModelDescription, fields: Record<string, FieldValue>, source: { locale: string | null; published: boolean }, prefix: string) => {
    const id = await insert(desc.table, scalarRow(desc, fields));
    for (const attribute of desc.attributes) {
      if (attribute.kind === 'scalar' || !(attribute.name in fields)) continue;
      await fillField(desc, id, attribute.name, fields[attribute.name], source, `${prefix}${attribute.name}`);
    }
    return id;
  };

  const nonScalar = (desc: ModelDescription, fields: Record<string, FieldValue>) =>
    desc.attributes.filter((a) => a.kind !== 'scalar' && a.name in fields).map((a) => a.name);

  return {
    /** Phase 1 of a new version: its main row; the rest comes with `complete` once every new row exists. */
    async createRow(target: VersionTarget, fields: Record<string, FieldValue>, meta: { createdAt: string | null; updatedAt: string | null; publishedAt: string | null }) {
      const desc = model.get(target.uid)!;
      const row: Row = { ...scalarRow(desc, fields), document_id: target.documentId };
      const set = (column: string, value: unknown) => {
        if (hasColumn(desc.table, column)) row[column] = bind(desc.table, column, value);
      };
      set('locale', target.locale);
      set('created_at', meta.createdAt ?? now);
      set('updated_at', meta.updatedAt ?? now);
      set('published_at', target.published ? (meta.publishedAt ?? now) : null);
      const id = await insert(desc.table, row);
      forget(target.uid, target.documentId);
      return id;
    },

    /** Phase 1 of an update: the scalar fields that change, and updatedAt. */
    async updateRow(target: VersionTarget, id: number, fields: Record<string, FieldValue>, updatedAt: string | null) {
      const desc = model.get(target.uid)!;
      const row = scalarRow(desc, fields);
      if (hasColumn(desc.table, 'updated_at')) row.updated_at = bind(desc.table, 'updated_at', updatedAt ?? now);
      if (Object.keys(row).length) await trx(desc.table).where('id', id).update(row);
    },

    /** Phase 2: the relations, media and components of a version written in phase 1. */
    async complete(target: VersionTarget, id: number, fields: Record<string, FieldValue>, replace: boolean, reportAs?: VersionTarget) {
      const desc = model.get(target.uid)!;
      root = reportAs ?? target;
      for (const name of nonScalar(desc, fields)) {
        if (replace) await clearField(desc, id, name);
        await fillField(desc, id, name, fields[name], target, name);
      }
    },

    /** Deletes a version (mirror): its components and links first, then its row. */
    async deleteVersion(target: VersionTarget, id: number) {
      const desc = model.get(target.uid)!;
      for (const attribute of desc.attributes) {
        if (attribute.kind !== 'scalar') await clearField(desc, id, attribute.name);
      }
      await trx(MEDIA_TABLE).where({ related_type: desc.uid, related_id: id }).delete();
      await trx(desc.table).where('id', id).delete();
      forget(target.uid, target.documentId);
    },

    prefetch,
  };
};

export type DocumentWriter = ReturnType<typeof createWriter>;

export const staleError = (what: string) =>
  new EngineError('STALE_PREVIEW', `${what} changed since the preview: preview the import again`, { code: 'STALE_PREVIEW' });
