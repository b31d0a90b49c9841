import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

import type { Knex } from 'knex';

import type { DanglingRelation, ImportPolicy, ImportReportType, ResolvedConflict } from '../../contracts/imports';
import { EngineError } from '../errors';
import { crashPoint } from '../faults';
import { FileSwap } from '../journal';
import { localFilesOf } from '../media';
import type { CommitMarker } from '../restore';
import { fromCanonical, type Dialect } from '../values';
import { resolve } from './compare';
import { digestOf } from './fields';
import type { DocumentReader } from './reader';
import type { PreviewRow, PreviewStore } from './store';
import { parseVersionKey, type ContentModel, type FieldValue } from './types';
import { createWriter, staleError } from './writer';

/**
 * Applies a preview: every decision in one transaction, files journaled with it (see
 * journal.ts: staged, swapped just before the commit, rolled forward or back after a crash).
 * The versions the preview saw here are read again first, in the transaction: if any changed,
 * nothing is written (STALE_PREVIEW).
 */

/** A file the archive brings: its `files` row (canonical) and, by path, the SHA-256 of each file on disk. */
export interface ArchiveFile {
  row: Record<string, unknown>;
  paths: Array<{ path: string; sha256: string }>;
}

export interface ApplyInput {
  knex: Knex;
  dialect: Dialect;
  model: ContentModel;
  columns: Map<string, Map<string, string>>;
  store: PreviewStore;
  types: string[];
  /** Reads this app's versions inside the given transaction. */
  readerFor: (db: Knex.Transaction) => DocumentReader;
  policies: Record<string, ImportPolicy>;
  documents: Record<string, ImportPolicy>;
  fields: Record<string, Record<string, 'current' | 'incoming'>>;
  dangling: 'drop' | 'stop';
  mirror: boolean;
  media: {
    publicDir: string;
    /** SHA-256 → the id of a `files` row here whose file has that content. */
    here: Map<string, number>;
    archive: Map<string, ArchiveFile>;
    /** The bytes of an archive's media file, by SHA-256. */
    open: (sha256: string) => NodeJS.ReadableStream;
  };
  marker?: CommitMarker;
  onProgress?: (phase: string, done: number, total: number) => void;
  log?: (event: Record<string, unknown>) => void;
}

export interface ApplyOutcome {
  types: ImportReportType[];
  conflicts: ResolvedConflict[];
  dangling: DanglingRelation[];
  media: { reused: number; added: number };
  remapped: number;
}

const MAX_LISTED = 5000;

const WRITE_STATES = ['create', 'update', 'conflict'] as const;

const exists = (file: string) => fs.promises.stat(file).then(() => true, () => false);

/** uploads/a/b.png → uploads/a/b_1a2b3c4d.png */
const suffixed = (file: string, sha256: string) => {
  const ext = path.posix.extname(file);
  return `${file.slice(0, file.length - ext.length)}_${sha256.slice(0, 8)}${ext}`;
};

const newDocumentId = () => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(24)].map((b) => alphabet[b % alphabet.length]).join('');
};

/**
 * Reads again, here, every version the preview decided to touch (created, updated, in conflict,
 * deleted with mirror) and compares it with the digest the preview saw; throws STALE_PREVIEW at
 * the first that changed (or appeared, for one to create).
 */
export const assertUnchanged = async ({ store, here, model, mirror }: { store: PreviewStore; here: DocumentReader; model: ContentModel; mirror: boolean }) => {
  const states = [...WRITE_STATES, ...(mirror ? (['absent'] as const) : [])];
  for (const batch of store.previewRows(states)) {
    for (const uid of new Set(batch.map((r) => r.uid))) {
      const rows = batch.filter((r) => r.uid === uid);
      const current = new Map((await here.byDocumentIds(uid, rows.map((r) => r.hereDocumentId ?? r.documentId))).map((v) => [`${v.documentId}|${v.locale ?? ''}|${v.published}`, v]));
      for (const row of rows) {
        const cur = current.get(`${row.hereDocumentId ?? row.documentId}|${row.locale ?? ''}|${parseVersionKey(row.key).published}`);
        if ((cur ? digestOf(cur.fields) : null) !== row.currentDigest) {
          throw staleError(`${model.get(uid)?.displayName ?? uid} "${row.label || row.documentId}" (${row.locale ?? 'no locale'}, ${row.version})`);
        }
      }
    }
  }
};

export const runImportApply = async (input: ApplyInput): Promise<ApplyOutcome> => {
  const { knex, dialect, model, columns, store, types, media, marker } = input;
  const log = input.log ?? (() => undefined);
  const idMap = store.idMap();
  const hereIdOf = (uid: string, documentId: string) => idMap.get(uid)?.get(documentId) ?? documentId;
  const policyOf = (row: PreviewRow): ImportPolicy => input.documents[row.key] ?? input.policies[row.uid] ?? 'keep';
  const states = [...WRITE_STATES, ...(input.mirror ? (['absent'] as const) : [])];

  const counts = new Map<string, ImportReportType>(
    types.map((uid) => [uid, { uid, displayName: model.get(uid)?.displayName ?? uid, created: 0, updated: 0, unchanged: 0, skipped: 0, deleted: 0, conflicts: 0 }])
  );
  for (const [uid, byState] of store.counts()) {
    const entry = counts.get(uid);
    if (entry) entry.unchanged = byState.unchanged;
  }
  const conflicts: ResolvedConflict[] = [];
  const dangling: DanglingRelation[] = [];

  // What the import writes: the versions it creates or changes, decided once.
  interface Decision {
    row: PreviewRow;
    action: 'create' | 'update' | 'delete' | 'skip' | 'keep';
    write: Record<string, FieldValue> | null;
    meta: { createdAt: string | null; updatedAt: string | null; publishedAt: string | null };
    sourceId: number | null;
    /** All differing fields taken from the archive: the archive's updatedAt is kept. */
    whole: boolean;
  }
  const decide = (row: PreviewRow): Decision => {
    const policy = policyOf(row);
    const incoming = row.state === 'absent' ? null : store.doc(row.key);
    const meta = incoming?.meta ?? { createdAt: null, updatedAt: null, publishedAt: null };
    const base = { row, meta, sourceId: incoming?.sourceId ?? null, whole: false };
    if (row.state === 'absent') return { ...base, action: 'delete', write: null };
    if (policy === 'skip') {
      // A conflict left alone is reported as settled that way.
      if (row.state === 'conflict' && conflicts.length < MAX_LISTED) {
        conflicts.push({ key: row.key, uid: row.uid, documentId: row.documentId, locale: row.locale, version: row.version, policy, fields: {} });
      }
      return { ...base, action: 'skip', write: null };
    }
    if (row.state === 'create') return { ...base, action: 'create', write: incoming!.fields, whole: true };
    const resolution = resolve(
      { state: row.state === 'conflict' ? 'conflict' : 'update', fields: row.fields, conflicts: row.conflicts, diff: [], fromArchive: row.take },
      incoming!.fields,
      policy,
      input.fields[row.key] ?? {},
      { current: row.curUpdated, incoming: row.incUpdated }
    );
    if (row.state === 'conflict' && conflicts.length < MAX_LISTED) {
      conflicts.push({ key: row.key, uid: row.uid, documentId: row.documentId, locale: row.locale, version: row.version, policy, fields: resolution.taken });
    }
    if (!resolution.write) return { ...base, action: 'keep', write: null };
    const whole = row.fields.every((f) => f in resolution.write!);
    return { ...base, action: 'update', write: resolution.write, whole };
  };

  // Media the written versions use that are not here: staged from the archive, journaled.
  const needed = new Set<string>();
  const collect = (value: unknown) => {
    if (typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)) needed.add(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (value && typeof value === 'object') Object.values(value).forEach(collect);
  };
  for (const batch of store.previewRows([...WRITE_STATES])) {
    for (const row of batch) {
      const decision = decide(row);
      if (decision.write) collect(decision.write);
    }
  }
  conflicts.length = 0;
  const adding = [...needed].filter((sha) => !media.here.has(sha) && media.archive.has(sha));
  const swap = adding.length ? await FileSwap.create(media.publicDir) : null;
  const newFiles: Array<{ sha256: string; row: Record<string, unknown> }> = [];
  try {
    if (swap) {
      const changes: Array<{ target: string; staged: string; existed: boolean }> = [];
      let done = 0;
      for (const sha of adding) {
        const file = media.archive.get(sha)!;
        const row = { ...file.row };
        let url = String(row.url ?? '');
        let formats = row.formats as Record<string, { url?: string }> | null;
        for (const { path: from, sha256 } of file.paths) {
          const staged = `${sha256}`;
          const stagedPath = path.join(swap.staging, staged);
          if (!(await exists(stagedPath))) await pipeline(media.open(sha256), fs.createWriteStream(stagedPath, { mode: 0o600 }));
          let target = from;
          // Another file here already has this name: the import's copy gets its own.
          if (await exists(path.join(media.publicDir, target))) {
            target = suffixed(from, sha256);
            url = url === `/${from}` ? `/${target}` : url;
            if (formats && typeof formats === 'object') {
              formats = Object.fromEntries(Object.entries(formats).map(([k, v]) => [k, v && v.url === `/${from}` ? { ...v, url: `/${target}` } : v]));
            }
          }
          changes.push({ target, staged, existed: false });
        }
        row.url = url;
        row.formats = formats;
        newFiles.push({ sha256: sha, row });
        input.onProgress?.('media', ++done, adding.length);
      }
      await swap.plan(changes);
      crashPoint('import:journal');
    }

    const total = types.reduce((n, uid) => {
      const c = store.counts().get(uid);
      return n + (c ? c.create + c.update + c.conflict + (input.mirror ? c.absent : 0) : 0);
    }, 0);
    let remapped = 0;
    let reused = 0;

    await knex.transaction(async (trx) => {
      const here = input.readerFor(trx);

      // 1. Nothing the import touches changed since the preview.
      await assertUnchanged({ store, here, model, mirror: input.mirror });

      // 2. Files the archive brings, then the media map complete.
      const fileIds = new Map(media.here);
      for (const { sha256, row } of newFiles) {
        const types = columns.get('files') ?? new Map<string, string>();
        const out: Record<string, unknown> = {};
        for (const [column, value] of Object.entries(row)) {
          if (column === 'id' || !types.has(column) || column === 'created_by_id' || column === 'updated_by_id') continue;
          out[column] = fromCanonical(value, types.get(column)!, dialect);
        }
        if (types.has('document_id')) {
          const taken = out.document_id && (await trx('files').where('document_id', out.document_id as string).first('id'));
          if (!out.document_id || taken) out.document_id = newDocumentId();
        }
        if (types.has('folder_path')) out.folder_path = '/';
        const [inserted] = dialect === 'mysql' ? await trx('files').insert(out) : ((await trx('files').insert(out).returning('id')) as Array<{ id: number } | number>);
        fileIds.set(sha256, Number(typeof inserted === 'object' ? (inserted as { id: number }).id : inserted));
      }
      const usedHere = new Set<string>();
      const writer = createWriter({
        trx,
        dialect,
        model,
        columns,
        hereIdOf,
        fileOf: (sha) => {
          const id = fileIds.get(sha);
          if (id === undefined) return null;
          if (media.here.has(sha)) usedHere.add(sha);
          return id;
        },
        onDangling: (info) => {
          if (input.dangling === 'stop') {
            throw new EngineError(
              'DANGLING_RELATION',
              `${info.uid} ${info.documentId} (${info.locale ?? 'no locale'}) ${info.field} points at ${info.target} ${info.targetDocumentId}, which is neither in the archive nor here`,
              info
            );
          }
          if (dangling.length < MAX_LISTED) {
            dangling.push({ uid: info.uid, documentId: info.documentId, locale: info.locale, field: info.field, targetUid: info.target, targetDocumentId: info.targetDocumentId });
          }
        },
      });

      // 3. Main rows (new versions get new ids), then their links and components.
      let done = 0;
      const pending: Array<{ decision: Decision; id: number; replace: boolean }> = [];
      for (const batch of store.previewRows(states)) {
        const byType = new Map<string, PreviewRow[]>();
        for (const row of batch) byType.set(row.uid, [...(byType.get(row.uid) ?? []), row]);
        for (const [uid, rows] of byType) {
          const ids = new Map(
            (await here.keysOf(uid, rows.map((r) => r.hereDocumentId ?? r.documentId))).map((k) => [`${k.documentId}|${k.locale ?? ''}|${k.published}`, k.id])
          );
          const entry = counts.get(uid)!;
          for (const row of rows) {
            const decision = decide(row);
            const key = parseVersionKey(row.key);
            const target = { uid, documentId: row.hereDocumentId ?? row.documentId, locale: row.locale, published: key.published };
            const id = ids.get(`${target.documentId}|${target.locale ?? ''}|${target.published}`);
            if (row.state === 'conflict') entry.conflicts += 1;
            if (decision.action === 'skip') entry.skipped += 1;
            else if (decision.action === 'keep') entry.unchanged += 1;
            else if (decision.action === 'delete' && id !== undefined) {
              await writer.deleteVersion(target, id);
              entry.deleted += 1;
            } else if (decision.action === 'create') {
              const newId = await writer.createRow(target, decision.write!, decision.meta);
              if (decision.sourceId !== null && decision.sourceId !== newId) remapped += 1;
              pending.push({ decision: { ...decision, row: { ...row } }, id: newId, replace: false });
              entry.created += 1;
            } else if (decision.action === 'update' && id !== undefined) {
              await writer.updateRow(target, id, decision.write!, decision.whole ? decision.meta.updatedAt : null);
              pending.push({ decision, id, replace: true });
              entry.updated += 1;
            }
            log({ event: 'version', key: row.key, state: row.state, action: decision.action });
            input.onProgress?.('rows', ++done, total * 2);
          }
        }
      }
      for (const { decision, id, replace } of pending) {
        const key = parseVersionKey(decision.row.key);
        const target = { uid: decision.row.uid, documentId: decision.row.hereDocumentId ?? decision.row.documentId, locale: decision.row.locale, published: key.published };
        // Reported under the archive's documentId, as the preview lists it.
        await writer.complete(target, id, decision.write!, replace, { ...target, documentId: decision.row.documentId });
        input.onProgress?.('rows', ++done, total * 2);
      }
      reused = usedHere.size;

      // 4. Files swapped in just before the commit; the marker row says whether it committed.
      if (swap) {
        await marker?.mark(trx, swap.id);
        crashPoint('import:rows');
        const half = Math.ceil(swap.changes.length / 2);
        await swap.forward((n) => {
          if (n === half) crashPoint('import:swap');
        });
      } else {
        crashPoint('import:rows');
      }
    });
    crashPoint('import:committed');
    await swap?.settle(marker, { committed: true });
    return { types: [...counts.values()], conflicts, dangling, media: { reused, added: newFiles.length }, remapped };
  } catch (error) {
    await swap?.settle(marker);
    throw error;
  }
};

export { localFilesOf };
