import { randomUUID } from 'node:crypto';

import type { Core } from '@strapi/strapi';

import type { Backup, Job, JobTrigger, JobType } from '../contracts/backups';
import { EngineError } from '../engine/errors';
import { instanceState } from '../engine/owner';
import { cleanSnapshots } from '../engine/snapshot';
import { JOB_TABLE, LOCK_TABLE } from '../models';
import { getService } from '../utils';
import { INSTANCE_ID } from './locks';

const LOG_LINES = 200;
const KEEP_FINISHED = 100;
/**
 * The cross-process job lock: a heartbeat. Renewed every 10 s for 30 s, so an instance on
 * another host takes over the lock of a crashed one within half a minute; on this host the
 * holder's pid decides at once (see locks.ts).
 */
export const JOB_LOCK = 'job';
const JOB_LOCK_TTL_MS = 30 * 1000;
const JOB_LOCK_RENEW_MS = 10 * 1000;

/** A second backup, restore or drill while one runs (here or in another process): the API answers 409. */
export class JobConflictError extends Error {
  constructor(
    message: string,
    readonly running: Job | null
  ) {
    super(message);
    this.name = 'JobConflictError';
  }
}

/** What a job measured, kept in its history record (metrics). */
export interface JobMeasures {
  bytes?: number;
  rows?: number;
  /** Archive bytes / bytes before compression. */
  ratio?: number;
}

export interface JobContext {
  job: Job;
  progress(update: Partial<Job['progress']> & { phase?: string }): void;
  log(message: string, fields?: Record<string, unknown>): void;
  measure(measures: JobMeasures): void;
}

export interface StartOptions {
  backupId?: string | null;
  trigger?: JobTrigger;
  warnings?: string[];
}

interface JobRow {
  job_id: string;
  type: JobType;
  trigger: JobTrigger;
  status: Job['status'];
  phase: string;
  backup_id: string | null;
  instance: string;
  started_at: number | string;
  finished_at: number | string | null;
  duration_ms: number | string | null;
  bytes: number | string | null;
  rows: number | string | null;
  ratio: number | null;
  error: unknown;
  result: unknown;
  log: unknown;
}

const json = <T>(value: unknown, fallback: T): T => {
  if (value == null) return fallback;
  if (typeof value !== 'string') return value as T;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
};
const num = (value: unknown) => (value == null ? null : Number(value));

export const jobFromRow = (row: JobRow): Job => ({
  id: row.job_id,
  type: row.type,
  trigger: row.trigger,
  status: row.status,
  phase: row.phase,
  progress: { done: 0, total: 0, bytes: 0 },
  backupId: row.backup_id,
  instance: row.instance,
  startedAt: new Date(Number(row.started_at)).toISOString(),
  finishedAt: row.finished_at == null ? null : new Date(Number(row.finished_at)).toISOString(),
  durationMs: num(row.duration_ms),
  measures: { bytes: num(row.bytes), rows: num(row.rows), ratio: row.ratio == null ? null : Number(row.ratio) },
  result: json(row.result, null),
  error: json(row.error, null),
  log: json(row.log, []),
  warnings: [],
});

/**
 * Runs the plugin's long operations in the background, one at a time per app: a backup, a
 * restore and a drill never overlap, in this process (checked at once) nor across the
 * instances and CLI runs that share the database (a lock row, renewed while the job runs).
 * Live progress is kept in memory, so it can be read even while a restore holds the
 * database; every job is also recorded in the plugin's job table (history, metrics, alerts),
 * and its log lines go to the plugin's log file.
 */
const createJobsService = ({ strapi }: { strapi: Core.Strapi }) => {
  const jobs = new Map<string, Job>();
  let running: Job | null = null;
  /** Work holding the job lock without a job of its own (see exclusive), named. */
  let holding: string | null = null;
  /** Told of each job that ends, once its end is recorded and the job lock released. */
  const endListeners = new Set<(job: Job) => void>();
  const knex = () => strapi.db.connection;
  const logger = () => getService('logger', { strapi }).get();

  const trim = () => {
    const finished = [...jobs.values()].filter((j) => j.finishedAt);
    for (const job of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) jobs.delete(job.id);
  };

  const toRow = (job: Job) => ({
    job_id: job.id,
    type: job.type,
    trigger: job.trigger,
    status: job.status,
    phase: job.phase,
    backup_id: job.backupId,
    instance: job.instance,
    started_at: Date.parse(job.startedAt),
    finished_at: job.finishedAt ? Date.parse(job.finishedAt) : null,
    duration_ms: job.durationMs,
    bytes: job.measures.bytes,
    rows: job.measures.rows,
    ratio: job.measures.ratio,
    error: job.error ? JSON.stringify(job.error) : null,
    result: job.result ? JSON.stringify(job.result) : null,
    log: JSON.stringify(job.log.slice(-LOG_LINES)),
  });

  const newJob = (type: JobType, options: StartOptions, status: Job['status']): Job => ({
    id: randomUUID(),
    type,
    trigger: options.trigger ?? 'manual',
    status,
    phase: status === 'running' ? 'starting' : status,
    progress: { done: 0, total: 0, bytes: 0 },
    backupId: options.backupId ?? null,
    instance: INSTANCE_ID,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    durationMs: null,
    measures: { bytes: null, rows: null, ratio: null },
    result: null,
    error: null,
    log: [],
    warnings: options.warnings ?? [],
  });

  const service = {
    get(id: string): Job | null {
      return jobs.get(id) ?? null;
    },

    /** A job of this process, or one from the history (another instance, an earlier run). */
    async find(id: string): Promise<Job | null> {
      const live = jobs.get(id);
      if (live) return live;
      const row = (await knex()(JOB_TABLE).where({ job_id: id }).first()) as JobRow | undefined;
      return row ? jobFromRow(row) : null;
    },

    /** The recorded jobs, newest first. */
    async history({ type, since, limit = 100 }: { type?: JobType; since?: Date; limit?: number } = {}): Promise<Job[]> {
      const query = knex()(JOB_TABLE).orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit);
      if (type) query.where({ type });
      if (since) query.where('started_at', '>=', since.getTime());
      return ((await query) as JobRow[]).map(jobFromRow);
    },

    running(): Job | null {
      return running;
    },

    /**
     * Runs `work` holding the job lock, renewed as a job's, without recording a job: the second
     * phase of a purge (deleting off-site objects no backup uses), which must never run beside a
     * backup of this app that may be writing them. Null, and `work` not run, when a job or such
     * work runs here or in another process.
     */
    async exclusive<T>(what: string, work: () => Promise<T>): Promise<T | null> {
      if (running || holding) return null;
      holding = what;
      const locks = getService('locks', { strapi });
      try {
        if (!(await locks.acquire(JOB_LOCK, JOB_LOCK_TTL_MS))) return null;
        const renewal = setInterval(() => {
          locks.renew(JOB_LOCK, JOB_LOCK_TTL_MS).catch(() => undefined);
        }, JOB_LOCK_RENEW_MS);
        renewal.unref();
        try {
          return await work();
        } finally {
          clearInterval(renewal);
          await locks.release(JOB_LOCK).catch(() => undefined);
        }
      } finally {
        holding = null;
      }
    },

    /** Records a job that did not run (a scheduled occurrence another instance took). */
    async recordSkipped(type: JobType, trigger: JobTrigger, reason: string): Promise<Job> {
      const job = newJob(type, { trigger }, 'skipped');
      job.finishedAt = job.startedAt;
      job.durationMs = 0;
      job.log.push(`${job.startedAt} skipped: ${reason}`);
      job.result = { skipped: reason };
      await knex()(JOB_TABLE).insert(toRow(job));
      logger().info(`${type} skipped: ${reason}`, { jobId: job.id, type, trigger });
      return job;
    },

    /**
     * Starts `work` in the background and returns its job once it is recorded.
     * @throws JobConflictError when another job runs here or in another process
     */
    async start(type: JobType, work: (context: JobContext) => Promise<Record<string, unknown>>, options: StartOptions = {}): Promise<Job> {
      if (running) throw new JobConflictError(`A ${running.type} job (${running.id}) is already running; try again when it has finished`, running);
      if (holding) throw new JobConflictError(`The ${holding} is running; try again when it has finished`, null);
      const job = newJob(type, options, 'running');
      // Claimed synchronously, so a second call in the same tick is refused too.
      running = job;
      const locks = getService('locks', { strapi });
      try {
        if (!(await locks.acquire(JOB_LOCK, JOB_LOCK_TTL_MS))) {
          const holder = await locks.holder(JOB_LOCK);
          throw new JobConflictError(
            `Another instance (${holder?.owner ?? 'unknown'}) is running a backup, restore or drill on this database; try again when it has finished`,
            null
          );
        }
        await knex()(JOB_TABLE).insert(toRow(job));
      } catch (error) {
        running = null;
        if (!(error instanceof JobConflictError)) await locks.release(JOB_LOCK).catch(() => undefined);
        throw error;
      }
      jobs.set(job.id, job);
      const fields = () => ({ jobId: job.id, type, trigger: job.trigger, phase: job.phase, backupId: job.backupId });

      const context: JobContext = {
        job,
        progress({ phase, ...progress }) {
          if (phase && phase !== job.phase) {
            job.phase = phase;
            context.log(`phase ${phase}`);
          }
          Object.assign(job.progress, progress);
        },
        log(message, extra = {}) {
          job.log.push(`${new Date().toISOString()} ${message}`);
          if (job.log.length > LOG_LINES) job.log.splice(0, job.log.length - LOG_LINES);
          logger().info(message, { ...fields(), ...extra });
        },
        measure(measures) {
          Object.assign(job.measures, measures);
        },
      };
      context.log(`${type} started`);
      // The heartbeat. During a SQLite restore it waits for the connection the restore holds:
      // one renewal at a time, and the expired lock of this live pid is never taken on this host.
      let renewing = false;
      const renewal = setInterval(() => {
        if (renewing) return;
        renewing = true;
        locks
          .renew(JOB_LOCK, JOB_LOCK_TTL_MS)
          .then((held) => {
            if (!held) logger().warn(`the job lock of ${job.id} was lost (taken by another instance after it expired)`, fields());
          })
          .catch(() => undefined)
          .finally(() => {
            renewing = false;
          });
      }, JOB_LOCK_RENEW_MS);
      renewal.unref();

      setImmediate(async () => {
        const started = Date.now();
        try {
          job.result = await work(context);
          // A backup that could not read every file the database names: completed with warnings.
          const backup = job.result?.backup as Backup | undefined;
          if (backup?.status === 'warning') {
            job.status = 'warning';
            job.warnings = [...job.warnings, ...(backup.warnings ?? [])];
            job.phase = 'done';
            context.log(`completed with warnings: ${(backup.warnings ?? []).join('; ')}`, { durationMs: Date.now() - started, ...job.measures });
          } else {
            job.status = 'succeeded';
            job.phase = 'done';
            context.log('succeeded', { durationMs: Date.now() - started, ...job.measures });
          }
        } catch (error) {
          const err = error as Error & { code?: string };
          job.status = 'failed';
          // What a failed job still tells (an import preview's checks).
          const partial = (error as { jobResult?: Record<string, unknown> }).jobResult;
          if (partial) job.result = partial;
          job.error = { message: err.message, code: error instanceof EngineError ? error.code : (err.code ?? 'FAILED') };
          job.log.push(`${new Date().toISOString()} failed: ${err.message}`);
          logger().error(`${type} failed: ${err.message}`, { ...fields(), code: job.error.code, durationMs: Date.now() - started });
        } finally {
          clearInterval(renewal);
          // finishedAt is published last: whoever waits for it may start the next job at once.
          const finishedAt = new Date().toISOString();
          job.durationMs = Date.now() - started;
          try {
            await knex()(JOB_TABLE).where({ job_id: job.id }).update(toRow({ ...job, finishedAt }));
          } catch (error) {
            logger().error(`could not record the end of job ${job.id}: ${(error as Error).message}`, fields());
          }
          await locks.release(JOB_LOCK).catch(() => undefined);
          running = null;
          job.finishedAt = finishedAt;
          trim();
          // Notifications: the listeners start their work in the background, the job is over.
          for (const listener of endListeners) {
            try {
              listener(job);
            } catch (error) {
              logger().error(`a listener of the end of job ${job.id} failed: ${(error as Error).message}`, fields());
            }
          }
        }
      });
      return job;
    },

    /**
     * After a crash (kill -9, power loss), at the next start of the app or the CLI: marks
     * `interrupted` the jobs left `running` by a process that is gone, and removes the
     * temporary files and snapshot copies of dead processes. A job of a live process is left
     * alone: on this host its pid is alive; on another host it still holds the job lock.
     */
    async recover(): Promise<{ interrupted: Job[]; temporary: string[]; snapshots: string[] }> {
      const now = Date.now();
      const rows = (await knex()(JOB_TABLE).whereIn('status', ['running', 'queued'])) as JobRow[];
      const lock = rows.length ? await knex()(LOCK_TABLE).where({ name: JOB_LOCK }).first() : null;
      const interrupted: Job[] = [];
      for (const row of rows) {
        const state = instanceState(row.instance, INSTANCE_ID);
        if (state === 'alive') continue;
        // Another host: alive while its heartbeat keeps the job lock fresh.
        if (state === 'unknown' && lock && lock.owner === row.instance && Number(lock.expires_at) >= now && lock.done_at == null) continue;
        const job = jobFromRow(row);
        const message = `The process running this ${job.type} (${row.instance}) stopped before it finished; found at the next start`;
        job.status = 'interrupted';
        job.finishedAt = new Date(now).toISOString();
        job.error = { message, code: 'INTERRUPTED' };
        job.log = [...job.log, `${job.finishedAt} interrupted: ${message}`].slice(-LOG_LINES);
        // Only a row still running: a job that ended meanwhile keeps its own end.
        const updated = await knex()(JOB_TABLE)
          .where({ job_id: row.job_id })
          .whereIn('status', ['running', 'queued'])
          .update({ status: 'interrupted', finished_at: now, error: JSON.stringify(job.error), log: JSON.stringify(job.log) });
        if (Number(updated) !== 1) continue;
        interrupted.push(job);
        logger().warn(`${job.type} ${job.id} interrupted: ${message}`, { jobId: job.id, type: job.type, phase: job.phase, backupId: job.backupId });
      }
      const temporary = await getService('backups', { strapi }).storage().cleanTemp();
      const snapshots = await cleanSnapshots();
      return { interrupted, temporary, snapshots };
    },

    /** Calls `listener` with each job of this process that ends; returns the way to stop. */
    onEnd(listener: (job: Job) => void): () => void {
      endListeners.add(listener);
      return () => {
        endListeners.delete(listener);
      };
    },

    /**
     * Appends lines to a finished job's log, in memory and in its history record (the
     * notifications sent after it ended; each line starts with its time).
     */
    async appendLog(id: string, lines: string[]): Promise<void> {
      if (!lines.length) return;
      const live = jobs.get(id);
      if (live) {
        live.log.push(...lines);
        if (live.log.length > LOG_LINES) live.log.splice(0, live.log.length - LOG_LINES);
      }
      const row = (await knex()(JOB_TABLE).where({ job_id: id }).first('log')) as Pick<JobRow, 'log'> | undefined;
      if (!row) return;
      const log = [...json<string[]>(row.log, []), ...lines].slice(-LOG_LINES);
      await knex()(JOB_TABLE).where({ job_id: id }).update({ log: JSON.stringify(log) });
    },

    /** Resolves when the job has finished (used by the CLI, the scheduler and the tests). */
    async wait(id: string, { pollMs = 50, timeoutMs }: { pollMs?: number; timeoutMs?: number } = {}): Promise<Job> {
      const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
      for (;;) {
        const job = jobs.get(id);
        if (!job) throw new Error(`No job ${id}`);
        if (job.finishedAt) return job;
        if (Date.now() > deadline) throw new Error(`Job ${id} (${job.type}) still ${job.status} in phase ${job.phase} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    },
  };
  return service;
};

export default createJobsService;
