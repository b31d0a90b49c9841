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
