import type { Writable } from 'node:stream';

/**
 * The shapes the CLI reads from the booted app's services. They mirror server/src/contracts
 * (the CLI is compiled on its own, with rootDir src/cli, so it cannot import them); the unit
 * test checks at compile time that they stay assignable from the contracts.
 */

export type Compression = 'none' | 'fast' | 'best';

export interface CliBackup {
  id: string;
  name: string;
  createdAt: string;
  kind: string;
  status: 'ok' | 'warning' | 'damaged';
  /** Why it completed with warnings (media files missing on disk). */
  warnings?: string[];
  size: number;
  compression: Compression;
  encrypted: boolean;
  verifiedAt: string | null;
  rows: number;
  media: { files: number; bytes: number };
  /** Its off-site copy: copied, or failed (null: none). */
  offsite?: CliOffsiteState | null;
  error?: string;
}

export interface CliJob {
  id: string;
  type: string;
  status: 'queued' | 'running' | 'succeeded' | 'warning' | 'failed' | 'interrupted' | 'skipped';
  phase: string;
  progress: { done: number; total: number; bytes: number };
  backupId: string | null;
  finishedAt: string | null;
  result: Record<string, unknown> | null;
  error: { message: string; code: string } | null;
  /** What the user must know before the job ends (e.g. that admin sessions will end). */
  warnings?: string[];
}

export interface CliBackupBody {
  name?: string;
  contentTypes?: string[];
  media?: boolean;
  adminUsers?: boolean;
  config?: boolean;
  compression?: Compression;
  encrypt?: boolean;
}

export interface CliRestoreBody {
  contentTypes?: string[];
  media?: boolean;
  adminUsers?: boolean;
  config?: boolean;
  confirm: true;
}

/** The part of the plugin's `backups` and `jobs` services the CLI calls. */
export interface BackupsService {
  list(): Promise<CliBackup[]>;
  startBackup(body: CliBackupBody, options: { trigger: 'cli' }): Promise<CliJob>;
  startVerify(id: string, options: { trigger: 'cli' }): Promise<CliJob>;
  startRestore(id: string, body: CliRestoreBody, options: { trigger: 'cli' }): Promise<CliJob>;
  storage(): { location: string };
  offsiteList(): Promise<CliOffsiteObject[]>;
  fetchOffsite(id: string): Promise<CliBackup>;
  copyOffsite(id: string): Promise<CliOffsiteState | null>;
  startCheck(options: { samplePercent?: number; trigger: 'cli' }): Promise<CliJob>;
  purge(options: { dryRun: boolean; offsite: boolean }): Promise<CliPurge>;
}

/** What a purge deleted (or, dry run, would delete), here and off-site. */
export interface CliPurge {
  dryRun: boolean;
  kept: Array<{ id: string; name: string; size: number; reasons: string[] }>;
  removed: Array<{ id: string; name: string; size: number; reasons: string[] }>;
  temporary: string[];
  freedBytes: number;
  offsite?: { objects: number; bytes: number; storedBeforeBytes: number; storedAfterBytes: number; skipped?: string; error?: string } | null;
}

export interface CliOffsiteState {
  status: 'copied' | 'failed' | 'pending';
  at: string;
  location: string;
  error?: string;
  sha256?: string;
  seconds?: number;
}

/** An archive in the off-site bucket or folder. */
export interface CliOffsiteObject {
  id: string;
  /** Stored as its zip's entries and an index (offsite.deduplicate), or as one archive. */
  deduplicated: boolean;
  size: number;
  modifiedAt: Date;
}

export interface JobsService {
  get(id: string): CliJob | null;
}

/** The part of a loaded Strapi the CLI uses. */
export interface StrapiLike {
  log: { level: string };
  load(): Promise<StrapiLike>;
  destroy(): Promise<void>;
  plugin(name: string): { service(name: string): unknown } | undefined;
}

// Import and export (mirrors server/src/contracts/imports.ts; checked by the unit test).

export type CliImportPolicy = 'keep' | 'incoming' | 'newer' | 'skip';

/** What the command line sets of a preview (the source and the passphrase are added when it runs). */
export interface CliPreviewOptions {
  contentTypes?: string[];
  skipIncompatible?: boolean;
  match?: Record<string, string>;
  mirror?: boolean;
}

export type CliImportSource = { file: string } | { backupId: string };

export interface CliPreviewBody extends CliPreviewOptions {
  source: CliImportSource;
  passphrase?: string;
}

export interface CliApplyBody {
  policies?: Record<string, CliImportPolicy>;
  dangling?: 'drop' | 'stop';
  passphrase?: string;
  confirm: true;
}

export interface CliCheck {
  id: string;
  ok: boolean;
  message: string;
}

export interface CliStateCounts {
  create: number;
  update: number;
  unchanged: number;
  conflict: number;
  absent: number;
}

export interface CliDangling {
  uid: string;
  documentId: string;
  locale: string | null;
  field: string;
  targetUid: string;
  targetDocumentId: string;
}

export interface CliPreview {
  id: string;
  source: { name: string; encrypted: boolean };
  mirror: boolean;
  checks: CliCheck[];
  compatibility: Array<{
    uid: string;
    displayName: string;
    status: 'compatible' | 'different' | 'missing';
    differences: Array<{ attribute: string; kind: 'archive-only' | 'here-only' | 'type'; archiveType?: string; hereType?: string }>;
    skipped: boolean;
  }>;
  mode: 'three-way' | 'two-way';
  modeReason: string;
  base: string | null;
  types: Array<{ uid: string; displayName: string; matchBy: string | null; counts: CliStateCounts }>;
  dangling: CliDangling[];
  media: { reused: number; added: number };
}

export interface CliImportReport {
  previewId: string;
  mode: 'three-way' | 'two-way';
  types: Array<{ uid: string; displayName: string; created: number; updated: number; unchanged: number; skipped: number; deleted: number; conflicts: number }>;
  conflicts: Array<{ key: string; uid: string; documentId: string; locale: string | null; version: 'draft' | 'published'; policy: CliImportPolicy; fields: Record<string, 'current' | 'incoming'> }>;
  dangling: CliDangling[];
  media: { reused: number; added: number };
  remapped: number;
  safetyBackupId: string;
  undo: { contentTypes: string[]; media: boolean; confirm: true };
  durationMs: number;
}

/** The part of the plugin's `imports` service the CLI calls. */
export interface ImportsService {
  startPreview(body: CliPreviewBody, options: { trigger: 'cli' }): Promise<CliJob>;
  getPreview(id: string): Promise<CliPreview>;
  startApply(id: string, body: CliApplyBody, options: { trigger: 'cli' }): Promise<CliJob>;
}

/** The part of the plugin's `exports` service the CLI calls. */
export interface ExportsService {
  open(
    backupId: string,
    options: { format?: 'json' | 'csv'; contentTypes?: string[] }
  ): Promise<{ fileName: string; contentTypes: string[]; write(out: Writable): Promise<{ documents: number; bytes: number }>; close(): Promise<void> }>;
}

/** The part of the plugin's `config` service the CLI reads. */
export interface ConfigService {
  get(): { encryptionKeyEnv: string };
}
