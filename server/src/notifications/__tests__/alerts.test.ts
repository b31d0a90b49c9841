import knexFactory, { type Knex } from 'knex';

import { LOCK_TABLE } from '../../models';
import type { Alert } from '../../services/monitoring';
import { activeAlerts, alertName, identityOf, syncAlerts } from '../alerts';

const lowSpace: Alert = { type: 'low-space', severity: 'warning', message: 'Low free space', at: '2026-11-30T02:00:00.000Z' };
const failed = (jobId: string): Alert => ({ type: 'failed-job', severity: 'error', message: 'The last backup failed', at: '2026-11-30T02:00:00.000Z', jobId });

describe('syncAlerts (lock table on SQLite)', () => {
  let knex: Knex;

  beforeEach(async () => {
    knex = knexFactory({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true });
    // The lock table as the plugin's model declares it (see models/index.ts).
    await knex.schema.createTable(LOCK_TABLE, (table) => {
      table.increments('id');
      table.string('name').unique();
      table.string('owner');
      table.bigInteger('expires_at');
      table.bigInteger('done_at');
    });
  });

  afterEach(async () => {
    await knex.destroy();
  });

  it('names an alert by type, severity and job', () => {
    expect(alertName(failed('j1'))).toBe('pacta-backup:alert:failed-job:error:j1');
    expect(identityOf(alertName(lowSpace))).toEqual({ type: 'low-space', severity: 'warning' });
    expect(identityOf(alertName(failed('j1')))).toEqual({ type: 'failed-job', severity: 'error', jobId: 'j1' });
  });

  it('reports an alert raised once, cleared once, and raised again when it comes back', async () => {
    expect(await syncAlerts(knex, [lowSpace], { owner: 'a', now: 1 })).toEqual({ raised: [lowSpace], cleared: [] });
    expect(await syncAlerts(knex, [lowSpace, lowSpace], { owner: 'a', now: 2 })).toEqual({ raised: [], cleared: [] });
    expect(await activeAlerts(knex)).toEqual([{ type: 'low-space', severity: 'warning' }]);
    expect(await syncAlerts(knex, [], { owner: 'a', now: 3 })).toEqual({ raised: [], cleared: [{ type: 'low-space', severity: 'warning' }] });
    expect(await syncAlerts(knex, [], { owner: 'a', now: 4 })).toEqual({ raised: [], cleared: [] });
    expect(await activeAlerts(knex)).toEqual([]);
    expect(await syncAlerts(knex, [lowSpace], { owner: 'a', now: 5 })).toEqual({ raised: [lowSpace], cleared: [] });
  });

  it("tells a new job's failure as a new alert and the previous one as cleared", async () => {
    await syncAlerts(knex, [failed('j1')], { owner: 'a' });
    expect(await syncAlerts(knex, [failed('j2')], { owner: 'a' })).toEqual({
      raised: [failed('j2')],
      cleared: [{ type: 'failed-job', severity: 'error', jobId: 'j1' }],
    });
  });

  it('gives each change to one of several instances checking at once', async () => {
    const results = await Promise.all(['a', 'b', 'c'].map((owner) => syncAlerts(knex, [lowSpace], { owner })));
    expect(results.flatMap((r) => r.raised)).toEqual([lowSpace]);
    const cleared = await Promise.all(['a', 'b', 'c'].map((owner) => syncAlerts(knex, [], { owner })));
    expect(cleared.flatMap((r) => r.cleared)).toHaveLength(1);
  });

  it('keeps an active alert out of the lock prune (it never expires); a cleared one carries its time', async () => {
    await syncAlerts(knex, [lowSpace], { owner: 'a', now: 10 });
    expect(Number((await knex(LOCK_TABLE).first()).expires_at)).toBe(Number.MAX_SAFE_INTEGER);
    await syncAlerts(knex, [], { owner: 'a', now: 20 });
    expect(Number((await knex(LOCK_TABLE).first()).done_at)).toBe(20);
  });
});
