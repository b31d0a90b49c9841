import path from 'node:path';

import type { Core } from '@strapi/strapi';

import type { Job, JobTrigger } from '../contracts/backups';
import { runDrill } from '../engine/drill';
import { EngineError } from '../engine/errors';
import { privateTempFolder } from '../engine/snapshot';
import { getService } from '../utils';

export const ALERT_TYPES = ['failed-job', 'interrupted-job', 'backup-warnings', 'stale', 'low-space', 'failed-drill', 'storage-unavailable', 'offsite-failed', 'offsite-damaged'] as const;

export interface Alert {
  type: (typeof ALERT_TYPES)[number];
  severity: 'warning' | 'error';
  message: string;
  at: string;
  jobId?: string;
  backupId?: string;
}

export interface Metrics {
  lastSuccess: { backupId: string | null; at: string } | null;
  /** Successful backup jobs / finished backup jobs of the last 30 days (null: none ran). */
  successRate30d: number | null;
  backups30d: { succeeded: number; failed: number };
  storage: { used: number; free: number; total: number; backups: number };
  /**
   * The off-site storage as the last backup's collection or the last check found it: bytes
   * stored against the archives' bytes (the deduplication ratio is stored / logical); null when
   * copies are off or nothing was measured yet.
   */
  offsite: { at: string; backups: number; objects: number; storedBytes: number; logicalBytes: number; ratio: number | null } | null;
  jobs: Array<{
    id: string;
    type: string;
    trigger: string;
    status: string;
    startedAt: string;
    durationMs: number | null;
    bytes: number | null;
    rows: number | null;
    /** Archive bytes / bytes before compression. */
    compressionRatio: number | null;
    backupId: string | null;
    error: string | null;
  }>;
}

const STALE_AFTER_MS = 26 * 3600 * 1000;
/** Jobs that ended: succeeded, completed with warnings, failed, or stopped by a crash. */
const ENDED: ReadonlyArray<Job['status']> = ['succeeded', 'warning', 'failed', 'interrupted'];
/** Backups that ran to the end and were written (with warnings or without). */
const WRITTEN: ReadonlyArray<Job['status']> = ['succeeded', 'warning'];
const DAY_MS = 24 * 3600 * 1000;

/** Free space under the configured threshold (bytes, or a percentage of the volume). */
export const isLowSpace = (free: number, total: number, threshold: number | string) => {
  if (typeof threshold === 'number') return free < threshold;
  const percent = Number(threshold.replace('%', ''));
  return total > 0 && (free / total) * 100 < percent;
};

/**
 * What an admin watches: active alerts (a failed job, no recent backup, low space, a failed
 * drill), metrics over the job history (also as Prometheus text), and the restore drill.
 */
const createMonitoringService = ({ strapi }: { strapi: Core.Strapi }) => {
  const config = () => getService('config', { strapi }).get();
  const backups = () => getService('backups', { strapi });
  const jobs = () => getService('jobs', { strapi });

  const service = {
    async alerts(now = new Date()): Promise<Alert[]> {
      const alerts: Alert[] = [];
      const current = config();
      const history = await jobs().history({ limit: 200 });
      const lastOf = (type: Job['type']) => history.find((j) => j.type === type && ENDED.includes(j.status));

      const backup = lastOf('backup');
      if (backup?.status === 'failed') {
        alerts.push({
          type: 'failed-job',
          severity: 'error',
          message: `The last backup failed: ${backup.error?.message ?? 'unknown error'}`,
          at: backup.finishedAt ?? backup.startedAt,
          jobId: backup.id,
        });
      }
      if (backup?.status === 'warning') {
        const written = backup.result?.backup as { warnings?: string[] } | undefined;
        alerts.push({
          type: 'backup-warnings',
          severity: 'warning',
          message: `The last backup completed with warnings: ${(written?.warnings ?? []).join('; ') || 'see its log'}`,
          at: backup.finishedAt ?? backup.startedAt,
          jobId: backup.id,
          backupId: backup.backupId ?? undefined,
        });
      }
      // A job a crash stopped (found at the next start): the last of its type, whatever its type.
      for (const type of ['backup', 'restore', 'drill', 'verify', 'check'] as const) {
        const last = lastOf(type);
        if (last?.status !== 'interrupted') continue;
        alerts.push({
          type: 'interrupted-job',
          severity: type === 'backup' || type === 'restore' ? 'error' : 'warning',
          message: `The last ${type} was interrupted (its process stopped during ${last.phase}): ${last.error?.message ?? 'interrupted'}`,
          at: last.finishedAt ?? last.startedAt,
          jobId: last.id,
          backupId: last.backupId ?? undefined,
        });
      }
      const restore = lastOf('restore');
      if (restore?.status === 'failed' && Date.parse(restore.startedAt) > now.getTime() - DAY_MS) {
        alerts.push({
          type: 'failed-job',
          severity: 'warning',
          message: `A restore failed (the data was left as it was): ${restore.error?.message ?? 'unknown error'}`,
          at: restore.finishedAt ?? restore.startedAt,
          jobId: restore.id,
        });
      }

      let list: Awaited<ReturnType<ReturnType<typeof backups>['list']>>;
      let storage: Awaited<ReturnType<ReturnType<typeof backups>['storageInfo']>>;
      try {
        list = await backups().list();
        storage = await backups().storageInfo();
      } catch (error) {
        alerts.push({
          type: 'storage-unavailable',
          severity: 'error',
          message: `The backup storage cannot be read: ${(error as Error).message}`,
          at: now.toISOString(),
        });
        return alerts;
      }
      const good = list.filter((b) => b.status !== 'damaged' && b.kind !== 'safety');
      if (current.enabled) {
        const newest = good[0];
        if (!newest || now.getTime() - Date.parse(newest.createdAt) > STALE_AFTER_MS) {
          alerts.push({
            type: 'stale',
            severity: 'error',
            message: newest ? `No successful backup since ${newest.createdAt} (more than 26 hours)` : 'There is no successful backup yet',
            at: now.toISOString(),
            backupId: newest?.id,
          });
        }
      }

      if (isLowSpace(storage.free, storage.total, current.spaceAlertBelow)) {
        alerts.push({
          type: 'low-space',
          severity: 'warning',
          message: `Low free space for backups in ${storage.location}: ${storage.free} bytes free of ${storage.total} (alert below ${current.spaceAlertBelow})`,
          at: now.toISOString(),
        });
      }

      // Off-site copies on: the newest backup is only here when its copy failed, or never happened
      // (made before copies were enabled, or a crash stopped its copy). Not while a backup job
      // runs: the copy of the backup it has just written may be under way.
      const newest = good[0];
      if (current.offsite.enabled && newest && newest.offsite?.status !== 'copied') {
        const copying = (!newest.offsite || newest.offsite.status === 'pending') && jobs().running()?.type === 'backup';
        if (!copying) {
          alerts.push({
            type: 'offsite-failed',
            severity: 'error',
            message:
              newest.offsite?.status === 'failed'
                ? `The off-site copy of backup ${newest.id} failed: ${newest.offsite.error ?? 'unknown error'}`
                : newest.offsite?.status === 'pending'
                  ? `The off-site copy of backup ${newest.id} was interrupted: the next backup copies it again, or pacta-backup copy ${newest.id} now`
                  : `Backup ${newest.id} has no off-site copy (made before off-site copies were enabled): pacta-backup copy ${newest.id} copies it`,
            at: newest.offsite?.at ?? newest.createdAt,
            backupId: newest.id,
          });
        }
      }

      // The last repository check found damage: the backups named would not come back from off-site.
      const check = lastOf('check');
      if (current.offsite.enabled && check?.status === 'failed') {
        const damaged = check.error?.code === 'CHECKSUM';
        alerts.push({
          type: 'offsite-damaged',
          severity: damaged ? 'error' : 'warning',
          message: damaged ? check.error!.message : `The last off-site check could not read the copies: ${check.error?.message ?? 'unknown error'}`,
          at: check.finishedAt ?? check.startedAt,
          jobId: check.id,
        });
      }

      const drill = lastOf('drill');
      if (drill?.status === 'failed') {
        alerts.push({
          type: 'failed-drill',
          severity: 'error',
          message: `The last restore drill failed: ${drill.error?.message ?? 'unknown error'}`,
          at: drill.finishedAt ?? drill.startedAt,
          jobId: drill.id,
          backupId: drill.backupId ?? undefined,
        });
      }
      return alerts;
    },

    async metrics(now = new Date()): Promise<Metrics> {
      const since = new Date(now.getTime() - 30 * DAY_MS);
      const history = await jobs().history({ since, limit: 1000 });
      const finishedBackups = history.filter((j) => j.type === 'backup' && ENDED.includes(j.status));
      const succeeded = finishedBackups.filter((j) => WRITTEN.includes(j.status)).length;
      const lastSuccess = (await jobs().history({ type: 'backup', limit: 200 })).find((j) => WRITTEN.includes(j.status));
      const storage = await backups().storageInfo();
      const measured = config().offsite.enabled
        ? (await jobs().history({ limit: 200 })).find((j) => (j.type === 'backup' || j.type === 'check') && j.result?.offsiteRepository)?.result?.offsiteRepository
        : undefined;
      const figures = measured as Omit<NonNullable<Metrics['offsite']>, 'ratio'> | undefined;
      return {
        lastSuccess: lastSuccess ? { backupId: lastSuccess.backupId, at: lastSuccess.finishedAt ?? lastSuccess.startedAt } : null,
        successRate30d: finishedBackups.length ? Number((succeeded / finishedBackups.length).toFixed(4)) : null,
        backups30d: { succeeded, failed: finishedBackups.length - succeeded },
        storage: { used: storage.used, free: storage.free, total: storage.total, backups: storage.backups },
        offsite: figures
          ? {
              at: figures.at,
              backups: figures.backups,
              objects: figures.objects,
              storedBytes: figures.storedBytes,
              logicalBytes: figures.logicalBytes,
              ratio: figures.logicalBytes ? Number((figures.storedBytes / figures.logicalBytes).toFixed(4)) : null,
            }
          : null,
        jobs: history.map((j) => ({
          id: j.id,
          type: j.type,
          trigger: j.trigger,
          status: j.status,
          startedAt: j.startedAt,
          durationMs: j.durationMs,
          bytes: j.measures.bytes,
          rows: j.measures.rows,
          compressionRatio: j.measures.ratio,
          backupId: j.backupId,
          error: j.error?.message ?? null,
        })),
      };
    },

    /** The metrics in Prometheus' text exposition format (version 0.0.4). */
    async prometheus(now = new Date()): Promise<string> {
      const m = await service.metrics(now);
      const lastBackup = m.jobs.find((j) => j.type === 'backup' && WRITTEN.includes(j.status as Job['status']));
      const lines: string[] = [];
      const metric = (name: string, help: string, type: 'gauge' | 'counter', samples: Array<[string, number]>) => {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
        for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
      };
      metric('pacta_backup_last_success_timestamp_seconds', 'Unix time of the last successful backup (0: none).', 'gauge', [
        ['', m.lastSuccess ? Math.floor(Date.parse(m.lastSuccess.at) / 1000) : 0],
      ]);
      metric('pacta_backup_jobs_30d', 'Backup jobs of the last 30 days by result.', 'gauge', [
        ['{result="succeeded"}', m.backups30d.succeeded],
        ['{result="failed"}', m.backups30d.failed],
      ]);
      metric('pacta_backup_success_ratio_30d', 'Successful backup jobs / finished backup jobs, last 30 days (1 when none ran).', 'gauge', [
        ['', m.successRate30d ?? 1],
      ]);
      metric('pacta_backup_last_duration_seconds', 'Duration of the last successful backup.', 'gauge', [
        ['', lastBackup?.durationMs != null ? lastBackup.durationMs / 1000 : 0],
      ]);
      metric('pacta_backup_last_size_bytes', 'Archive size of the last successful backup.', 'gauge', [['', lastBackup?.bytes ?? 0]]);
      metric('pacta_backup_last_compression_ratio', 'Archive bytes / bytes before compression of the last successful backup.', 'gauge', [
        ['', lastBackup?.compressionRatio ?? 0],
      ]);
      metric('pacta_backup_storage_bytes', 'Storage of the backups.', 'gauge', [
        ['{kind="used"}', m.storage.used],
        ['{kind="free"}', m.storage.free],
        ['{kind="total"}', m.storage.total],
      ]);
      metric('pacta_backup_stored_backups', 'Backups in the storage.', 'gauge', [['', m.storage.backups]]);
      if (m.offsite) {
        metric('pacta_backup_offsite_bytes', 'Off-site storage: bytes stored, and the bytes of the archives they hold (deduplicated copies store less).', 'gauge', [
          ['{kind="stored"}', m.offsite.storedBytes],
          ['{kind="logical"}', m.offsite.logicalBytes],
        ]);
        metric('pacta_backup_offsite_backups', 'Backups off-site.', 'gauge', [['', m.offsite.backups]]);
        metric('pacta_backup_offsite_dedup_ratio', 'Off-site bytes stored / bytes of the archives (below 1: deduplication saves space).', 'gauge', [
          ['', m.offsite.ratio ?? 1],
        ]);
      }
      const alerts = await service.alerts(now);
      metric(
        'pacta_backup_alert',
        'Active alerts by type (1: active).',
        'gauge',
        ALERT_TYPES.map((type) => [`{type="${type}"}`, alerts.some((a) => a.type === type) ? 1 : 0])
      );
      return `${lines.join('\n')}\n`;
    },

    /**
     * Starts a restore drill of a backup (the newest good one by default): restores it into a
     * scratch SQLite database in the system's temp folder and records the result on the backup.
     * Returns null when there is no backup to drill.
     */
    async startDrill({ backupId, trigger = 'manual' }: { backupId?: string; trigger?: JobTrigger } = {}): Promise<Job | null> {
      const list = await backups().list();
      const target = backupId ? list.find((b) => b.id === backupId) : list.find((b) => b.status !== 'damaged' && b.kind !== 'safety');
      if (!target) return null;
      const passphrase = process.env[config().encryptionKeyEnv] || null;
      return jobs().start(
        'drill',
        async (context) => {
          context.progress({ phase: 'drill' });
          const archivePath = await backups().storage().localPath(`${target.id}.pacta.zip`);
          // The scratch database holds the backup's rows in clear: in a private folder, removed after.
          const folder = await privateTempFolder();
          let result;
          try {
            result = await runDrill({
              archivePath,
              passphrase,
              scratchFile: path.join(folder.path, 'drill.sqlite'),
              onProgress: ({ done, total }) => context.progress({ done, total }),
            });
          } catch (error) {
            await backups().updateMeta(target.id, { drill: { status: 'failed', at: new Date().toISOString(), message: (error as Error).message } });
            throw error;
          } finally {
            await folder.remove();
          }
          context.measure({ rows: result.rows });
          const message = result.ok
            ? `${result.tables.length} tables, ${result.rows} rows restored into a scratch database; counts and checksums match the manifest`
            : result.problems.join('; ');
          await backups().updateMeta(target.id, { drill: { status: result.ok ? 'passed' : 'failed', at: new Date().toISOString(), message } });
          if (!result.ok) throw new EngineError('CHECKSUM', `Restore drill of ${target.id} failed: ${message}`, { result });
          context.log(message);
          return { ...result } as unknown as Record<string, unknown>;
        },
        { backupId: target.id, trigger }
      );
    },
  };
  return service;
};

export default createMonitoringService;
