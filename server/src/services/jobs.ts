import { randomUUID } from 'node:crypto';

import type { Core } from '@strapi/strapi';

import type { Job, JobType } from '../contracts/backups';
import { EngineError } from '../engine/errors';

const LOG_LINES = 200;
const KEEP_FINISHED = 100;

/** A second backup or restore while one runs: the API answers 409. */
export class JobConflictError extends Error {
  constructor(readonly running: Job) {
    super(`A ${running.type} job (${running.id}) is already running; try again when it has finished`);
  }
}

export interface JobContext {
  job: Job;
  progress(update: Partial<Job['progress']> & { phase?: string }): void;
  log(message: string): void;
}

/**
 * Runs the plugin's long operations in the background, one at a time per app: a backup and a
 * restore must never overlap. Jobs live in memory, so progress can be read even while a
 * restore holds the database in its transaction.
 */
const createJobsService = ({ strapi }: { strapi: Core.Strapi }) => {
  const jobs = new Map<string, Job>();
  let running: Job | null = null;

  const trim = () => {
    const finished = [...jobs.values()].filter((j) => j.finishedAt);
    for (const job of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) jobs.delete(job.id);
  };

  return {
    get(id: string): Job | null {
      return jobs.get(id) ?? null;
    },

    running(): Job | null {
      return running;
    },

    /**
     * Starts `work` in the background and returns its job at once.
     * @throws JobConflictError when another job runs
     */
    start(
      type: JobType,
      backupId: string | null,
      work: (context: JobContext) => Promise<Record<string, unknown>>,
      warnings: string[] = []
    ): Job {
      if (running) throw new JobConflictError(running);
      const job: Job = {
        id: randomUUID(),
        type,
        status: 'running',
        phase: 'starting',
        progress: { done: 0, total: 0, bytes: 0 },
        backupId,
        startedAt: new Date().toISOString(),
        finishedAt: null,
        result: null,
        error: null,
        log: [],
        warnings,
      };
      jobs.set(job.id, job);
      running = job;
      const context: JobContext = {
        job,
        progress({ phase, ...progress }) {
          if (phase && phase !== job.phase) {
            job.phase = phase;
            context.log(`phase ${phase}`);
          }
          Object.assign(job.progress, progress);
        },
        log(message) {
          job.log.push(`${new Date().toISOString()} ${message}`);
          if (job.log.length > LOG_LINES) job.log.splice(0, job.log.length - LOG_LINES);
          strapi.log.info(`[pacta-backup] ${type} ${job.id}: ${message}`);
        },
      };

      setImmediate(async () => {
        try {
          job.result = await work(context);
          job.status = 'succeeded';
          job.phase = 'done';
          context.log('succeeded');
        } catch (error) {
          const err = error as Error & { code?: string };
          job.status = 'failed';
          job.error = { message: err.message, code: error instanceof EngineError ? error.code : (err.code ?? 'FAILED') };
          context.log(`failed: ${err.message}`);
          strapi.log.error(`[pacta-backup] ${type} ${job.id} failed: ${err.message}`);
        } finally {
          job.finishedAt = new Date().toISOString();
          running = null;
          trim();
        }
      });
      return job;
    },

    /** Resolves when the job has finished (used by the CLI and the tests). */
    async wait(id: string, pollMs = 50): Promise<Job> {
      for (;;) {
        const job = jobs.get(id);
        if (!job) throw new Error(`No job ${id}`);
        if (job.finishedAt) return job;
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    },
  };
};

export default createJobsService;
