import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import type { Core } from '@strapi/strapi';

/**
 * The expected result of an import, computed without the import's code: the two sides (and the
 * base, three-way) are read as documents through Strapi's query engine, normalized to what is
 * content (relations by the target's documentId, media by the SHA-256 of the file, components
 * nested, no ids or timestamps), and merged here by the rules the issue states:
 *
 *   two-way (no common base): a version only in the archive is created; one on both sides that
 *   differs is a conflict, resolved by the policy (keep leaves it, incoming takes the archive's,
 *   newer takes the archive's unless this app's updatedAt is later); one only here is left as
 *   it is.
 *
 *   three-way (a common base): per top-level field, a field changed on one side only since the
 *   base takes that side's value; a field changed on both sides (to different values) is a
 *   conflict, resolved by the policy as above. A version changed here only is "unchanged"
 *   (nothing to write); one deleted here since the base and not changed in the archive stays
 *   deleted ("unchanged"); one the base does not have is compared two-way.
 *
 *   skip (as a type's or a document's policy): the import leaves the version alone, whatever
 *   its state (not created, not updated).
 *
 * Nothing here imports server/src/engine/import: the point is to check it.
 */

export type Policy = 'keep' | 'incoming' | 'newer' | 'skip';
export type State = 'create' | 'update' | 'unchanged' | 'conflict' | 'absent';

/** One document version: documentId + locale + draft/published. */
export interface Version {
  uid: string;
  documentId: string;
  locale: string | null;
  published: boolean;
  /** Content only, normalized (see readDocuments). */
  fields: Record<string, unknown>;
  updatedAt: string | null;
}

/** Versions by key. */
export type Documents = Map<string, Version>;

/** `${uid}|${documentId}|${locale}|${draft|published}`, as the import API names a version. */
export const keyOf = (v: Pick<Version, 'uid' | 'documentId' | 'locale' | 'published'>) =>
  `${v.uid}|${v.documentId}|${v.locale ?? ''}|${v.published ? 'published' : 'draft'}`;

/** JSON with sorted keys: equal content, equal text. */
export const canonical = (value: unknown): string => {
  if (value === undefined || value === null) return 'null';
  if (typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
};

export const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

// ---------------------------------------------------------------------------------------------
// Reading one side
// ---------------------------------------------------------------------------------------------

type Attribute = {
  type: string;
  relation?: string;
  target?: string;
  mappedBy?: string;
  multiple?: boolean;
  component?: string;
  components?: string[];
  repeatable?: boolean;
};

type Schema = { attributes: Record<string, Attribute>; options?: { draftAndPublish?: boolean } };

/** Not content: row identity, timestamps, authors, and what Strapi derives. */
const NOT_CONTENT = new Set(['id', 'documentId', 'createdAt', 'updatedAt', 'publishedAt', 'locale', 'createdBy', 'updatedBy', 'localizations']);

/** The example app's own content types (tests/app): what an import covers by default. */
export const CONTENT_TYPES = ['api::contract.contract', 'api::department.department', 'api::settings.settings', 'api::supplier.supplier', 'api::tag.tag'];

const schemaOf = (strapi: Core.Strapi, uid: string): Schema => strapi.getModel(uid as never) as unknown as Schema;

const isContent = (name: string, attribute: Attribute) =>
  !NOT_CONTENT.has(name) && !(attribute.type === 'relation' && (attribute.mappedBy || attribute.relation?.startsWith('morph')));

const toMany = (attribute: Attribute) =>
  attribute.type === 'media' ? Boolean(attribute.multiple) : /ToMany$/.test(attribute.relation ?? '');

/** What to populate to read every content attribute of a model, components at any depth. */
const populateOf = (strapi: Core.Strapi, uid: string): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const [name, attribute] of Object.entries(schemaOf(strapi, uid).attributes)) {
    if (!isContent(name, attribute)) continue;
    if (attribute.type === 'relation') out[name] = { select: ['id', 'documentId'] };
    else if (attribute.type === 'media') out[name] = { select: ['id', 'url'] };
    else if (attribute.type === 'component') {
      const nested = populateOf(strapi, attribute.component!);
      out[name] = Object.keys(nested).length ? { populate: nested } : true;
    } else if (attribute.type === 'dynamiczone') {
      const on = Object.fromEntries(
        attribute.components!.map((component) => {
          const nested = populateOf(strapi, component);
          return [component, Object.keys(nested).length ? { populate: nested } : true];
        })
      );
      out[name] = { on };
    }
  }
  return out;
};

/** A scalar as the same value whatever the engine gave back (SQLite 1/0, PostgreSQL decimal strings, Date objects). */
const scalar = (type: string, value: unknown): unknown => {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'decimal':
    case 'float':
    case 'integer':
      return Number(value);
    case 'biginteger':
      return String(value);
    case 'boolean':
      return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
    case 'datetime':
    case 'timestamp':
      return new Date(value as string).toISOString();
    case 'date':
      return value instanceof Date ? value.toISOString().slice(0, 10) : String(value).slice(0, 10);
    case 'json':
      return typeof value === 'string' ? safeJson(value) : value;
    default:
      return value;
  }
};

const safeJson = (text: string) => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** The SHA-256 of a file of the app's uploads folder, by its url (cached: files are immutable). */
const fileHasher = (publicDir: string) => {
  const cache = new Map<string, string>();
  return (url: string) => {
    if (!cache.has(url)) {
      const file = path.join(publicDir, url);
      cache.set(url, fs.existsSync(file) ? createHash('sha256').update(fs.readFileSync(file)).digest('hex') : `missing:${url}`);
    }
    return cache.get(url)!;
  };
};

/**
 * Every version of every document of `uids` in the app, normalized: one entry per row of the
 * content type's table (documentId + locale + draft/published), its content attributes only:
 *   - scalars in one form on every engine;
 *   - relations (owning side only: mappedBy sides are not content) as the target's documentId
 *     or the documentIds in order;
 *   - media as the SHA-256 of the file's bytes on disk, or the list of them in order;
 *   - components as objects of their own content attributes (ids dropped), repeatable ones as
 *     lists, dynamic zones as lists of `{ __component, ... }`.
 */
export const readDocuments = async (strapi: Core.Strapi, publicDir: string, uids: string[] = CONTENT_TYPES): Promise<Documents> => {
  const hash = fileHasher(publicDir);

  const normalize = (uid: string, row: Record<string, unknown>): Record<string, unknown> => {
    const fields: Record<string, unknown> = {};
    for (const [name, attribute] of Object.entries(schemaOf(strapi, uid).attributes)) {
      if (!isContent(name, attribute)) continue;
      const value = row[name];
      if (attribute.type === 'relation' || attribute.type === 'media') {
        const pick = (target: Record<string, unknown>) => (attribute.type === 'media' ? hash(String(target.url)) : String(target.documentId));
        fields[name] = toMany(attribute)
          ? ((value as Array<Record<string, unknown>> | null) ?? []).map(pick)
          : value
            ? pick(value as Record<string, unknown>)
            : null;
      } else if (attribute.type === 'component') {
        const one = (component: Record<string, unknown>) => normalize(attribute.component!, component);
        fields[name] = attribute.repeatable ? ((value as Array<Record<string, unknown>> | null) ?? []).map(one) : value ? one(value as Record<string, unknown>) : null;
      } else if (attribute.type === 'dynamiczone') {
        fields[name] = ((value as Array<Record<string, unknown>> | null) ?? []).map((component) => ({
          __component: component.__component,
          ...normalize(String(component.__component), component),
        }));
      } else {
        fields[name] = scalar(attribute.type, value);
      }
    }
    return fields;
  };

  const out: Documents = new Map();
  for (const uid of uids) {
    const rows = (await strapi.db.query(uid as never).findMany({ populate: populateOf(strapi, uid) } as never)) as Array<Record<string, unknown>>;
    for (const row of rows) {
      const version: Version = {
        uid,
        documentId: String(row.documentId),
        locale: (row.locale as string | null) ?? null,
        published: row.publishedAt !== null && row.publishedAt !== undefined,
        fields: normalize(uid, row),
        updatedAt: row.updatedAt ? new Date(row.updatedAt as string).toISOString() : null,
      };
      const key = keyOf(version);
      if (out.has(key)) throw new Error(`Two rows of ${uid} are the same version ${key}`);
      out.set(key, version);
    }
  }
  return out;
};

// ---------------------------------------------------------------------------------------------
// The relations of a model, for remapping and dangling links (read from Strapi's metadata)
// ---------------------------------------------------------------------------------------------

/** Where a document's content refers to other documents: a relation at a path, and its target. */
export interface RelationSlot {
  /** Top-level attribute, then component attributes (`clauses.counterparty`). */
  path: string[];
  target: string;
}

/** Per uid, the relation slots of its content (components at any depth, dynamic zones by component). */
export type RelationMap = Record<string, RelationSlot[]>;

export const relationsOf = (strapi: Core.Strapi, uids: string[] = CONTENT_TYPES): RelationMap => {
  const walk = (uid: string, prefix: string[]): RelationSlot[] =>
    Object.entries(schemaOf(strapi, uid).attributes).flatMap(([name, attribute]) => {
      if (!isContent(name, attribute)) return [];
      if (attribute.type === 'relation') return [{ path: [...prefix, name], target: attribute.target! }];
      if (attribute.type === 'component') return walk(attribute.component!, [...prefix, name]);
      if (attribute.type === 'dynamiczone') return attribute.components!.flatMap((component) => walk(component, [...prefix, `${name}:${component}`]));
      return [];
    });
  return Object.fromEntries(uids.map((uid) => [uid, walk(uid, [])]));
};

/**
 * Calls `visit` on every relation value of a version's fields (to-one and to-many), with the
 * attribute path as the import names it (`supplier`, `clauses[0].counterparty`), and replaces
 * each target by what `visit` returns (null drops it).
 */
export const mapRelations = (
  fields: Record<string, unknown>,
  slots: RelationSlot[],
  visit: (target: string, targetUid: string, field: string) => string | null
): Record<string, unknown> => {
  const copy = structuredClone(fields);
  for (const slot of slots) {
    const apply = (holder: Record<string, unknown>, rest: string[], label: string) => {
      const [head, ...tail] = rest;
      const [name, component] = head.split(':');
      const value = holder[name];
      if (!tail.length) {
        if (Array.isArray(value)) holder[name] = value.map((t) => visit(String(t), slot.target, `${label}${name}`)).filter((t) => t !== null);
        else if (value !== null && value !== undefined) holder[name] = visit(String(value), slot.target, `${label}${name}`);
        return;
      }
      const children = Array.isArray(value) ? value : value ? [value] : [];
      children.forEach((child: Record<string, unknown>, index) => {
        if (component && child.__component !== component) return;
        apply(child, tail, Array.isArray(value) ? `${label}${name}[${index}].` : `${label}${name}.`);
      });
    };
    apply(copy, slot.path, '');
  }
  return copy;
};

// ---------------------------------------------------------------------------------------------
// The merge
// ---------------------------------------------------------------------------------------------

export interface ImportOptions {
  /** Per uid (default 'keep'). */
  policies?: Record<string, Policy>;
  /** Per version key (keys name this app's documentId). */
  documents?: Record<string, Policy>;
  /** uid → attribute: documents with equal values are the same document. */
  match?: Record<string, string>;
  /** The common base (three-way); without it, two-way. */
  base?: Documents;
  /** Which content types the import covers (default: every uid of the incoming side). */
  contentTypes?: string[];
}

export interface Dangling {
  uid: string;
  documentId: string;
  locale: string | null;
  field: string;
  targetUid: string;
  targetDocumentId: string;
}

export interface Expected {
  /** The documents after the apply, keys with this app's documentIds. */
  after: Documents;
  /** The preview's state of every version (keys with this app's documentIds). */
  states: Map<string, State>;
  /** Per uid, the preview's counts. */
  counts: Record<string, Record<State, number>>;
  /** Per version key in conflict, its conflicting fields (sorted). */
  conflicts: Map<string, string[]>;
  /** Relations to documents in neither side (deduplicated: uid, documentId, locale, field, target). */
  dangling: Dangling[];
  /** Incoming documentIds matched to another documentId here, by uid. */
  matched: Map<string, string>;
}

/** newer: this app's version wins only when its updatedAt is strictly later (a tie takes the archive's, which was asked for). */
const currentIsNewer = (current: string | null, incoming: string | null) => Boolean(current && incoming && Date.parse(current) > Date.parse(incoming));

/**
 * What an import of `incoming` into `here` leaves, and what its preview says, given the options.
 * `relations` (relationsOf) names where documents refer to one another.
 */
export const expectImport = (here: Documents, incoming: Documents, relations: RelationMap, options: ImportOptions = {}): Expected => {
  const types = new Set(options.contentTypes ?? [...new Set([...incoming.values()].map((v) => v.uid))]);
  const policyOf = (key: string, uid: string): Policy => options.documents?.[key] ?? options.policies?.[uid] ?? 'keep';

  // Identity: with a match attribute, the incoming document takes the documentId here of the
  // document with the same value.
  const matched = new Map<string, string>();
  for (const [uid, attribute] of Object.entries(options.match ?? {})) {
    const byValue = new Map<string, string>();
    for (const v of here.values()) if (v.uid === uid && v.fields[attribute] !== null) byValue.set(canonical(v.fields[attribute]), v.documentId);
    for (const v of incoming.values()) {
      if (v.uid !== uid || v.fields[attribute] === null) continue;
      const hereId = byValue.get(canonical(v.fields[attribute]));
      if (hereId && hereId !== v.documentId) matched.set(`${uid}|${v.documentId}`, hereId);
    }
  }
  const identity = (uid: string, documentId: string) => matched.get(`${uid}|${documentId}`) ?? documentId;

  // The incoming side under this app's identities (keys and relation targets).
  const exists = new Set<string>();
  for (const v of here.values()) exists.add(`${v.uid}|${v.documentId}`);
  const theirs: Documents = new Map();
  for (const v of incoming.values()) {
    if (!types.has(v.uid)) continue;
    const documentId = identity(v.uid, v.documentId);
    const fields = mapRelations(v.fields, relations[v.uid] ?? [], (target, targetUid) => identity(targetUid, target));
    const mapped = { ...v, documentId, fields };
    theirs.set(keyOf(mapped), mapped);
    exists.add(`${v.uid}|${documentId}`);
  }

  // Dangling: targets in neither side; dropped from what the import writes.
  const dangling = new Map<string, Dangling>();
  const dropDangling = (v: Version) =>
    mapRelations(v.fields, relations[v.uid] ?? [], (target, targetUid, field) => {
      if (exists.has(`${targetUid}|${target}`)) return target;
      const d = { uid: v.uid, documentId: v.documentId, locale: v.locale, field, targetUid, targetDocumentId: target };
      dangling.set(canonical(d), d);
      return null;
    });
  const written = new Map<string, Record<string, unknown>>();
  for (const [key, v] of theirs) written.set(key, dropDangling(v));

  const after: Documents = new Map(here);
  const states = new Map<string, State>();
  const conflicts = new Map<string, string[]>();

  for (const [key, mine] of here) if (types.has(mine.uid) && !theirs.has(key)) states.set(key, 'absent');

  for (const [key, inc] of theirs) {
    const cur = here.get(key);
    const base = options.base?.get(key);
    const take = written.get(key)!;
    const policy = policyOf(key, inc.uid);
    if (!cur) {
      if (options.base && base && same(base.fields, inc.fields)) {
        // Deleted here since the base, not changed in the archive: stays deleted.
        states.set(key, 'unchanged');
        continue;
      }
      states.set(key, 'create');
      if (policy !== 'skip') after.set(key, { ...inc, fields: take });
      continue;
    }
    if (same(cur.fields, inc.fields)) {
      states.set(key, 'unchanged');
      continue;
    }
    const names = [...new Set([...Object.keys(cur.fields), ...Object.keys(inc.fields)])].sort();
    const differing = names.filter((name) => !same(cur.fields[name], inc.fields[name]));
    const incomingWins = policy === 'incoming' || (policy === 'newer' && !currentIsNewer(cur.updatedAt, inc.updatedAt));

    if (!options.base || !base) {
      // Two-way, or a version the base does not have: every differing field is a conflict.
      states.set(key, 'conflict');
      conflicts.set(key, differing);
      if (incomingWins) after.set(key, { ...inc, fields: take });
      continue;
    }

    // Three-way, field by field.
    const archiveOnly = differing.filter((name) => same(cur.fields[name], base.fields[name]));
    const bothSides = differing.filter((name) => !same(cur.fields[name], base.fields[name]) && !same(inc.fields[name], base.fields[name]));
    if (!archiveOnly.length && !bothSides.length) {
      states.set(key, 'unchanged'); // changed here only
      continue;
    }
    states.set(key, bothSides.length ? 'conflict' : 'update');
    if (bothSides.length) conflicts.set(key, bothSides);
    if (policy === 'skip') continue;
    const fields = { ...cur.fields };
    for (const name of archiveOnly) fields[name] = take[name];
    if (incomingWins) for (const name of bothSides) fields[name] = take[name];
    after.set(key, { ...cur, fields });
  }

  const counts: Record<string, Record<State, number>> = {};
  for (const uid of types) counts[uid] = { create: 0, update: 0, unchanged: 0, conflict: 0, absent: 0 };
  for (const [key, state] of states) counts[key.split('|')[0]][state] += 1;

  return { after, states, counts, conflicts, dangling: [...dangling.values()], matched };
};

/** The fields of every version, by key, for a readable toEqual. */
export const contentOf = (documents: Documents, uids?: string[]) =>
  Object.fromEntries(
    [...documents.entries()]
      .filter(([, v]) => !uids || uids.includes(v.uid))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, v]) => [key, v.fields])
  );
