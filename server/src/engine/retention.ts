/**
 * Which backups a retention policy keeps. Pure: the clock and the time zone are arguments, so
 * forty days of backups can be replayed in a test.
 *
 * Kept, with the reason recorded:
 *  - the `keepLast` newest good backups (so the last good backup is never purged);
 *  - the newest good backup of each of the last `daily` days (today included), `weekly` weeks
 *    (Monday to Sunday) and `monthly` months, as calendar days of `timeZone`;
 *  - backups a user marked `keep`;
 *  - safety backups younger than 24 hours (older ones go: they only guard the restore that
 *    made them);
 *  - damaged backups (their manifest cannot be read): never deleted automatically, they may be
 *    from a newer plugin version; the admin panel shows them for a person to decide.
 *  - manual backups (a person made them, often named for a reason: "before the migration"),
 *    unless `includeManual` is set: the policy then counts only the scheduled backups, and a
 *    manual backup stays until a person deletes it.
 * Everything else goes. With `includeManual`, manual and scheduled backups are treated alike:
 * a manual backup can be the one kept for its day; mark it `keep` to keep it beyond the policy.
 * Backups in progress are not listed (they are temporary files) and are never candidates.
 */

export interface RetentionPolicy {
  daily: number;
  weekly: number;
  monthly: number;
  keepLast: number;
  /** Whether the purge also removes manual backups (default false: they stay). */
  includeManual?: boolean;
}

export interface RetentionCandidate {
  id: string;
  createdAt: string;
  kind: 'manual' | 'scheduled' | 'safety';
  status: 'ok' | 'warning' | 'damaged';
  keep: boolean;
}

export interface RetentionDecision {
  keep: Map<string, string[]>;
  remove: Map<string, string[]>;
}

const SAFETY_KEPT_MS = 24 * 3600 * 1000;

/** Calendar date of an instant in a time zone, as [year, month (1-12), day]. */
export const localDate = (instant: Date, timeZone: string): [number, number, number] => {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return [get('year'), get('month'), get('day')];
};

const pad = (n: number) => String(n).padStart(2, '0');
/** Calendar arithmetic on dates without time zones (UTC is only the carrier). */
const shift = ([y, m, d]: [number, number, number], days: number): [number, number, number] => {
  const date = new Date(Date.UTC(y, m - 1, d + days));
  return [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
};
const dayKey = ([y, m, d]: [number, number, number]) => `${y}-${pad(m)}-${pad(d)}`;
/** The Monday that starts the week of a date. */
const weekKey = (date: [number, number, number]) => {
  const weekday = (new Date(Date.UTC(date[0], date[1] - 1, date[2])).getUTCDay() + 6) % 7;
  return `week of ${dayKey(shift(date, -weekday))}`;
};
const monthKey = ([y, m]: [number, number, number]) => `${y}-${pad(m)}`;

export const planRetention = (
  backups: RetentionCandidate[],
  policy: RetentionPolicy,
  now: Date,
  timeZone: string
): RetentionDecision => {
  const keep = new Map<string, string[]>();
  const remove = new Map<string, string[]>();
  const reason = (id: string, why: string) => keep.set(id, [...(keep.get(id) ?? []), why]);

  const counted = (b: RetentionCandidate) => b.kind === 'scheduled' || (b.kind === 'manual' && policy.includeManual === true);
  const good = backups
    .filter((b) => b.status !== 'damaged' && counted(b))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));

  good.slice(0, Math.max(1, policy.keepLast)).forEach((b, i) => reason(b.id, i === 0 ? 'newest good backup' : `one of the ${policy.keepLast} newest`));

  const today = localDate(now, timeZone);
  const periods = (count: number, key: (date: [number, number, number]) => string, step: (date: [number, number, number], i: number) => [number, number, number]) => {
    const keys = new Set<string>();
    for (let i = 0; i < count; i += 1) keys.add(key(step(today, i)));
    return keys;
  };
  const rules: Array<{ keys: Set<string>; key: (date: [number, number, number]) => string; label: string }> = [
    { keys: periods(policy.daily, dayKey, (d, i) => shift(d, -i)), key: dayKey, label: 'newest of' },
    { keys: periods(policy.weekly, weekKey, (d, i) => shift(d, -7 * i)), key: weekKey, label: 'newest of the' },
    {
      keys: periods(policy.monthly, monthKey, ([y, m], i) => {
        const date = new Date(Date.UTC(y, m - 1 - i, 1));
        return [date.getUTCFullYear(), date.getUTCMonth() + 1, 1];
      }),
      key: monthKey,
      label: 'newest of',
    },
  ];
  for (const rule of rules) {
    const taken = new Set<string>();
    for (const backup of good) {
      // A backup dated in the future (a clock moved back) counts for today.
      const instant = new Date(Math.min(Date.parse(backup.createdAt), now.getTime()));
      const key = rule.key(localDate(instant, timeZone));
      if (rule.keys.has(key) && !taken.has(key)) {
        taken.add(key);
        reason(backup.id, `${rule.label} ${key}`);
      }
    }
  }

  for (const backup of backups) {
    if (backup.keep) reason(backup.id, 'marked keep');
    if (backup.kind === 'manual' && !policy.includeManual) reason(backup.id, 'manual backup: the purge leaves it (retention.includeManual is off)');
    if (backup.status === 'damaged') reason(backup.id, 'damaged: left for a person to look at');
    if (backup.kind === 'safety' && now.getTime() - Date.parse(backup.createdAt) < SAFETY_KEPT_MS) {
      reason(backup.id, 'safety backup younger than 24 hours');
    }
    if (!keep.has(backup.id)) {
      remove.set(backup.id, [backup.kind === 'safety' ? 'safety backup older than 24 hours' : 'outside the retention policy']);
    }
  }
  return { keep, remove };
};
