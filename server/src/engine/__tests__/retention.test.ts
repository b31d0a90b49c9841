import { localDate, planRetention, type RetentionCandidate } from '../retention';

const TZ = 'Europe/Madrid';
/** 02:00 in Madrid on day `n` after 2026-10-01 (the 40 days cross the end of summer time, 25 October). */
const madrid = (n: number, hour = 2, minute = 0) => {
  const day = new Date(Date.UTC(2026, 9, 1 + n));
  const guess = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hour, minute);
  // Madrid is UTC+2 until 25 October 03:00, then UTC+1.
  const offset = guess < Date.UTC(2026, 9, 25, 1) ? 2 : 1;
  return new Date(guess - offset * 3600 * 1000);
};

describe('retention', () => {
  it('reads calendar days in the configured time zone', () => {
    expect(localDate(new Date('2026-10-24T22:30:00Z'), TZ)).toEqual([2026, 10, 25]);
    expect(localDate(new Date('2026-10-24T22:30:00Z'), 'UTC')).toEqual([2026, 10, 24]);
    expect(madrid(0).toISOString()).toBe('2026-10-01T00:00:00.000Z');
    expect(madrid(30).toISOString()).toBe('2026-10-31T01:00:00.000Z');
  });

  /**
   * Forty days of a daily 02:00 backup (days 5, 6 and 20 failed: no backup), a manual backup at
   * 15:00 on days 12 and 33, day 9's backup marked keep, a safety backup on day 30 at 10:00;
   * the purge runs after each day's backup with daily 7, weekly 2.
   */
  it('keeps exactly the expected backups on each of 40 days', () => {
    const policy = { daily: 7, weekly: 2, monthly: 0, keepLast: 1, includeManual: true };
    let stored: RetentionCandidate[] = [];
    const history: Record<number, string[]> = {};
    for (let day = 0; day < 40; day += 1) {
      if (![5, 6, 20].includes(day)) stored.push({ id: `s${day}`, createdAt: madrid(day).toISOString(), kind: 'scheduled', status: 'ok', keep: day === 9 });
      if (day === 12 || day === 33) stored.push({ id: `m${day}`, createdAt: madrid(day, 15).toISOString(), kind: 'manual', status: 'ok', keep: false });
      if (day === 30) stored.push({ id: 'safety30', createdAt: madrid(30, 10).toISOString(), kind: 'safety', status: 'ok', keep: false });
      // The purge after the day's backup (02:05) and, on manual days, after the 15:00 backup.
      for (const at of [madrid(day, 2, 5), ...(day === 12 || day === 33 || day === 30 ? [madrid(day, 16)] : [])]) {
        const { keep, remove } = planRetention(stored.filter((b) => Date.parse(b.createdAt) <= at.getTime()), policy, at, TZ);
        stored = stored.filter((b) => !remove.has(b.id));
        for (const id of keep.keys()) expect(stored.some((b) => b.id === id)).toBe(true);
      }
      history[day] = stored.map((b) => b.id).sort();
    }
    const sorted = (ids: string[]) => [...ids].sort();
    // Day n is 1 October + n (1 October 2026 is a Thursday).
    // Day 3 (Sunday 4 October): everything so far is within 7 days.
    expect(history[3]).toEqual(sorted(['s0', 's1', 's2', 's3']));
    // Day 8 (Friday 9 October): days 2..8 minus the failed 5 and 6; the newest of the week before is s3 (Sunday 4 October), in the window.
    expect(history[8]).toEqual(sorted(['s2', 's3', 's4', 's7', 's8']));
    // Day 12 after the manual backup: the manual one is the newest of day 12, so s12 goes.
    expect(history[12]).toEqual(sorted(['s7', 's8', 's9', 's10', 's11', 'm12']));
    // Day 21: days 15..21 (20 failed); the newest of the week before (Sunday 18 October, day 17) is in the window; s9 is marked keep.
    expect(history[21]).toEqual(sorted(['s9', 's15', 's16', 's17', 's18', 's19', 's21']));
    // Day 30 after 16:00: the safety backup is younger than 24 h.
    expect(history[30]).toEqual(sorted(['s9', 's24', 's25', 's26', 's27', 's28', 's29', 's30', 'safety30']));
    // Day 31 at 02:05 the safety backup is older than 24 h? Not yet (10:00 the day before): it stays; day 32 it goes.
    expect(history[31]).toContain('safety30');
    expect(history[32]).not.toContain('safety30');
    // Day 39 (Monday 9 November): days 33..39 (m33 is the newest of day 33); the week before ends with s38; s9 is marked keep.
    expect(history[39]).toEqual(sorted(['s9', 'm33', 's34', 's35', 's36', 's37', 's38', 's39']));
    // The week rule: on day 31 (Sunday 1 November) s24, the newest of the week before (ending Sunday 25 October), is
    // kept outside the daily window (days 25..31); on day 32 (Monday) that week is two weeks back and s24 goes.
    expect(history[31]).toEqual(sorted(['s9', 's24', 's25', 's26', 's27', 's28', 's29', 's30', 's31', 'safety30']));
    expect(history[32]).toEqual(sorted(['s9', 's26', 's27', 's28', 's29', 's30', 's31', 's32']));
  });

  it('never deletes the last good backup, a damaged one, or one marked keep', () => {
    const now = new Date('2026-11-27T12:00:00Z');
    const backups: RetentionCandidate[] = [
      { id: 'old', createdAt: '2025-01-01T00:00:00Z', kind: 'scheduled', status: 'ok', keep: false },
      { id: 'older', createdAt: '2024-01-01T00:00:00Z', kind: 'manual', status: 'ok', keep: false },
      { id: 'kept', createdAt: '2023-01-01T00:00:00Z', kind: 'manual', status: 'ok', keep: true },
      { id: 'broken', createdAt: '2022-01-01T00:00:00Z', kind: 'manual', status: 'damaged', keep: false },
      { id: 'safety-old', createdAt: '2026-11-25T12:00:00Z', kind: 'safety', status: 'ok', keep: false },
    ];
    const { keep, remove } = planRetention(backups, { daily: 7, weekly: 0, monthly: 0, keepLast: 1, includeManual: true }, now, 'UTC');
    expect([...keep.keys()].sort()).toEqual(['broken', 'kept', 'old']);
    expect(keep.get('old')).toEqual(['newest good backup']);
    expect([...remove.keys()].sort()).toEqual(['older', 'safety-old']);
    expect(remove.get('safety-old')).toEqual(['safety backup older than 24 hours']);
  });

  /**
   * What happened on the bench machine: a manual backup named "baseline" taken in the morning,
   * the 02:00 scheduled backup the next night, and its purge deleted "baseline".
   */
  it('leaves manual backups to the people who made them unless includeManual is set', () => {
    const backups: RetentionCandidate[] = [
      { id: 'baseline', createdAt: '2026-11-29T09:00:00Z', kind: 'manual', status: 'ok', keep: false },
      { id: 'before-migration', createdAt: '2026-09-01T09:00:00Z', kind: 'manual', status: 'ok', keep: false },
      { id: 's-29', createdAt: '2026-11-29T02:00:00Z', kind: 'scheduled', status: 'ok', keep: false },
      { id: 's-30', createdAt: '2026-11-30T02:00:00Z', kind: 'scheduled', status: 'ok', keep: false },
      { id: 's-old', createdAt: '2026-10-01T02:00:00Z', kind: 'scheduled', status: 'ok', keep: false },
    ];
    const now = new Date('2026-11-30T02:05:00Z');
    const off = planRetention(backups, { daily: 7, weekly: 0, monthly: 0, keepLast: 1 }, now, 'UTC');
    expect([...off.remove.keys()]).toEqual(['s-old']);
    expect(off.keep.get('baseline')).toEqual(['manual backup: the purge leaves it (retention.includeManual is off)']);
    expect(off.keep.get('before-migration')).toEqual(['manual backup: the purge leaves it (retention.includeManual is off)']);
    // The manual backup does not take the day's place: the scheduled one of the 29th stays too.
    expect(off.keep.get('s-29')).toEqual(['newest of 2026-11-29']);

    // Only manual backups: the newest good one is still never purged, whatever includeManual says.
    const onlyManual = planRetention(backups.slice(0, 2), { daily: 1, weekly: 0, monthly: 0, keepLast: 1, includeManual: true }, now, 'UTC');
    expect(onlyManual.keep.get('baseline')).toContain('newest good backup');

    const on = planRetention(backups, { daily: 7, weekly: 0, monthly: 0, keepLast: 1, includeManual: true }, now, 'UTC');
    expect([...on.remove.keys()].sort()).toEqual(['before-migration', 's-29', 's-old']);
    expect(on.keep.get('baseline')).toEqual(['newest of 2026-11-29']);
  });

  it('keeps the newest of each of the last months when asked', () => {
    const now = new Date('2026-11-27T12:00:00Z');
    const backups: RetentionCandidate[] = ['2026-11-02', '2026-11-20', '2026-10-05', '2026-10-30', '2026-09-15', '2026-08-01'].map((day) => ({
      id: day,
      createdAt: `${day}T02:00:00Z`,
      kind: 'scheduled',
      status: 'ok',
      keep: false,
    }));
    const { keep } = planRetention(backups, { daily: 0, weekly: 0, monthly: 3, keepLast: 1 }, now, 'UTC');
    expect([...keep.keys()].sort()).toEqual(['2026-09-15', '2026-10-30', '2026-11-20']);
  });
});
