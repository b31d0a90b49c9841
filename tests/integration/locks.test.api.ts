import { spawn } from 'node:child_process';
import { LOCAL_HOST } from '../../server/src/engine/owner';
import { databaseClient, startApp, type TestApp } from '../helpers/app';

/** A pid that was just alive and is not any more (the child has exited and been reaped). */
const deadPid = () =>
  new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });

/**
 * Who may take a lock whose holder is not this process: a dead pid of this host at once, a live
 * pid of this host never (even expired: a SQLite restore delays its heartbeat), another host
 * once its heartbeat has expired. And the start-up recovery leaves another host's running job
 * alone while its heartbeat is fresh.
 */
describe(`locks held by other processes on ${databaseClient}`, () => {
  let app: TestApp;
  const locks = () => app.strapi.plugin('pacta-backup').service('locks');
  const jobs = () => app.strapi.plugin('pacta-backup').service('jobs');
  const table = () => app.strapi.db.connection('pacta_backup_locks');
  const host = LOCAL_HOST;
  const HOUR = 3600 * 1000;

  const hold = async (name: string, owner: string, expiresAt: number, doneAt: number | null = null) => {
    await table().where({ name }).del();
    await table().insert({ name, owner, expires_at: expiresAt, done_at: doneAt });
  };
  const ownerOf = async (name: string) => (await table().where({ name }).first()).owner as string;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('takes at once a lock held by a dead pid of this host, whatever its expiry', async () => {
    const dead = `${host}:${await deadPid()}:abcdef`;
    await hold('test-dead', dead, Date.now() + HOUR);
    expect(await locks().acquire('test-dead', 30_000)).toBe(true);
    expect(await ownerOf('test-dead')).toBe(locks().owner);
  });

  it('takes a lock of an earlier process that had this same pid (another suffix)', async () => {
    await hold('test-same-pid', `${host}:${process.pid}:000000`, Date.now() + HOUR);
    expect(locks().owner).not.toBe(`${host}:${process.pid}:000000`);
    expect(await locks().acquire('test-same-pid', 30_000)).toBe(true);
    expect(await ownerOf('test-same-pid')).toBe(locks().owner);
  });

  it('never takes the lock of a live pid of this host, even expired; takes it once that process is gone', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const live = `${host}:${child.pid}:abcdef`;
    try {
      await hold('test-live', live, 0);
      expect(await locks().acquire('test-live', 30_000)).toBe(false);
      expect(await ownerOf('test-live')).toBe(live);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(await locks().acquire('test-live', 30_000)).toBe(true);
  });

  it('takes the lock of another host only once its heartbeat has expired', async () => {
    const remote = 'elsewhere.example:4242:abcdef';
    await hold('test-remote', remote, Date.now() + 30_000);
    expect(await locks().acquire('test-remote', 30_000)).toBe(false);
    await table().where({ name: 'test-remote' }).update({ expires_at: Date.now() - 1 });
    expect(await locks().acquire('test-remote', 30_000)).toBe(true);
  });

  it('never takes a finished occurrence lock, even of a dead process', async () => {
    await hold('test-done', `${host}:${await deadPid()}:abcdef`, 0, Date.now());
    expect(await locks().acquire('test-done', 30_000)).toBe(false);
  });

  it("leaves another host's running job while its heartbeat is fresh, and marks it interrupted once it has expired", async () => {
    const remote = 'elsewhere.example:4242:fedcba';
    const now = Date.now();
    await app.strapi.db.connection('pacta_backup_jobs').insert({
      job_id: 'remote-running-job',
      type: 'backup',
      trigger: 'manual',
      status: 'running',
      phase: 'rows',
      instance: remote,
      started_at: now,
      log: '[]',
    });
    await hold('job', remote, now + 30_000);
    expect((await jobs().recover()).interrupted).toEqual([]);
    expect((await jobs().find('remote-running-job')).status).toBe('running');

    await table().where({ name: 'job' }).update({ expires_at: Date.now() - 1 });
    const recovered = await jobs().recover();
    expect(recovered.interrupted.map((j: { id: string }) => j.id)).toEqual(['remote-running-job']);
    expect(await jobs().find('remote-running-job')).toMatchObject({ status: 'interrupted', phase: 'rows', error: { code: 'INTERRUPTED' } });
    await table().where({ name: 'job' }).del();
  });
});
