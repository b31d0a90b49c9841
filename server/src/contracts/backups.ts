/**
 * Request and response types of the admin API, shared by the server and the admin panel.
 */

export type BackupKind = 'manual' | 'scheduled' | 'safety';
export type Compression = 'none' | 'fast' | 'best';

export interface Backup {
  id: string;
  name: string;
  createdAt: string;
  kind: BackupKind;
  /** ok: listed from a readable manifest; damaged: the manifest cannot be read. */
  status: 'ok' | 'damaged';
  scope: { contentTypes: 'all' | string[]; media: boolean; adminUsers: boolean; config: boolean };
  /** Bytes of the archive file. */
  size: number;
  compression: Compression;
  encrypted: boolean;
  verifiedAt: string | null;
  /** Rows per content type (main table). */
  counts: Record<string, number>;
  rows: number;
  media: { files: number; bytes: number };
  database: string;
  strapiVersion: string;
  pluginVersion: string;
  error?: string;
}

export type JobType = 'backup' | 'verify' | 'restore';
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface Job {
  id: string;
  type: JobType;
  status: JobStatus;
  phase: string;
  progress: { done: number; total: number; bytes: number };
  backupId: string | null;
  startedAt: string;
  finishedAt: string | null;
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
