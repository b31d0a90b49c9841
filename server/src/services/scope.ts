import { createHash } from 'node:crypto';

import type { Core } from '@strapi/strapi';
import { errors } from '@strapi/utils';

import type { SelectableContentType } from '../contracts/backups';
import type { BackupTablePlan } from '../engine/backup';
import type { ContentTypeSummary, Manifest, RowFilter, SubQuery } from '../engine/manifest';
import type { TargetSchema } from '../engine/apply';
import type { AttributeDescription, ContentModel, ModelDescription } from '../engine/import/types';
import { PLUGIN_ID } from '../constants';

/**
 * Which tables make up a content type, and which tables belong to which part of a backup.
 * Built from Strapi's own database metadata (models, components, join tables) and the real
 * schema (columns, foreign keys), so it follows whatever content model the app has.
 */

type Group = 'content' | 'admin' | 'config' | 'never';

interface JoinTable {
  name: string;
  joinColumn?: { name: string; referencedTable?: string };
  inverseJoinColumn?: { name: string; referencedTable?: string };
  morphColumn?: { typeColumn: { name: string }; idColumn: { name: string } };
}

interface ModelMeta {
  uid: string;
  tableName: string;
  attributes: Record<string, { type: string; columnName?: string; relation?: string; target?: string; joinTable?: JoinTable; component?: string; components?: string[] }>;
}

/** Attribute types Strapi stores as JSON (rich-text blocks are JSON too). */
const JSON_ATTRIBUTES = new Set(['json', 'blocks']);

const ADMIN_NEVER = new Set(['admin::session']);
const CONFIG = new Set(['strapi::core-store', 'strapi::webhook']);

const groupOf = (uid: string | undefined): Group => {
  if (!uid || uid.startsWith(`plugin::${PLUGIN_ID}.`) || ADMIN_NEVER.has(uid) || /ai-(metadata|localization)-job$/.test(uid)) {
    return 'never';
  }
  if (uid.startsWith('admin::')) return 'admin';
  if (CONFIG.has(uid)) return 'config';
  return 'content';
};

/** Link rows another model owns that point at a selected content type (restore only). */
export interface IncomingLinks {
  /** The column holding the selected type's row id. */
  column: string;
  /** The selected type's table. */
  table: string;
}

/** A table of a backup or restore; `incoming` marks link tables a restore merges into. */
export interface RestorableTablePlan extends BackupTablePlan {
  incoming?: IncomingLinks;
}

export interface ScopeRequest {
  contentTypes?: string[];
  media: boolean;
  adminUsers: boolean;
  config: boolean;
}

export type { SelectableContentType } from '../contracts/backups';

const createScopeService = ({ strapi }: { strapi: Core.Strapi }) => {
  const models = (): ModelMeta[] =>
    // Join tables have metadata entries too, named after themselves: keep the models.
    [...(strapi.db.metadata as unknown as Map<string, ModelMeta>).values()].filter((m) => m.uid && m.uid !== m.tableName);

  /** table → the model that owns it (its own table, or a join table of its attributes). */
  const owners = () => {
    const map = new Map<string, string>();
    for (const model of models()) map.set(model.tableName, model.uid);
    for (const model of models()) {
      for (const attribute of Object.values(model.attributes)) {
        const table = attribute.joinTable?.name;
        if (table && !map.has(table)) map.set(table, model.uid);
      }
    }
    return map;
  };

  const inspect = async () => {
    const schema = await strapi.db.dialect.schemaInspector.getSchema();
    return schema.tables as Array<{
      name: string;
      columns: Array<{ name: string; type: string; notNullable?: boolean; defaultTo?: unknown }>;
      foreignKeys?: Array<{ columns: string[]; referencedTable: string; referencedColumns: string[]; onDelete?: string | null }>;
    }>;
  };

  const selectable = (): string[] =>
    Object.values(strapi.contentTypes)
      .filter((ct) => groupOf(ct.uid) === 'content' && (ct.uid.startsWith('api::') || ct.uid === 'plugin::users-permissions.user'))
      .map((ct) => ct.uid)
      .sort();

  const schemaHash = (uid: string) => {
    const model = strapi.getModel(uid as never) as { attributes: Record<string, unknown> };
    const sorted = Object.fromEntries(Object.entries(model.attributes).sort(([a], [b]) => a.localeCompare(b)));
    return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
  };

  /** attribute → type (components by uid, relations by target), for the import's compatibility report. */
  const attributeTypes = (uid: string): Record<string, string> => {
    const model = strapi.getModel(uid as never) as { attributes: Record<string, { type: string; component?: string; target?: string; multiple?: boolean; repeatable?: boolean }> };
    const out: Record<string, string> = {};
    for (const [name, a] of Object.entries(model.attributes)) {
      if (['id', 'documentId', 'createdAt', 'updatedAt', 'publishedAt', 'createdBy', 'updatedBy', 'locale', 'localizations'].includes(name)) continue;
      out[name] =
        a.type === 'component' ? `component:${a.component}${a.repeatable ? '[]' : ''}` : a.type === 'relation' ? `relation:${a.target}` : a.type === 'media' ? `media${a.multiple ? '[]' : ''}` : a.type;
    }
    return out;
  };

  const summary = (uid: string): Omit<ContentTypeSummary, 'rows'> => {
    const ct = strapi.contentTypes[uid as keyof typeof strapi.contentTypes] as {
      uid: string;
      kind: 'collectionType' | 'singleType';
      info: { displayName: string };
      collectionName: string;
    };
    return {
      uid,
      kind: ct.kind,
      displayName: ct.info.displayName,
      table: strapi.db.metadata.get(uid as never).tableName,
      schemaHash: schemaHash(uid),
      attributes: attributeTypes(uid),
    };
  };

  /** The component tables a model uses, with the filter selecting the rows it owns. */
  const componentFilters = (rootUid: string) => {
    const result = new Map<string, { uid: string; filter: Condition[] }>();
    type Condition = RowFilter[number][number];
    const visit = (uid: string, ownerIn: SubQuery | null) => {
      const model = strapi.db.metadata.get(uid as never) as unknown as ModelMeta;
      const schema = strapi.getModel(uid as never) as { attributes: Record<string, { component?: string; components?: string[] }> };
      for (const [name, attribute] of Object.entries(model.attributes)) {
        const join = attribute.joinTable;
        if (!join || !join.name.endsWith('_cmps')) continue;
        // A component field names one component, a dynamic zone several.
        const declared = schema.attributes[name] ?? {};
        const targets = declared.component ? [declared.component] : (declared.components ?? []);
        for (const target of targets) {
          const where: RowFilter = [[{ column: 'component_type', equals: target }, ...(ownerIn ? [{ column: 'entity_id', in: ownerIn }] : [])]];
          const sub: SubQuery = { table: join.name, column: 'cmp_id', where };
          const table = strapi.db.metadata.get(target as never).tableName;
          const entry = result.get(table) ?? { uid: target, filter: [] };
          entry.filter.push({ column: 'id', in: sub });
          result.set(table, entry);
          visit(target, sub);
        }
      }
    };
    visit(rootUid, null);
    return result;
  };

  /** Attributes that are bookkeeping, not content: ids, timestamps, authors, locale. */
  const NOT_CONTENT = new Set(['id', 'documentId', 'createdAt', 'updatedAt', 'publishedAt', 'createdBy', 'updatedBy', 'locale', 'localizations']);

  /**
   * The content model the import reads and writes: each content type asked for, every
   * component it uses at any depth, and (without attributes) every content type its relations
   * point at, so that a link resolves to the target's documentId.
   */
  const contentModel = (uids: string[]): ContentModel => {
    const out: ContentModel = new Map();
    const describe = (uid: string, full: boolean) => {
      const existing = out.get(uid);
      if (existing && (existing.attributes.length || !full)) return;
      const meta = strapi.db.metadata.get(uid as never) as unknown as ModelMeta | undefined;
      const schema = strapi.getModel(uid as never) as
        | {
            modelType?: string;
            kind?: 'collectionType' | 'singleType';
            info?: { displayName?: string };
            options?: { draftAndPublish?: boolean };
            pluginOptions?: { i18n?: { localized?: boolean } };
            attributes: Record<string, { type: string; multiple?: boolean; repeatable?: boolean; component?: string; components?: string[]; relation?: string; target?: string; mappedBy?: string; private?: boolean }>;
          }
        | undefined;
      if (!meta || !schema) return;
      const isComponent = schema.modelType === 'component';
      const desc: ModelDescription = {
        uid,
        table: meta.tableName,
        kind: isComponent ? 'component' : (schema.kind ?? 'collectionType'),
        displayName: schema.info?.displayName ?? uid,
        draftAndPublish: !isComponent && Boolean(schema.options?.draftAndPublish),
        localized: !isComponent && Boolean(schema.pluginOptions?.i18n?.localized),
        attributes: [],
        componentTable: null,
      };
      out.set(uid, desc);
      if (!full) return;
      const attributes: AttributeDescription[] = [];
      for (const [name, attribute] of Object.entries(schema.attributes)) {
        if (NOT_CONTENT.has(name)) continue;
        const db = meta.attributes[name] as (ModelMeta['attributes'][string] & { joinTable?: JoinTable & { orderColumnName?: string; inverseOrderColumnName?: string } }) | undefined;
        if (attribute.type === 'media') {
          attributes.push({ name, kind: 'media', type: 'media', many: Boolean(attribute.multiple) });
        } else if (attribute.type === 'component' || attribute.type === 'dynamiczone') {
          const components = attribute.type === 'component' ? [attribute.component!] : (attribute.components ?? []);
          if (db?.joinTable) desc.componentTable = db.joinTable.name;
          attributes.push({ name, kind: attribute.type, type: attribute.type, many: attribute.type === 'dynamiczone' || Boolean(attribute.repeatable), components });
          components.forEach((c) => describe(c, true));
        } else if (attribute.type === 'relation') {
          const join = db?.joinTable;
          if (!join?.joinColumn || !join.inverseJoinColumn || attribute.mappedBy || !attribute.target || attribute.target.startsWith('admin::')) continue;
          attributes.push({
            name,
            kind: 'relation',
            type: 'relation',
            many: /ToMany$/.test(attribute.relation ?? ''),
            target: attribute.target,
            joinTable: { name: join.name, joinColumn: join.joinColumn.name, inverseJoinColumn: join.inverseJoinColumn.name, orderColumn: join.orderColumnName ?? null, inverseOrderColumn: join.inverseOrderColumnName ?? null },
          });
          describe(attribute.target, false);
        } else if (db?.columnName) {
          attributes.push({ name, kind: 'scalar', type: attribute.type, column: db.columnName });
        }
      }
      desc.attributes = attributes;
    };
    for (const uid of uids) describe(uid, true);
    return out;
  };

  return {
    selectable,
    contentModel,
    attributeTypes,

    /** table → the model (content type, component, core model) that owns it. */
    tableOwners: owners,

    async listContentTypes(): Promise<SelectableContentType[]> {
      const out: SelectableContentType[] = [];
      for (const uid of selectable()) {
        const s = summary(uid);
        out.push({ uid, kind: s.kind, displayName: s.displayName, table: s.table, rows: Number((await strapi.db.connection(s.table).count({ n: '*' }))[0].n) });
      }
      return out;
    },

    /** The database as the restore sees it: columns and foreign keys of every table. */
    async targetSchema(): Promise<TargetSchema> {
      const tables = await inspect();
      // JSON columns as Strapi declares them: MariaDB's JSON is LONGTEXT with a json_valid check,
      // which the inspector calls text; written as text, a JSON `true` became 1. A restore binds
      // the JSON text of every value into these columns, on every engine.
      const json = new Set<string>();
      for (const model of models()) {
        for (const attribute of Object.values(model.attributes)) {
          if (JSON_ATTRIBUTES.has(attribute.type) && attribute.columnName) json.add(`${model.tableName}.${attribute.columnName}`);
        }
      }
      return {
        tables: new Map(
          tables.map((t) => [
            t.name,
            t.columns.map((c) => ({
              name: c.name,
              type: json.has(`${t.name}.${c.name}`) && !/^jsonb?$/.test(c.type) ? 'json' : c.type,
              nullable: !c.notNullable,
              hasDefault: c.type === 'increments' || c.defaultTo !== undefined && c.defaultTo !== null,
            })),
          ])
        ),
        foreignKeys: tables.flatMap((t) =>
          (t.foreignKeys ?? []).map((fk) => ({
            table: t.name,
            column: fk.columns[0],
            refTable: fk.referencedTable,
            refColumn: fk.referencedColumns[0],
            onDelete: String(fk.onDelete ?? 'NO ACTION'),
          }))
        ),
      };
    },

    /** The tables (and row filters) a backup or restore of `request` covers. */
    async resolve(request: ScopeRequest): Promise<{
      tables: RestorableTablePlan[];
      /** Tables linked to but not held (selective scopes): their rows' identities are written too. */
      references?: Array<{ name: string; columns: Array<{ name: string; type: string }> }>;
      contentTypes: Array<Omit<ContentTypeSummary, 'rows'>>;
      scope: Manifest['scope'];
    }> {
      const tables = await inspect();
      const ownerOf = owners();
      const columnsOf = new Map(tables.map((t) => [t.name, t.columns.map((c) => ({ name: c.name, type: c.type }))]));
      const plan = (name: string, mode: BackupTablePlan['mode'], filter: RowFilter | null): BackupTablePlan => {
        const owner = ownerOf.get(name)!;
        return { name, group: groupOf(owner) as BackupTablePlan['group'], owner, columns: columnsOf.get(name)!, mode, filter };
      };

      if (!request.contentTypes) {
        const wanted = new Set<Group>(['content', ...(request.adminUsers ? ['admin' as const] : []), ...(request.config ? ['config' as const] : [])]);
        return {
          tables: tables.filter((t) => wanted.has(groupOf(ownerOf.get(t.name)))).map((t) => plan(t.name, 'replace', null)),
          contentTypes: selectable().map(summary),
          scope: { contentTypes: 'all', media: request.media, adminUsers: request.adminUsers, config: request.config },
        };
      }

      const unknown = request.contentTypes.filter((uid) => !selectable().includes(uid));
      if (unknown.length) {
        throw new errors.ValidationError(`Unknown content types: ${unknown.join(', ')}`, {
          errors: [{ path: ['contentTypes'], message: `not a content type of this app: ${unknown.join(', ')}`, name: 'ValidationError' }],
        });
      }

      const planned = new Map<string, RestorableTablePlan>();
      /**
       * A table reached twice: owned whole (replace) wins over the rows a filter selects, filters
       * add up, and incoming links (rows other models own that point at a selected type) stay
       * marked on a filtered table too — a component's link table holds rows of the selected
       * type's components (filtered, replaced) and of other owners' components (incoming).
       */
      const add = (name: string, mode: BackupTablePlan['mode'], filter: RowFilter | null, incoming?: IncomingLinks) => {
        const existing = planned.get(name);
        if (!existing) {
          planned.set(name, { ...plan(name, mode, filter), ...(incoming ? { incoming } : {}) });
          return;
        }
        const pureIncoming = Boolean(existing.incoming) && existing.mode === 'replace';
        const ownedWhole = existing.mode === 'replace' && !existing.incoming;
        if (ownedWhole) return;
        if (incoming) {
          existing.incoming ??= incoming;
        } else if (!filter) {
          delete existing.incoming;
          Object.assign(existing, { mode, filter: null });
        } else if (pureIncoming) {
          Object.assign(existing, { mode, filter });
        } else {
          existing.filter = [...(existing.filter ?? []), ...filter];
        }
      };
      const mediaAlternatives: RowFilter = [];
      const selectedTables = new Set(request.contentTypes.map((uid) => strapi.db.metadata.get(uid as never).tableName));
      const declared = (uid: string, attribute: string) =>
        ((strapi.getModel(uid as never) as { attributes: Record<string, { mappedBy?: string }> } | undefined)?.attributes[attribute] ?? {});

      for (const uid of request.contentTypes) {
        const model = strapi.db.metadata.get(uid as never) as unknown as ModelMeta;
        add(model.tableName, 'replace', null);
        mediaAlternatives.push([{ column: 'related_type', equals: uid }]);
        // The join tables of the relations it declares (owning side) and of its components and
        // dynamic zones (the root `_cmps` table) are its own.
        for (const [name, attribute] of Object.entries(model.attributes)) {
          const join = attribute.joinTable;
          if (!join || join.name === 'files_related_mph' || declared(uid, name).mappedBy) continue;
          add(join.name, 'replace', null);
        }
        for (const [table, { uid: componentUid, filter }] of componentFilters(uid)) {
          const ownsRow: RowFilter = filter.map((condition) => [condition]);
          add(table, 'filtered', ownsRow);
          mediaAlternatives.push(...filter.map((condition) => [{ column: 'related_type', equals: componentUid }, { column: 'related_id', in: condition.in! }]));
          // Its relations and, for a component holding components, its own `_cmps` table: the
          // rows whose owner column names one of the components the content type owns.
          const component = strapi.db.metadata.get(componentUid as never) as unknown as ModelMeta;
          for (const attribute of Object.values(component.attributes)) {
            const join = attribute.joinTable;
            if (!join?.joinColumn || join.name === 'files_related_mph') continue;
            add(join.name, 'filtered', filter.map((condition) => [{ column: join.joinColumn!.name, in: condition.in! }]));
          }
        }
      }
      // Relations other models declare towards a selected type (the inverse side of a
      // bidirectional relation, one-way relations, relations of components): those link rows
      // belong to the other model. A restore keeps them, brings back the links of documents it
      // brings back, and reports those whose document is gone (see engine/apply.ts, incoming).
      for (const other of models()) {
        if (selectedTables.has(other.tableName)) continue;
        for (const [name, attribute] of Object.entries(other.attributes)) {
          const join = attribute.joinTable;
          const target = join?.inverseJoinColumn?.referencedTable;
          if (!join || !target || !selectedTables.has(target) || !join.name.endsWith('_lnk') || declared(other.uid, name).mappedBy) continue;
          add(join.name, 'replace', null, { column: join.inverseJoinColumn!.name, table: target });
        }
      }
      if (mediaAlternatives.length) {
        add('files_related_mph', 'filtered', mediaAlternatives);
        add('files', 'upsert', [[{ column: 'id', in: { table: 'files_related_mph', column: 'file_id', where: mediaAlternatives } }]]);
      }
      if (request.adminUsers) tables.filter((t) => groupOf(ownerOf.get(t.name)) === 'admin').forEach((t) => add(t.name, 'replace', null));
      if (request.config) tables.filter((t) => groupOf(ownerOf.get(t.name)) === 'config').forEach((t) => add(t.name, 'replace', null));

      // Tables the selected types link to without owning them (the suppliers of contracts): the
      // identity of their rows, so that an import of this archive can tell where links go.
      const references = new Map<string, Array<{ name: string; type: string }>>();
      const linkTargets = (uid: string) => {
        const model = strapi.db.metadata.get(uid as never) as unknown as ModelMeta;
        for (const attribute of Object.values(model.attributes)) {
          const target = attribute.joinTable?.inverseJoinColumn?.referencedTable;
          if (!target || planned.has(target) || !attribute.target || attribute.target.startsWith('admin::') || !columnsOf.has(target)) continue;
          const columns = columnsOf.get(target)!.filter((c) => ['id', 'document_id', 'locale', 'published_at'].includes(c.name));
          if (columns.some((c) => c.name === 'document_id')) references.set(target, columns);
        }
      };
      for (const uid of request.contentTypes) {
        linkTargets(uid);
        for (const { uid: componentUid } of componentFilters(uid).values()) linkTargets(componentUid);
      }
      return {
        tables: [...planned.values()].filter((t) => columnsOf.has(t.name)),
        references: [...references].map(([name, columns]) => ({ name, columns })),
        contentTypes: request.contentTypes.map(summary),
        scope: { contentTypes: [...request.contentTypes].sort(), media: request.media, adminUsers: request.adminUsers, config: request.config },
      };
    },
  };
};

export default createScopeService;
