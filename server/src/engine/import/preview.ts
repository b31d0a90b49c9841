import type { DanglingRelation, DocumentState, PreviewType } from '../../contracts/imports';
import { compareVersions, same } from './compare';
import { digestOf, labelOf, mapReferences } from './fields';
import type { DocumentReader } from './reader';
import type { PreviewRow, PreviewStore } from './store';
import { stableJson, versionKey, type ContentModel, type DocumentVersion } from './types';

/**
 * The preview: every version of the archive's documents against this app's, page by page.
 * Versions are matched by documentId + locale + draft/published (or by a unique attribute,
 * mapped to this app's documentId first); relations are compared by the target's documentId
 * in this app, media by SHA-256. Each version's decision and the digest of what it saw here
 * are stored; the apply reads them back and refuses when what it would touch changed since.
 */

export interface PreviewInput {
  model: ContentModel;
  /** The content types imported. */
  types: string[];
  store: PreviewStore;
  here: DocumentReader;
  /** The common base's documents (three-way), or null (two-way). */
  base: DocumentReader | null;
  /** uid → attribute: documents matched by it instead of documentId. */
  match: Record<string, string>;
  /** SHA-256 of every file here (media reused), and those the archive brings. */
  media: { here: Set<string>; archive: Set<string> };
  onProgress?: (done: number, total: number) => void;
}

export interface PreviewOutcome {
  types: PreviewType[];
  /** Listed up to MAX_DANGLING_LISTED; counted in full. */
  dangling: DanglingRelation[];
  danglingCount: number;
  media: { reused: number; added: number; missing: number };
}

const MAX_DANGLING_LISTED = 1000;

const sideKey = (documentId: string, locale: string | null, published: boolean) => `${documentId}|${locale ?? ''}|${published ? 1 : 0}`;

export const runPreview = async (input: PreviewInput): Promise<PreviewOutcome> => {
  const { model, types, store, here, base, match } = input;

  // 1. Documents matched by a unique attribute: the archive's documentId → this app's.
  for (const uid of types) {
    const attribute = match[uid];
    if (!attribute) continue;
    const column = model.get(uid)!.attributes.find((a) => a.name === attribute)?.column;
    if (!column) continue;
    const incoming = store.matchValues(uid);
    const rows = await here.rowsWhere(uid, column, incoming.map((i) => i.value));
    const byValue = new Map(rows.map((r) => [String(r[column]), String(r.document_id)]));
    store.setIdMap(
      uid,
      incoming.filter((i) => byValue.has(i.value) && byValue.get(i.value) !== i.documentId).map((i) => [i.documentId, byValue.get(i.value)!] as [string, string])
    );
  }
  const idMap = store.idMap();
  const hereIdOf = (uid: string, documentId: string) => idMap.get(uid)?.get(documentId) ?? documentId;

  const dangling: DanglingRelation[] = [];
  let danglingCount = 0;
  const mediaSeen = new Set<string>();
  const result: PreviewType[] = [];
  const total = types.reduce((n, uid) => n + store.countDocs(uid), 0);
  let done = 0;

  for (const uid of types) {
    const desc = model.get(uid)!;
    const seen = new Set<string>();
    for (const page of store.docPages(uid)) {
      const hereIds = [...new Set(page.map((v) => hereIdOf(uid, v.documentId)))];
      const current = new Map((await here.byDocumentIds(uid, hereIds)).map((v) => [sideKey(v.documentId, v.locale, v.published), v]));
      const previous = base ? new Map((await base.byDocumentIds(uid, hereIds)).map((v) => [sideKey(v.documentId, v.locale, v.published), v])) : null;

      // Relation targets: in the archive, or here (by this app's documentId).
      const targets = new Map<string, Set<string>>();
      const translated = page.map((v) => ({
        version: v,
        fields: mapReferences(model, desc, v.fields, {
          relation: (target, documentId) => {
            const mapped = hereIdOf(target, documentId);
            if (!targets.has(target)) targets.set(target, new Set());
            targets.get(target)!.add(documentId);
            return mapped;
          },
          media: (sha) => {
            mediaSeen.add(sha);
            return sha;
          },
        }),
      }));
      const known = new Map<string, Set<string>>();
      for (const [target, ids] of targets) {
        const list = [...ids];
        const inArchive = types.includes(target) ? store.hasDocuments(target, list) : new Set<string>();
        const hereKeys = await here.keysOf(target, list.map((id) => hereIdOf(target, id)));
        const hereIdsFound = new Set(hereKeys.map((k) => k.documentId));
        known.set(target, new Set(list.filter((id) => inArchive.has(id) || hereIdsFound.has(hereIdOf(target, id)))));
      }

      const rows: PreviewRow[] = [];
      for (const { version, fields } of translated) {
        const hereId = hereIdOf(uid, version.documentId);
        const key = sideKey(hereId, version.locale, version.published);
        seen.add(key);
        mapReferences(model, desc, version.fields, {
          relation: (target, documentId, path) => {
            if (!known.get(target)?.has(documentId)) {
              danglingCount += 1;
              if (dangling.length < MAX_DANGLING_LISTED) {
                dangling.push({ uid, documentId: version.documentId, locale: version.locale, field: path, targetUid: target, targetDocumentId: documentId });
              }
            }
            return documentId;
          },
        });
        const cur = current.get(key);
        const was = previous?.get(key) ?? null;
        let state: DocumentState;
        let changed: string[] = [];
        let conflicts: string[] = [];
        let take: string[] = [];
        if (!cur) {
          // Deleted here since the common base, and not changed in the archive: stays deleted.
          state = was && same(was.fields, fields) ? 'unchanged' : 'create';
        } else if (stableJson(cur.fields) === stableJson(fields)) {
          // The common case, decided on one text per side.
          state = 'unchanged';
        } else {
          const comparison = compareVersions(desc, cur.fields, fields, was?.fields ?? null);
          state = comparison.state;
          changed = comparison.fields;
          conflicts = comparison.conflicts;
          take = comparison.fromArchive;
        }
        rows.push({
          key: versionKey(version),
          uid,
          documentId: version.documentId,
          hereDocumentId: hereId !== version.documentId ? hereId : null,
          locale: version.locale,
          version: version.published ? 'published' : 'draft',
          state,
          label: labelOf(desc, version.fields),
          fields: changed,
          conflicts,
          take,
          currentDigest: cur ? digestOf(cur.fields) : null,
          curUpdated: cur?.meta.updatedAt ?? null,
          incUpdated: version.meta.updatedAt,
        });
      }
      store.putPreview(rows);
      done += page.length;
      input.onProgress?.(done, total);
    }

    // Versions here that the archive does not have.
    const absent: PreviewRow[] = [];
    for await (const rows of here.rows(uid)) {
      const unseen = rows.filter((row) => {
        const k = here.keyOfRow(uid, row);
        return !seen.has(sideKey(k.documentId, k.locale, k.published));
      });
      if (!unseen.length) continue;
      for (const v of await here.versionsOf(uid, unseen)) {
        absent.push({
          key: versionKey(v),
          uid,
          documentId: v.documentId,
          hereDocumentId: null,
          locale: v.locale,
          version: v.published ? 'published' : 'draft',
          state: 'absent',
          label: labelOf(desc, v.fields),
          fields: [],
          conflicts: [],
          take: [],
          currentDigest: digestOf(v.fields),
          curUpdated: v.meta.updatedAt,
          incUpdated: null,
        });
      }
      if (absent.length >= 500) store.putPreview(absent.splice(0));
    }
    store.putPreview(absent);
    const counts = store.counts().get(uid) ?? { create: 0, update: 0, unchanged: 0, conflict: 0, absent: 0 };
    result.push({ uid, displayName: desc.displayName, matchBy: match[uid] ?? null, counts });
  }

  let reused = 0;
  let added = 0;
  let missing = 0;
  for (const sha of mediaSeen) {
    if (input.media.here.has(sha)) reused += 1;
    else if (input.media.archive.has(sha)) added += 1;
    else missing += 1;
  }
  return { types: result, dangling, danglingCount, media: { reused, added, missing } };
};

export type { DocumentVersion };
