import type { DocumentState, PreviewDocument } from '../../contracts/imports';
import { openSqlite, type ScratchDatabase } from './scratch';
import { versionKey, type DocumentVersion } from './types';

/**
 * A preview's own SQLite file: the archive's documents (as the document model), and the
 * decision the preview made for each version. Pages of documents, a document's diff and the
 * apply all read from here; nothing of the size of the data stays in memory.
 */

export interface PreviewRow {
  key: string;
  uid: string;
  documentId: string;
  hereDocumentId: string | null;
  locale: string | null;
  version: 'draft' | 'published';
  state: DocumentState;
  label: string;
  fields: string[];
  conflicts: string[];
  /** Fields the merge takes from the archive without asking (changed there only). */
  take: string[];
  /** Three-way: the base's values of the fields that differ (for the diff). */
  base?: Record<string, unknown> | null;
  /** Digest of the version here when previewed (null: not here): apply refuses if it changed. */
  currentDigest: string | null;
  curUpdated: string | null;
  incUpdated: string | null;
}

export const openStore = (file: string) => {
  const db: ScratchDatabase = openSqlite(file);
  db.exec(`CREATE TABLE IF NOT EXISTS docs (key TEXT PRIMARY KEY, uid TEXT, document_id TEXT, locale TEXT, published INTEGER, match_value TEXT, body TEXT)`);
  db.exec(`CREATE INDEX IF NOT EXISTS docs_uid_doc ON docs (uid, document_id)`);
  db.exec(`CREATE INDEX IF NOT EXISTS docs_uid_match ON docs (uid, match_value)`);
  db.exec(
    `CREATE TABLE IF NOT EXISTS preview (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, uid TEXT, document_id TEXT, here_document_id TEXT, locale TEXT, version TEXT, state TEXT, label TEXT, fields TEXT, conflicts TEXT, take TEXT, base TEXT, current_digest TEXT, cur_updated TEXT, inc_updated TEXT)`
  );
  db.exec(`CREATE INDEX IF NOT EXISTS preview_uid_state ON preview (uid, state, seq)`);
  db.exec(`CREATE TABLE IF NOT EXISTS idmap (uid TEXT, incoming TEXT, here TEXT, PRIMARY KEY (uid, incoming))`);

  const insertDoc = db.prepare(`INSERT OR REPLACE INTO docs (key, uid, document_id, locale, published, match_value, body) VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const putDocs = db.transaction((versions: Array<DocumentVersion & { matchValue?: string | null; sourceId?: number | null }>) => {
    for (const v of versions) {
      insertDoc.run(versionKey(v), v.uid, v.documentId, v.locale, v.published ? 1 : 0, v.matchValue ?? null, JSON.stringify({ fields: v.fields, meta: v.meta, sourceId: v.sourceId ?? null }));
    }
  });
  const insertPreview = db.prepare(
    `INSERT OR REPLACE INTO preview (key, uid, document_id, here_document_id, locale, version, state, label, fields, conflicts, take, base, current_digest, cur_updated, inc_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
  );
  const putPreview = db.transaction((rows: PreviewRow[]) => {
    for (const r of rows) {
      insertPreview.run(r.key, r.uid, r.documentId, r.hereDocumentId, r.locale, r.version, r.state, r.label, JSON.stringify(r.fields), JSON.stringify(r.conflicts), JSON.stringify(r.take), r.base ? JSON.stringify(r.base) : null, r.currentDigest, r.curUpdated, r.incUpdated);
    }
  });
  const toVersion = (row: { uid: string; document_id: string; locale: string | null; published: number; body: string }): DocumentVersion & { sourceId: number | null } => {
    const body = JSON.parse(row.body) as Pick<DocumentVersion, 'fields' | 'meta'> & { sourceId: number | null };
    return { uid: row.uid, documentId: row.document_id, locale: row.locale, published: row.published === 1, ...body };
  };
  const toPreview = (row: Record<string, unknown>): PreviewRow => ({
    key: String(row.key),
    uid: String(row.uid),
    documentId: String(row.document_id),
    hereDocumentId: (row.here_document_id as string | null) ?? null,
    locale: (row.locale as string | null) ?? null,
    version: row.version as 'draft' | 'published',
    state: row.state as DocumentState,
    label: String(row.label ?? ''),
    fields: JSON.parse(String(row.fields ?? '[]')) as string[],
    conflicts: JSON.parse(String(row.conflicts ?? '[]')) as string[],
    take: JSON.parse(String(row.take ?? '[]')) as string[],
    base: row.base ? (JSON.parse(String(row.base)) as Record<string, unknown>) : null,
    currentDigest: (row.current_digest as string | null) ?? null,
    curUpdated: (row.cur_updated as string | null) ?? null,
    incUpdated: (row.inc_updated as string | null) ?? null,
  });
  const insertId = db.prepare(`INSERT OR REPLACE INTO idmap (uid, incoming, here) VALUES (?, ?, ?)`);

  return {
    db,
    putDocs,
    putPreview,
    close: () => db.close(),

    countDocs(uid: string) {
      return Number((db.prepare(`SELECT COUNT(*) AS n FROM docs WHERE uid = ?`).get(uid) as { n: number }).n);
    },
    /** Versions of a content type in pages (by documentId, so that a document's versions come together). */
    *docPages(uid: string, size = 500): Generator<Array<DocumentVersion & { sourceId: number | null }>> {
      let last = '';
      for (;;) {
        const ids = (db.prepare(`SELECT DISTINCT document_id FROM docs WHERE uid = ? AND document_id > ? ORDER BY document_id LIMIT ?`).all(uid, last, size) as Array<{ document_id: string }>).map((r) => r.document_id);
        if (!ids.length) return;
        last = ids[ids.length - 1];
        yield this.docsOf(uid, ids);
      }
    },
    docsOf(uid: string, documentIds: string[]) {
      const out: Array<DocumentVersion & { sourceId: number | null }> = [];
      for (let i = 0; i < documentIds.length; i += 500) {
        const part = documentIds.slice(i, i + 500);
        const rows = db.prepare(`SELECT * FROM docs WHERE uid = ? AND document_id IN (${part.map(() => '?').join(',')})`).all(uid, ...part) as never[];
        out.push(...rows.map(toVersion));
      }
      return out;
    },
    doc(key: string) {
      const row = db.prepare(`SELECT * FROM docs WHERE key = ?`).get(key) as never;
      return row ? toVersion(row) : null;
    },
    /** Which of these documentIds the archive has (for a relation's target). */
    hasDocuments(uid: string, documentIds: string[]): Set<string> {
      const out = new Set<string>();
      for (let i = 0; i < documentIds.length; i += 500) {
        const part = documentIds.slice(i, i + 500);
        for (const row of db.prepare(`SELECT DISTINCT document_id FROM docs WHERE uid = ? AND document_id IN (${part.map(() => '?').join(',')})`).all(uid, ...part) as Array<{ document_id: string }>) {
          out.add(row.document_id);
        }
      }
      return out;
    },
    matchValues(uid: string): Array<{ documentId: string; value: string }> {
      return (db.prepare(`SELECT DISTINCT document_id, match_value FROM docs WHERE uid = ? AND match_value IS NOT NULL`).all(uid) as Array<{ document_id: string; match_value: string }>).map((r) => ({
        documentId: r.document_id,
        value: r.match_value,
      }));
    },
    setIdMap: db.transaction((uid: string, pairs: Array<[string, string]>) => {
      for (const [incoming, here] of pairs) insertId.run(uid, incoming, here);
    }),
    idMap(): Map<string, Map<string, string>> {
      const out = new Map<string, Map<string, string>>();
      for (const row of db.prepare(`SELECT uid, incoming, here FROM idmap`).all() as Array<{ uid: string; incoming: string; here: string }>) {
        if (!out.has(row.uid)) out.set(row.uid, new Map());
        out.get(row.uid)!.set(row.incoming, row.here);
      }
      return out;
    },

    previewRow(key: string): PreviewRow | null {
      const row = db.prepare(`SELECT * FROM preview WHERE key = ?`).get(key) as Record<string, unknown> | undefined;
      return row ? toPreview(row) : null;
    },
    previewPage(filter: { uid?: string; state?: DocumentState }, page: number, pageSize: number) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.uid) {
        where.push('uid = ?');
        args.push(filter.uid);
      }
      if (filter.state) {
        where.push('state = ?');
        args.push(filter.state);
      }
      const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const total = Number((db.prepare(`SELECT COUNT(*) AS n FROM preview ${clause}`).get(...args) as { n: number }).n);
      const rows = db.prepare(`SELECT * FROM preview ${clause} ORDER BY seq LIMIT ? OFFSET ?`).all(...args, pageSize, (page - 1) * pageSize) as Array<Record<string, unknown>>;
      return { total, rows: rows.map(toPreview) };
    },
    *previewRows(states: DocumentState[], size = 500): Generator<PreviewRow[]> {
      let last = 0;
      for (;;) {
        const rows = db
          .prepare(`SELECT * FROM preview WHERE seq > ? AND state IN (${states.map(() => '?').join(',')}) ORDER BY seq LIMIT ?`)
          .all(last, ...states, size) as Array<Record<string, unknown>>;
        if (!rows.length) return;
        last = Number(rows[rows.length - 1].seq);
        yield rows.map(toPreview);
      }
    },
    counts(): Map<string, Record<DocumentState, number>> {
      const out = new Map<string, Record<DocumentState, number>>();
      for (const row of db.prepare(`SELECT uid, state, COUNT(*) AS n FROM preview GROUP BY uid, state`).all() as Array<{ uid: string; state: DocumentState; n: number }>) {
        if (!out.has(row.uid)) out.set(row.uid, { create: 0, update: 0, unchanged: 0, conflict: 0, absent: 0 });
        out.get(row.uid)![row.state] = Number(row.n);
      }
      return out;
    },
  };
};

export type PreviewStore = ReturnType<typeof openStore>;

export const toPreviewDocument = (row: PreviewRow): PreviewDocument => ({
  key: row.key,
  uid: row.uid,
  documentId: row.documentId,
  hereDocumentId: row.hereDocumentId,
  locale: row.locale,
  version: row.version,
  state: row.state,
  label: row.label,
  fields: row.fields,
  conflicts: row.conflicts,
  updatedAt: { current: row.curUpdated, incoming: row.incUpdated },
});
