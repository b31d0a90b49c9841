import cron from 'node-cron';
import { z } from 'zod';

import { MAX_CRON_LENGTH } from '../config/schema';
import type { SchedulePreview } from '../contracts/schedule';

/**
 * Why node-cron would not schedule an expression, or null when it would: the same checks as
 * the config schema's cron fields (the length cap, node-cron's detailed validation, then
 * node-cron's own `validate`, which is what `schedule` calls).
 */
export const cronError = (expression: string): string | null => {
  const value = expression.trim();
  if (!value) return 'is empty: a cron expression has 5 fields (minute hour day month weekday), or 6 with seconds first';
  if (value.length > MAX_CRON_LENGTH) return `must be a cron expression of at most ${MAX_CRON_LENGTH} characters`;
  const detail = cron.validateDetailed(value);
  if (!detail.valid || !cron.validate(value)) {
    const why = detail.errors.map((e) => `${e.field}: ${e.message}`).join(', ');
    return `is not a cron expression (${why || 'unreadable'})`;
  }
  return null;
};

/** Why a time zone is refused (not an IANA name this Node.js knows), or null. */
export const timeZoneError = (timezone: string): string | null => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return null;
  } catch {
    return `"${timezone}" is not an IANA time zone such as "Europe/Madrid" or "UTC"`;
  }
};

/** The next `count` runs of a schedule in a time zone, as node-cron reckons them (a task never started). */
export const nextRuns = (expression: string, timezone: string, count = 3): Date[] => {
  const task = cron.createTask(expression.trim(), () => undefined, { timezone });
  try {
    return task.getNextRuns(count);
  } finally {
    task.destroy();
  }
};

/** Checks an expression and a time zone, then lists the next runs; never throws on bad input. */
export const previewSchedule = (expression: string, timezone: string, count = 3): SchedulePreview => {
  const error = cronError(expression) ?? timeZoneError(timezone);
  if (error) return { valid: false, error, nextRuns: [], timezone };
  return { valid: true, nextRuns: nextRuns(expression, timezone, count).map((at) => at.toISOString()), timezone };
};

/** The query of GET /schedule/preview; the time zone defaults to the configured one. */
export const schedulePreviewQuerySchema = z
  .object({
    expression: z.string({ error: 'is required: the cron expression to describe' }).max(MAX_CRON_LENGTH * 10),
    timezone: z.string().trim().min(1).max(100).optional(),
  })
  .strict();
