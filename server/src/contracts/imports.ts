/**
 * Import with preview, conflicts and merge: request and response types of the admin API,
 * shared by the server, the CLI and the admin panel.
 *
 * Routes (all behind the RBAC action `plugin::pacta-backup.import`):
 *   POST   /imports/uploads                  multipart, field `file`: an archive (or a JSON export)
 *                                            streamed to the staging folder → ImportUpload (201);
 *                                            413 past `import.maxUploadBytes`
 *   DELETE /imports/uploads/:id
 *   POST   /imports/preview                  PreviewBody → 202 Job (type 'import-preview');
 *                                            the job's result is PreviewJobResult
 *   GET    /imports/previews                 → ImportPreview[] (newest first, without documents)
 *   GET    /imports/previews/:id             → ImportPreview
 *   GET    /imports/previews/:id/documents   ?uid=&state=&page=&pageSize= → DocumentPage
 *   GET    /imports/previews/:id/documents/:key → DocumentDiff (key url-encoded)
 *   POST   /imports/previews/:id/apply       ApplyBody → 202 Job (type 'import'); 409 when
 *                                            what the preview saw changed since (`code: STALE_PREVIEW`)
 *                                            or another job runs; the job's result is ImportReport
 *   GET    /imports/previews/:id/log         the import's log, JSON lines (application/x-ndjson)
 * Undo is POST /backups/:safetyBackupId/restore with ImportReport.undo as body (action `restore`).
 */

/**
 * keep / incoming / newer: how a conflict is settled (this app's value, the archive's, the later
 * `updatedAt`'s; a tie goes to the archive); creates and updates without conflict are written.
 * skip: the document version is left alone whatever its state — not created, not updated.
 */
export type ImportPolicy = 'keep' | 'incoming' | 'newer' | 'skip';

/**
 * create: only in the archive; update: here and in the archive, and the import will write the
 * archive's (or a merged) content without asking (three-way: changed in the archive only);
 * unchanged: equal on both sides, or changed here only (three-way); conflict: differs and needs
 * a decision (two-way: any difference; three-way: fields changed on both sides);
 * absent: here only (never deleted unless `mirror`).
 */
export type DocumentState = 'create' | 'update' | 'unchanged' | 'conflict' | 'absent';

export type ImportSource = { backupId: string } | { uploadId: string };

export interface ImportUpload {
  uploadId: string;
  /** The file name the browser sent. */
  name: string;
  size: number;
  createdAt: string;
}

export interface PreviewBody {
  source: ImportSource;
  /** Encrypted archives: never stored, logged or echoed back. */
  passphrase?: string;
  /** Content types to import (default: every content type both sides have). */
  contentTypes?: string[];
  /** Leave out the content types whose schema differs here (otherwise they stop the preview). */
  skipIncompatible?: boolean;
  /** uid → a unique attribute that identifies a document on both sides (e.g. contract `number`). */
  match?: Record<string, string>;
  /** Documents here but not in the archive are deleted by the apply. Off by default. */
  mirror?: boolean;
}

export type CheckId = 'structure' | 'manifest' | 'format' | 'key' | 'checksums' | 'compatibility';

export interface ValidationCheck {
  id: CheckId;
  ok: boolean;
  /** What was checked and what was found, in words (English; the admin panel labels by id). */
  message: string;
}

export interface AttributeDifference {
  attribute: string;
  /** archive-only: the archive has it and this app does not; here-only: the reverse; type: both, of another type. */
  kind: 'archive-only' | 'here-only' | 'type';
  archiveType?: string;
  hereType?: string;
}

export interface CompatibilityEntry {
  uid: string;
  displayName: string;
  /** missing: the content type does not exist here. */
  status: 'compatible' | 'different' | 'missing';
  differences: AttributeDifference[];
  /** Left out of the import (missing here, or different and skipIncompatible). */
  skipped: boolean;
}

export interface StateCounts {
  create: number;
  update: number;
  unchanged: number;
  conflict: number;
  absent: number;
}

export interface PreviewType {
  uid: string;
  displayName: string;
  /** The attribute documents are matched by, when not documentId. */
  matchBy: string | null;
  counts: StateCounts;
}

/** A relation whose target is neither in the archive nor here. */
export interface DanglingRelation {
  uid: string;
  documentId: string;
  locale: string | null;
  /** The attribute path, e.g. `supplier` or `clauses[0].relatedContract`. */
  field: string;
  targetUid: string;
  targetDocumentId: string;
}

export interface ImportPreview {
  id: string;
  createdAt: string;
  source: ImportSource & { name: string; archiveId: string | null; createdAt: string | null; encrypted: boolean };
  mirror: boolean;
  checks: ValidationCheck[];
  compatibility: CompatibilityEntry[];
  mode: 'three-way' | 'two-way';
  /** Why this mode, in words (e.g. "archive and this app both descend from backup X"). */
  modeReason: string;
  /** The common base backup (three-way). */
  base: string | null;
  types: PreviewType[];
  dangling: DanglingRelation[];
  /** Files the archive's documents use: already here (by SHA-256), to be added, or in neither (links dropped). */
  media: { reused: number; added: number; missing: number };
  /** The apply job, once run. */
  appliedBy: string | null;
}

/** The job result of a preview. */
export interface PreviewJobResult {
  previewId: string;
  checks: ValidationCheck[];
}

export type FieldKind = 'scalar' | 'component' | 'dynamiczone' | 'relation' | 'media';

export interface FieldDiff {
  field: string;
  kind: FieldKind;
  current: unknown;
  incoming: unknown;
  /** Three-way: the base's value. */
  base?: unknown;
  /** Which side(s) changed it since the base (three-way), or 'both' in two-way. */
  changed: 'here' | 'archive' | 'both';
  /** Needs a decision; otherwise the merge takes the changed side. */
  conflict: boolean;
}

export interface PreviewDocument {
  /** `${uid}|${documentId}|${locale}|${draft|published}` (locale empty when not localized). */
  key: string;
  uid: string;
  documentId: string;
  /** The documentId here when matched by another attribute. */
  hereDocumentId: string | null;
  locale: string | null;
  version: 'draft' | 'published';
  state: DocumentState;
  /** A readable label (the main field: title, name, …). */
  label: string;
  /** Fields that differ. */
  fields: string[];
  /** Fields needing a decision. */
  conflicts: string[];
  updatedAt: { current: string | null; incoming: string | null };
}

export interface DocumentPage {
  results: PreviewDocument[];
  pagination: { page: number; pageSize: number; total: number; pageCount: number };
}

export interface DocumentDiff extends PreviewDocument {
  diff: FieldDiff[];
  /** Whole content, for a side-by-side view. */
  current: Record<string, unknown> | null;
  incoming: Record<string, unknown> | null;
}

export interface ApplyBody {
  /** uid → default policy for its conflicts (default 'keep'). */
  policies?: Record<string, ImportPolicy>;
  /** document key → policy (overrides the type's). */
  documents?: Record<string, ImportPolicy>;
  /** document key → field → which side (for conflicts; overrides the document's policy for that field). */
  fields?: Record<string, Record<string, 'current' | 'incoming'>>;
  /** Relations to documents neither side has: drop the link and report it (default), or stop. */
  dangling?: 'drop' | 'stop';
  /** Encrypted archives: the passphrase again (the preview never keeps it). */
  passphrase?: string;
  confirm: true;
}

export interface ResolvedConflict {
  key: string;
  uid: string;
  documentId: string;
  locale: string | null;
  version: 'draft' | 'published';
  policy: ImportPolicy;
  /** field → the side taken. */
  fields: Record<string, 'current' | 'incoming'>;
}

export interface ImportReportType {
  uid: string;
  displayName: string;
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  deleted: number;
  conflicts: number;
}

export interface ImportReport {
  previewId: string;
  mode: 'three-way' | 'two-way';
  types: ImportReportType[];
  conflicts: ResolvedConflict[];
  /** Links dropped because their target is in neither side. */
  dangling: DanglingRelation[];
  media: { reused: number; added: number };
  /** Rows that got a new id because theirs is taken here. */
  remapped: number;
  safetyBackupId: string;
  /** The body for POST /backups/:safetyBackupId/restore that undoes the import. */
  undo: { contentTypes: string[]; media: boolean; confirm: true };
  durationMs: number;
}
