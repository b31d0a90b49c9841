import type { Core } from '@strapi/strapi';
import cron, { type ScheduledTask } from 'node-cron';

import type { Job } from '../contracts/backups';
import { getService } from '../utils';
import { JobConflictError } from './jobs';

/** How long an occurrence lock is held at most if its instance dies mid-run. */
const OCCURRENCE_LEASE_MS = 6 * 3600 * 1000;
/** A failed scheduled backup is tried once more after this delay. */
export const RETRY_DELAY_MS = 5 * 60 * 1000;

export interface ScheduleInfo {
  enabled: boolean;
  timezone: string;
  backup: { schedule: string; nextRun: string | null };
  drill: { enabled: boolean; schedule: string; nextRun: string | null };
  /** The off-site repository check (off-site copies on). */
  check: { enabled: boolean; schedule: string; nextRun: string | null };
}

/**
 * The automatic backups, restore drills and off-site checks: node-cron tasks registered at bootstrap (when the
 * configuration enables them) and stopped at destroy. Every instance of a scaled deployment
 * registers them; for each occurrence the instances race for one lock row in the database
 * (node-cron's distributed mode with the locks service as coordinator): one runs it, the
 * others record that they skipped it. A failed backup is logged, recorded and retried once
 * after a delay; nothing here throws into Strapi. The daily e-mail digest (when e-mail is set
 * to `digest`) is a task of the same kind, one instance sending it.
 */
const createSchedulerService = ({ strapi }: { strapi: Core.Strapi }) => {
  let tasks: ScheduledTask[] = [];
  let stopped = false;
  /**
   * Bumped by start() and stop(). A tick still deciding which instance runs it (the coordinator's
   * query) when its task is destroyed would otherwise run afterwards: a backup starting after a
   * shutdown began, or after a change of settings replaced the task (seen under load).
   */
  let generation = 0;
  /** Runs started by the tasks and not finished yet (stop() waits for them, for a while). */
  const inFlight = new Set<Promise<unknown>>();
  /**
   * A task's run: the work, then its occurrence lock marked done (node-cron's onComplete does
   * it too; doing it here, inside the tracked run, means a shutdown never leaves it undone).
   */
  const track = (name: string, work: () => Promise<unknown>) => {
    const mine = generation;
    return (context: { date: Date }) => runTracked(name, work, context, mine);
  };
  const runTracked = async (name: string, work: () => Promise<unknown>, context: { date: Date }, mine: number) => {
    const run = (async () => {
      try {
        if (stopped || mine !== generation) {
          logger().info(`scheduled ${name} of ${context.date.toISOString()} not run: the schedule was stopped or replaced meanwhile`, { type: name });
          return;
        }
        await work();
      } finally {
        await getService('locks', { strapi })
          .finish(`pacta-backup:${name}:${context.date.toISOString()}`)
          .catch(() => undefined);
      }
    })();
    inFlight.add(run);
    try {
      await run;
    } finally {
      inFlight.delete(run);
    }
  };
  /** Retry delays in progress: stop() ends them at once. */
  const timers = new Map<NodeJS.Timeout, () => void>();
  const config = () => getService('config', { strapi }).get();
  const logger = () => getService('logger', { strapi }).get();
  const jobs = () => getService('jobs', { strapi });

  /** Starts a scheduled backup and waits for it; a conflict (a restore running) counts as a failure. */
  const backupOnce = async (): Promise<Job> => {
    const { scope } = config();
    const backups = getService('backups', { strapi });
    const started = await backups.startBackup(
      {
        name: `Scheduled ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
        contentTypes: scope.contentTypes === 'all' ? undefined : scope.contentTypes,
        media: scope.media,
        adminUsers: scope.adminUsers,
        config: scope.config,
        encrypt: scope.encrypt,
      },
      { kind: 'scheduled', trigger: 'scheduled' }
    );
    return jobs().wait(started.id, { pollMs: 250 });
  };

  const service = {
    /** Runs one scheduled backup now: backup, retry once on failure, then purge. */
    async runScheduledBackup({ retryDelayMs = RETRY_DELAY_MS, fromTask = false }: { retryDelayMs?: number; fromTask?: boolean } = {}): Promise<Job | null> {
      let job: Job | null = null;
      for (let attempt = 1; attempt <= 2; attempt += 1) {
        try {
          job = await backupOnce();
        } catch (error) {
          const message = error instanceof JobConflictError ? error.message : (error as Error).message;
          logger().error(`scheduled backup could not start: ${message}`, { type: 'backup', trigger: 'scheduled', attempt });
          job = null;
        }
        // Completed with warnings is not retried: the missing files would be missing again.
        if (job?.status === 'succeeded' || job?.status === 'warning') break;
        if (attempt === 1) {
          logger().warn(`scheduled backup failed; trying again in ${Math.round(retryDelayMs / 1000)} s`, { type: 'backup', attempt });
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              timers.delete(timer);
              resolve();
            }, retryDelayMs);
            timers.set(timer, resolve);
          });
          // Strapi is shutting down: a run of the schedule ends here.
          if (fromTask && stopped) return job;
        }
      }
      if (job?.status === 'succeeded' || job?.status === 'warning') {
        try {
          await getService('backups', { strapi }).purge();
          await getService('locks', { strapi }).prune();
        } catch (error) {
          logger().error(`purge after the scheduled backup failed: ${(error as Error).message}`, { type: 'purge' });
        }
      }
      return job;
    },

    /** Runs the restore drill of the latest backup now. */
    async runDrill(): Promise<Job | null> {
      try {
        const started = await getService('monitoring', { strapi }).startDrill({ trigger: 'scheduled' });
        return started ? await jobs().wait(started.id, { pollMs: 250 }) : null;
      } catch (error) {
        logger().error(`scheduled drill could not run: ${(error as Error).message}`, { type: 'drill' });
        return null;
      }
    },

    /** Runs the off-site repository check now (its sample: offsite.check.samplePercent). */
    async runCheck(): Promise<Job | null> {
      try {
        const started = await getService('backups', { strapi }).startCheck({ trigger: 'scheduled' });
        return await jobs().wait(started.id, { pollMs: 250 });
      } catch (error) {
        logger().error(`scheduled off-site check could not run: ${(error as Error).message}`, { type: 'check' });
        return null;
      }
    },

    /** Sends the e-mail digest now (the digest task runs it on one instance). */
    async runDigest() {
      try {
        await getService('notifications', { strapi }).sendDigest();
      } catch (error) {
        logger().error(`the notification digest could not be sent: ${(error as Error).message}`, { type: 'digest' });
      }
    },

    start() {
      for (const task of tasks) task.destroy();
      tasks = [];
      stopped = false;
      generation += 1;
      const current = config();
      const options = (name: string) => ({
        name: `pacta-backup:${name}`,
        timezone: current.timezone,
        noOverlap: true,
        distributed: true,
        runCoordinator: getService('locks', { strapi }).coordinator(),
        distributedLease: OCCURRENCE_LEASE_MS,
      });
      // The digest tells what happened, backups scheduled or not: it runs whatever `enabled` says.
      const { email } = current.notifications;
      if (email.enabled && email.when === 'digest' && email.recipients.length) {
        tasks.push(cron.schedule(email.digestSchedule, track('digest', () => service.runDigest()), options('digest')));
      }
      if (!current.enabled) {
        logger().info('scheduled backups are disabled (enabled: false)');
        return;
      }
      const backup = cron.schedule(current.schedule, track('backup', () => service.runScheduledBackup({ fromTask: true })), options('backup'));
      backup.on('execution:skipped', (context) => {
        const reason = context.reason === 'not-elected' ? 'another instance runs this occurrence' : `coordinator error: ${context.error?.message ?? 'unknown'}`;
        jobs()
          .recordSkipped('backup', 'scheduled', `${reason} (${context.date.toISOString()})`)
          .catch((error) => logger().error(`could not record a skipped backup: ${(error as Error).message}`));
      });
      tasks.push(backup);
      if (current.drill.enabled) {
        const drill = cron.schedule(current.drill.schedule, track('drill', () => service.runDrill()), options('drill'));
        drill.on('execution:skipped', (context) => {
          jobs()
            .recordSkipped('drill', 'scheduled', `another instance runs this occurrence (${context.date.toISOString()})`)
            .catch(() => undefined);
        });
        tasks.push(drill);
      }
      if (current.offsite.enabled && current.offsite.check.enabled) {
        const check = cron.schedule(current.offsite.check.schedule, track('check', () => service.runCheck()), options('check'));
        check.on('execution:skipped', (context) => {
          jobs()
            .recordSkipped('check', 'scheduled', `another instance runs this occurrence (${context.date.toISOString()})`)
            .catch(() => undefined);
        });
        tasks.push(check);
      }
      const info = service.info();
      logger().info(`scheduled backups at "${current.schedule}" (${current.timezone}), next ${info.backup.nextRun}`, { type: 'schedule' });
    },

    /** Whether a scheduled run is in progress in this process. */
    busy() {
      return inFlight.size > 0;
    },

    /** Stops the tasks, ends retry delays, and waits up to `waitMs` for runs in progress. */
    async stop(waitMs = 10_000) {
      stopped = true;
      generation += 1;
      for (const task of tasks) task.destroy();
      tasks = [];
      for (const [timer, resolve] of timers) {
        clearTimeout(timer);
        resolve();
      }
      timers.clear();
      if (inFlight.size) {
        await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
      }
    },

    info(): ScheduleInfo {
      const current = config();
      const next = (expression: string) => {
        // node-cron's own reckoning (a task that is never started).
        const task = cron.createTask(expression, () => undefined, { timezone: current.timezone });
        const [at] = task.getNextRuns(1);
        task.destroy();
        return at ? at.toISOString() : null;
      };
      return {
        enabled: current.enabled,
        timezone: current.timezone,
        backup: { schedule: current.schedule, nextRun: current.enabled ? next(current.schedule) : null },
        drill: {
          enabled: current.enabled && current.drill.enabled,
          schedule: current.drill.schedule,
          nextRun: current.enabled && current.drill.enabled ? next(current.drill.schedule) : null,
        },
        check: {
          enabled: current.enabled && current.offsite.enabled && current.offsite.check.enabled,
          schedule: current.offsite.check.schedule,
          nextRun: current.enabled && current.offsite.enabled && current.offsite.check.enabled ? next(current.offsite.check.schedule) : null,
        },
      };
    },
  };
  return service;
};

export default createSchedulerService;
