import type { Knex } from 'knex';

import { LOCK_TABLE } from '../models';
import type { Alert } from '../services/monitoring';

/** Rows of the lock table that stand for alerts: `pacta-backup:alert:<type>:<severity>:<job id or ->`. */
export const ALERT_PREFIX = 'pacta-backup:alert:';
/**
 * An alert row never expires while it is active (the locks' prune() removes it 30 days after
 * it was cleared): its expiry is set past any clock.
 */
const NEVER = Number.MAX_SAFE_INTEGER;

/** The alert as its row names it: an alert row is the same alert as long as this is. */
export interface AlertIdentity {
  type: Alert['type'];
  severity: Alert['severity'];
  jobId?: string;
}

/**
 * The alert's row name. An alert about a job carries its id: a later failure is a new alert
 * (told again), the same one seen at every check is not. An alert about a state (no recent
 * backup, low space, the storage unreadable) is one per type: raised when the state begins,
 * cleared when it ends, raised again if it comes back.
 */
export const alertName = (alert: AlertIdentity) => `${ALERT_PREFIX}${alert.type}:${alert.severity}:${alert.jobId ?? '-'}`;

export const identityOf = (name: string): AlertIdentity => {
  const [type, severity, jobId] = name.slice(ALERT_PREFIX.length).split(':');
  return { type: type as Alert['type'], severity: severity as Alert['severity'], ...(jobId && jobId !== '-' ? { jobId } : {}) };
};

export interface AlertChanges {
  /** Alerts that were not active and now are: this instance tells them. */
  raised: Alert[];
  /** Alerts that were active and are no longer: this instance tells them. */
  cleared: AlertIdentity[];
}

/**
 * Compares the alerts active now with those recorded as active in the lock table, records the
 * difference, and returns what this instance must tell: each change exactly once, across every
 * instance on the database and across restarts.
 *
 * Each recorded alert is a row; `done_at` null while it is active. Raising is an INSERT (the
 * unique index lets one instance's insert succeed) or, for an alert that was cleared before,
 * an UPDATE of `done_at` from set to null; clearing is an UPDATE of `done_at` from null to now.
 * Each of these conditional statements changes the row for one instance only, and only that
 * instance reports the change.
 */
export const syncAlerts = async (knex: Knex, alerts: Alert[], { owner, now = Date.now() }: { owner: string; now?: number }): Promise<AlertChanges> => {
  const rows = (await knex(LOCK_TABLE).where('name', 'like', `${ALERT_PREFIX}%`).select('name', 'done_at')) as Array<{ name: string; done_at: unknown }>;
  const recorded = new Map(rows.map((row) => [row.name, row.done_at == null]));
  const current = new Map<string, Alert>();
  for (const alert of alerts) if (!current.has(alertName(alert))) current.set(alertName(alert), alert);

  const raised: Alert[] = [];
  for (const [name, alert] of current) {
    const active = recorded.get(name);
    if (active === true) continue;
    if (active === undefined) {
      try {
        await knex(LOCK_TABLE).insert({ name, owner, expires_at: NEVER, done_at: null });
        raised.push(alert);
        continue;
      } catch {
        // Another instance recorded it meanwhile (the unique index), or cleared it at once: read again below.
      }
    }
    const updated = await knex(LOCK_TABLE).where({ name }).whereNotNull('done_at').update({ owner, expires_at: NEVER, done_at: null });
    if (Number(updated) === 1) raised.push(alert);
  }

  const cleared: AlertIdentity[] = [];
  for (const [name, active] of recorded) {
    if (!active || current.has(name)) continue;
    const updated = await knex(LOCK_TABLE).where({ name }).whereNull('done_at').update({ owner, done_at: now });
    if (Number(updated) === 1) cleared.push(identityOf(name));
  }
  return { raised, cleared };
};

/** The alerts recorded as active (what was last told as raised and not yet as cleared). */
export const activeAlerts = async (knex: Knex): Promise<AlertIdentity[]> =>
  ((await knex(LOCK_TABLE).where('name', 'like', `${ALERT_PREFIX}%`).whereNull('done_at').select('name')) as Array<{ name: string }>).map((row) =>
    identityOf(row.name)
  );
