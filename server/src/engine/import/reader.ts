import type { Knex } from 'knex';

import type { ContentModel, DocumentVersion, FieldValue, ModelDescription } from './types';

/**
 * Reads document versions out of a database — the app's own, or a scratch SQLite database
 * holding an archive's tables — in batches: the main rows, then for the whole batch at once
 * their relations (to the targets' documentIds), components and dynamic zones (nested, at any
 * depth) and media (to the files' SHA-256). A few queries per batch and table, whatever the
 * number of documents; memory holds one batch.
 */

/** The canonical value of a raw cell (see values.ts), by table and column. */
export type CellReader = (table: string, column: string, raw: unknown) => unknown;

/** SHA-256 of the files of the given `files` rows (by id); null when the file is not readable. */
export type MediaHasher = (files: Array<{ id: number; url: string | null; provider: string | null }>) => Promise<Map<number, string | null>>;

export interface ReaderOptions {
  db: Knex | Knex.Transaction;
  model: ContentModel;
  cell: CellReader;
  mediaHash: MediaHasher;
  /** Tables that exist in this database (an archive may lack some). */
  tables: Set<string>;
  /** Columns of each table that exist in this database. */
  columns: Map<string, Set<string>>;
  /**
   * Whether media links can be read as files (false: an archive without its media files). A
   * field the source cannot tell is left out of the version, so it is neither compared nor
   * written: the app keeps what it has.
   */
  mediaKnown?: boolean;
}

export const BATCH = 500;

const MEDIA_TABLE = 'files_related_mph';

const groupBy = <T, K>(items: T[], key: (item: T) => K) => {
  const map = new Map<K, T[]>();
  for (const item of items) {
    const list = map.get(key(item));
    if (list) list.push(item);
    else map.set(key(item), [item]);
  }
  return map;
};

const chunked = <T>(items: T[], size = BATCH) => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** A SELECT … WHERE column IN (…) over any number of values (chunked under the engines' limits). */
export const selectIn = async <R = Record<string, unknown>>(
  db: Knex | Knex.Transaction,
  table: string,
  column: string,
  values: unknown[],
  select: string[] | '*' = '*',
  extra?: (builder: Knex.QueryBuilder) => void
): Promise<R[]> => {
  const unique = [...new Set(values)];
  const out: R[] = [];
  for (const part of chunked(unique)) {
    const query = db(table).whereIn(column, part as readonly string[]);
    if (select !== '*') query.select(select);
    extra?.(query);
    out.push(...((await query) as R[]));
  }
  return out;
};

export const createReader = (options: ReaderOptions) => {
  const { db, model, cell, mediaHash, tables, columns, mediaKnown = true } = options;
  const has = (table: string, column?: string) => tables.has(table) && (!column || Boolean(columns.get(table)?.has(column)));

  /** documentId of rows of a content type's table, by row id. */
  const documentIdsOf = async (uid: string, ids: number[]) => {
    const target = model.get(uid);
    const out = new Map<number, string>();
    if (!target || !has(target.table) || !ids.length) return out;
    for (const row of await selectIn<{ id: number; document_id: string }>(db, target.table, 'id', ids, ['id', 'document_id'])) {
      out.set(Number(row.id), String(row.document_id));
    }
    return out;
  };

  /**
   * The fields of entities (content rows or component rows) of one model, by row id: scalars
   * from the rows given, everything else with a few queries for all of them.
   */
  const fieldsOf = async (desc: ModelDescription, rows: Array<Record<string, unknown>>, depth = 0): Promise<Map<number, Record<string, FieldValue>>> => {
    const out = new Map<number, Record<string, FieldValue>>();
    const ids = rows.map((r) => Number(r.id));
    for (const row of rows) {
      const fields: Record<string, FieldValue> = {};
      for (const attribute of desc.attributes) {
        if (attribute.kind !== 'scalar' || !attribute.column) continue;
        if (!columns.get(desc.table)?.has(attribute.column)) continue;
        fields[attribute.name] = cell(desc.table, attribute.column, row[attribute.column]) as FieldValue;
      }
      out.set(Number(row.id), fields);
    }
    if (!ids.length || depth > 20) return out;

    // Relations (owning side): the targets' documentIds, in the link table's order.
    for (const attribute of desc.attributes) {
      if (attribute.kind !== 'relation' || !attribute.joinTable) continue;
      const join = attribute.joinTable;
      // An archive of some content types holds their links, not the tables they point at:
      // where such a link goes is unknown, so the field is left out (this app keeps its own).
      const target = model.get(attribute.target!);
      if (!has(join.name) || !target || !has(target.table)) continue;
      for (const fields of out.values()) fields[attribute.name] = attribute.many ? [] : null;
      const links = await selectIn<Record<string, unknown>>(db, join.name, join.joinColumn, ids, '*', (q) => {
        if (join.orderColumn && has(join.name, join.orderColumn)) q.orderBy([join.joinColumn, join.orderColumn, 'id']);
        else q.orderBy([join.joinColumn, 'id']);
      });
      const targets = await documentIdsOf(attribute.target!, links.map((l) => Number(l[join.inverseJoinColumn])));
      for (const link of links) {
        const fields = out.get(Number(link[join.joinColumn]));
        const target = targets.get(Number(link[join.inverseJoinColumn]));
        if (!fields || target === undefined) continue;
        if (attribute.many) (fields[attribute.name] as FieldValue[]).push(target);
        else fields[attribute.name] = target;
      }
    }

    // Media: the files' SHA-256, in order.
    const mediaAttributes = desc.attributes.filter((a) => a.kind === 'media');
    if (mediaAttributes.length && mediaKnown) {
      for (const fields of out.values()) for (const a of mediaAttributes) fields[a.name] = a.many ? [] : null;
      if (has(MEDIA_TABLE) && has('files')) {
        const links = await selectIn<Record<string, unknown>>(db, MEDIA_TABLE, 'related_id', ids, '*', (q) =>
          q.where('related_type', desc.uid).orderBy(['related_id', 'field', 'order', 'id'])
        );
        const files = await selectIn<{ id: number; url: string | null; provider: string | null }>(
          db,
          'files',
          'id',
          links.map((l) => Number(l.file_id)),
          ['id', 'url', 'provider']
        );
        const hashes = await mediaHash(files.map((f) => ({ id: Number(f.id), url: f.url, provider: f.provider })));
        for (const link of links) {
          const fields = out.get(Number(link.related_id));
          const attribute = mediaAttributes.find((a) => a.name === link.field);
          const hash = hashes.get(Number(link.file_id));
          if (!fields || !attribute || !hash) continue;
          if (attribute.many) (fields[attribute.name] as FieldValue[]).push(hash);
          else fields[attribute.name] = hash;
        }
      }
    }

    // Components and dynamic zones, nested.
    const componentAttributes = desc.attributes.filter((a) => a.kind === 'component' || a.kind === 'dynamiczone');
    if (componentAttributes.length) {
      for (const fields of out.values()) {
        for (const a of componentAttributes) fields[a.name] = a.kind === 'dynamiczone' || a.many ? [] : null;
      }
      if (desc.componentTable && has(desc.componentTable)) {
        const links = await selectIn<Record<string, unknown>>(db, desc.componentTable, 'entity_id', ids, '*', (q) =>
          q.orderBy(['entity_id', 'field', 'order', 'id'])
        );
        const contents = new Map<string, Map<number, Record<string, FieldValue>>>();
        for (const [type, group] of groupBy(links, (l) => String(l.component_type))) {
          const component = model.get(type);
          if (!component || !has(component.table)) continue;
          const rows = await selectIn<Record<string, unknown>>(db, component.table, 'id', group.map((l) => Number(l.cmp_id)));
          contents.set(type, await fieldsOf(component, rows, depth + 1));
        }
        for (const link of links) {
          const fields = out.get(Number(link.entity_id));
          const attribute = componentAttributes.find((a) => a.name === link.field);
          const content = contents.get(String(link.component_type))?.get(Number(link.cmp_id));
          if (!fields || !attribute || !content) continue;
          if (attribute.kind === 'dynamiczone') (fields[attribute.name] as FieldValue[]).push({ __component: String(link.component_type), ...content });
          else if (attribute.many) (fields[attribute.name] as FieldValue[]).push(content);
          else fields[attribute.name] = content;
        }
      }
    }
    return out;
  };

  const metaColumn = (table: string, row: Record<string, unknown>, column: string) =>
    columns.get(table)?.has(column) ? ((cell(table, column, row[column]) as string | null) ?? null) : null;

  /** Document versions of main rows of a content type. */
  const versionsOf = async (uid: string, rows: Array<Record<string, unknown>>): Promise<Array<DocumentVersion & { id: number }>> => {
    const desc = model.get(uid)!;
    const fields = await fieldsOf(desc, rows);
    return rows.map((row) => {
      const publishedAt = metaColumn(desc.table, row, 'published_at');
      return {
        id: Number(row.id),
        uid,
        documentId: String(row.document_id),
        locale: desc.localized ? ((row.locale as string | null) ?? null) : null,
        published: !desc.draftAndPublish || publishedAt !== null,
        fields: fields.get(Number(row.id)) ?? {},
        meta: {
          createdAt: metaColumn(desc.table, row, 'created_at'),
          updatedAt: metaColumn(desc.table, row, 'updated_at'),
          publishedAt,
        },
      };
    });
  };

  /** The main rows of a content type whose `column` is one of `values`. */
  const rowsWhere = (uid: string, column: string, values: unknown[]) => {
    const desc = model.get(uid)!;
    if (!has(desc.table, column)) return Promise.resolve([]);
    return selectIn<Record<string, unknown>>(db, desc.table, column, values, '*', (q) => q.orderBy('id'));
  };

  return {
    versionsOf,
    rowsWhere,

    /** Versions of the documents with these documentIds (every locale, draft and published). */
    async byDocumentIds(uid: string, documentIds: string[]) {
      return versionsOf(uid, await rowsWhere(uid, 'document_id', documentIds));
    },

    /** The main rows of a content type, in batches of BATCH rows, in id order (no relations read). */
    async *rows(uid: string, batch = BATCH): AsyncGenerator<Array<Record<string, unknown>>> {
      const desc = model.get(uid)!;
      if (!has(desc.table)) return;
      let last = -1;
      for (;;) {
        const rows = (await db(desc.table).where('id', '>', last).orderBy('id').limit(batch)) as Array<Record<string, unknown>>;
        if (!rows.length) return;
        last = Number(rows[rows.length - 1].id);
        yield rows;
      }
    },

    /** Where a main row stands: documentId, locale, draft or published. */
    keyOfRow(uid: string, row: Record<string, unknown>) {
      const desc = model.get(uid)!;
      const publishedAt = has(desc.table, 'published_at') ? row.published_at : 'x';
      return {
        documentId: String(row.document_id),
        locale: desc.localized ? ((row.locale as string | null) ?? null) : null,
        published: !desc.draftAndPublish || (publishedAt !== null && publishedAt !== undefined),
      };
    },

    /** Row ids and versions by documentId: what exists, without reading content. */
    async keysOf(uid: string, documentIds: string[]) {
      const desc = model.get(uid)!;
      if (!has(desc.table)) return [];
      const select = ['id', 'document_id', ...(has(desc.table, 'locale') ? ['locale'] : []), ...(has(desc.table, 'published_at') ? ['published_at'] : [])];
      const rows = await selectIn<Record<string, unknown>>(db, desc.table, 'document_id', documentIds, select);
      return rows.map((row) => ({
        id: Number(row.id),
        documentId: String(row.document_id),
        locale: desc.localized ? ((row.locale as string | null) ?? null) : null,
        published: !desc.draftAndPublish || row.published_at !== null,
      }));
    },
  };
};

export type DocumentReader = ReturnType<typeof createReader>;
