import { settingsSchema } from '../../config/schema';
import { cronError, nextRuns, previewSchedule, schedulePreviewQuerySchema, timeZoneError } from '../cron';

describe('schedule preview (GET /schedule/preview)', () => {
  // The clock is fixed so that "next" is the same on every run: Monday 30 November 2026, 10:00 UTC.
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-11-30T10:00:00.000Z'), doNotFake: ['nextTick', 'setImmediate'] });
  });
  afterEach(() => jest.useRealTimers());

  it('lists the next three runs of a daily schedule in the configured time zone, as node-cron reckons them', () => {
    // 02:00 in Madrid is 01:00 UTC in winter; today's 02:00 has passed.
    expect(previewSchedule('0 2 * * *', 'Europe/Madrid')).toEqual({
      valid: true,
      nextRuns: ['2026-12-01T01:00:00.000Z', '2026-12-02T01:00:00.000Z', '2026-12-03T01:00:00.000Z'],
      timezone: 'Europe/Madrid',
    });
    // The same expression in New York: 07:00 UTC, and today's run is still to come.
    expect(previewSchedule('0 2 * * *', 'America/New_York').nextRuns).toEqual([
      '2026-12-01T07:00:00.000Z',
      '2026-12-02T07:00:00.000Z',
      '2026-12-03T07:00:00.000Z',
    ]);
  });

  it('reckons weekday names, steps and the seconds field', () => {
    expect(previewSchedule('0 8 * * MON-FRI', 'UTC').nextRuns).toEqual([
      '2026-12-01T08:00:00.000Z',
      '2026-12-02T08:00:00.000Z',
      '2026-12-03T08:00:00.000Z',
    ]);
    expect(previewSchedule('*/20 * * * *', 'UTC').nextRuns).toEqual([
      '2026-11-30T10:20:00.000Z',
      '2026-11-30T10:40:00.000Z',
      '2026-11-30T11:00:00.000Z',
    ]);
    expect(previewSchedule('30 0 4 * * 0', 'UTC').nextRuns[0]).toBe('2026-12-06T04:00:30.000Z');
    // Leap days only: the runs are years apart.
    expect(nextRuns('0 0 29 2 *', 'UTC', 2).map((d) => d.toISOString())).toEqual(['2028-02-29T00:00:00.000Z', '2032-02-29T00:00:00.000Z']);
  });

  it('refuses what node-cron would refuse, with the reason and no runs', () => {
    const wrongField = previewSchedule('61 2 * * *', 'UTC');
    expect(wrongField).toMatchObject({ valid: false, nextRuns: [] });
    expect(wrongField.error).toMatch(/^is not a cron expression \(minute: /);
    expect(previewSchedule('0 0 31 2 *', 'UTC').error).toMatch(/impossible day of month/);
    expect(previewSchedule('every night', 'UTC').valid).toBe(false);
    expect(previewSchedule('   ', 'UTC')).toMatchObject({ valid: false, error: expect.stringMatching(/^is empty/) });
    expect(previewSchedule(`${'1,'.repeat(150)}2 * * * *`, 'UTC').error).toMatch(/at most 200 characters/);
  });

  it('refuses a time zone that is not an IANA name', () => {
    expect(previewSchedule('0 2 * * *', 'Mars/Olympus')).toEqual({
      valid: false,
      error: '"Mars/Olympus" is not an IANA time zone such as "Europe/Madrid" or "UTC"',
      nextRuns: [],
      timezone: 'Mars/Olympus',
    });
    expect(timeZoneError('Europe/Madrid')).toBeNull();
  });

  it('accepts exactly what the settings schema accepts for a cron field', () => {
    const expressions = ['0 2 * * *', '*/5 * * * *', '0 4 * * 0', '0 4 * * 7', '15 3 1,15 * *', '0 0 * JAN,JUL *', '61 * * * *', '0 25 * * *', '* * *', '0 0 31 2 *', 'nonsense', ''];
    for (const expression of expressions) {
      const bySchema = settingsSchema.safeParse({ schedule: expression }).success;
      expect({ expression, valid: cronError(expression) === null }).toEqual({ expression, valid: bySchema });
    }
  });

  it('needs the expression in the query, and takes nothing else', () => {
    expect(schedulePreviewQuerySchema.safeParse({ expression: '0 2 * * *' }).success).toBe(true);
    expect(schedulePreviewQuerySchema.safeParse({ expression: '0 2 * * *', timezone: 'UTC' }).success).toBe(true);
    expect(schedulePreviewQuerySchema.safeParse({}).success).toBe(false);
    expect(schedulePreviewQuerySchema.safeParse({ expression: '0 2 * * *', extra: '1' }).success).toBe(false);
  });
});
