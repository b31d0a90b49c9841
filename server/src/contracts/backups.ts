/**
 * Request and response types of the admin API, shared by the server and the admin panel.
 */

export type BackupKind = 'manual' | 'scheduled' | 'safety';
export type Compression = 'none' | 'fast' | 'best';
export type BackupStatus = 'ok' | 'warning' | 'damaged';

export interface Backup {
  id: string;
  name: string;
  createdAt: string;
  kind: BackupKind;
  /**
   * ok: listed from a readable manifest; warning: complete, but some files the database names
   * could not be read (completed with warnings, see `warnings`); damaged: the manifest cannot be read.
   */
  status: BackupStatus;
  /** Encrypted with a key this app does not have (listed as damaged, importable with its passphrase). */
  locked?: boolean;
  /** Why a backup completed with warnings (e.g. media files missing on disk). */
  warnings?: string[];
  scope: { contentTypes: 'all' | string[]; media: boolean; adminUsers: boolean; config: boolean };
  /** Bytes of the archive file. */
  size: number;
  compression: Compression;
  encrypted: boolean;
  verifiedAt: string | null;
  /** Marked by a user: retention never deletes it. */
  keep: boolean;
  /** The last restore drill of this backup. */
  drill: DrillState | null;
  /** Its off-site copy (null: none asked, e.g. a safety backup or off-site not enabled). */
  offsite: OffsiteState | null;
  /** Rows per content type (main table). */
  counts: Record<string, number>;
  rows: number;
  media: { files: number; bytes: number };
  database: string;
  strapiVersion: string;
  pluginVersion: string;
  error?: string;
}

export interface OffsiteState {
  /** pending: the copy started and has not finished (a crash stopped it when no backup job runs). */
  status: 'copied' | 'failed' | 'pending';
  at: string;
  /** `s3://bucket/prefix` (and the endpoint), or the folder: never a credential. */
  location: string;
  /** Why the copy failed. */
  error?: string;
  /** SHA-256 of the copied archive, checked when it is fetched back. */
  sha256?: string;
  seconds?: number;
  /** A deduplicated copy: the bytes sent, and those the backend had already (earlier backups' same entries). */
  deduplicated?: { sentBytes: number; reusedBytes: number };
}

/**
 * GET /offsite: what the off-site backend holds, read from it alone (a backup copied by another
 * instance on the same bucket, or left there after this disk was lost); `local`: also here.
 */
export interface OffsiteCatalogue {
  enabled: boolean;
  backend?: 'local' | 's3';
  location?: string | null;
  backups: Array<{ id: string; size: number; modifiedAt: string; local: boolean }>;
  bytes: number;
  /** Why the backend could not be listed. */
  error?: string;
}

export interface DrillState {
  status: 'passed' | 'failed';
  at: string;
  message: string;
}

/**
 * import-preview: validate an archive and compare it with this app; import: apply a preview;
 * fetch: bring a backup back from the off-site backend into the local storage; check: the off-site
 * repository check (every index, every object looked for, a sample read whole).
 */
export type JobType = 'backup' | 'verify' | 'restore' | 'drill' | 'import-preview' | 'import' | 'fetch' | 'check';
/**
 * skipped: a scheduled occurrence that another instance ran; warning: completed with warnings
 * (a backup that could not read every media file); interrupted: the process running it stopped
 * (a crash, kill -9) before it finished, found at the next start.
 */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'warning' | 'failed' | 'interrupted' | 'skipped';
/** What started a job: the admin panel or API, the schedule, the CLI. */
export type JobTrigger = 'manual' | 'scheduled' | 'cli';

export interface Job {
  id: string;
  type: JobType;
  trigger: JobTrigger;
  status: JobStatus;
  phase: string;
  progress: { done: number; total: number; bytes: number };
  backupId: string | null;
  /** The process that ran it (host:pid:suffix). */
  instance: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  /** Archive bytes, rows, and compression ratio (archive bytes / bytes before compression). */
  measures: { bytes: number | null; rows: number | null; ratio: number | null };
  result: Record<string, unknown> | null;
  error: { message: string; code: string } | null;
  /** The most recent log lines of the job. */
  log: string[];
  /** What the user must know before the job ends (e.g. that admin sessions will end). */
  warnings: string[];
}

export interface CreateBackupBody {
  name?: string;
  contentTypes?: string[];
  media?: boolean;
  adminUsers?: boolean;
  config?: boolean;
  compression?: Compression;
  encrypt?: boolean;
}

export interface RestoreBody {
  contentTypes?: string[];
  media?: boolean;
  /** Admin users, roles and API tokens (encrypted backups only); off unless asked. */
  adminUsers?: boolean;
  /** Strapi's config store and webhooks (encrypted backups only); off unless asked. */
  config?: boolean;
  skipIncompatible?: boolean;
  confirm: true;
}

export interface StorageInfo {
  type: string;
  location: string;
  used: number;
  free: number;
  total: number;
  backups: number;
}

export interface PurgeBody {
  dryRun?: boolean;
  /** A dry run also reads the off-site storage (a real purge always collects there). */
  offsite?: boolean;
}

export interface PurgeEntry {
  id: string;
  name: string;
  createdAt: string;
  kind: BackupKind;
  size: number;
  /** Why it stays (e.g. "newest of 2026-11-27", "marked keep"), or why it goes. */
  reasons: string[];
}

export interface PurgeResult {
  dryRun: boolean;
  kept: PurgeEntry[];
  removed: PurgeEntry[];
  /** Unfinished temporary files removed (interrupted backups). */
  temporary: string[];
  freedBytes: number;
  /**
   * The second phase off-site (deduplicated copies): the objects no backup uses any more, older
   * than an hour, deleted (or, with dryRun, that would be) and the bytes stored off-site before
   * and after. Null when copies are off or, in a dry run, when not asked for; `skipped` says why
   * nothing was collected (a job running: the next backup collects).
   */
  offsite?: { objects: number; bytes: number; storedBeforeBytes: number; storedAfterBytes: number; skipped?: string; error?: string } | null;
}

/** A content type a backup or restore can select (GET /pacta-backup/content-types). */
export interface SelectableContentType {
  uid: string;
  kind: 'collectionType' | 'singleType';
  displayName: string;
  table: string;
  rows: number;
}
