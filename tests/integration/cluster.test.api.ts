import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { databaseClient } from '../helpers/app';
import { runCli } from '../helpers/cli';
import { appSecrets } from '../helpers/secrets';
import { until, withDeadline } from '../helpers/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createDatabase } = require('../helpers/databases');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const knexFactory = require('knex');

const SCHEDULE_SECONDS = 4;
/** Occurrences both instances must have seen through (one ran it, the other skipped it). */
const SHARED_OCCURRENCES = 3;

interface Instance {
  name: string;
  child: ChildProcessWithoutNullStreams;
  storage: string;
  output: string;
}

/**
 * Two Strapi processes on one database, with the same schedule (every 4 seconds) and one
 * off-site folder (a shared bucket or share): each occurrence is run by exactly one of them; the
 * other records that it skipped it; each backup is copied once; on PostgreSQL, both see the same
 * off-site catalogue and either brings back and restores the other's backup.
 */
describe(`two instances on one ${databaseClient} database`, () => {
  let database: { env: Record<string, string>; drop(): Promise<void> };
  let tmp: string;
  const instances: Instance[] = [];

  /** An instance's environment: the shared database and off-site folder, its own storage and uploads. */
  const envOf = (name: string): NodeJS.ProcessEnv => {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(DATABASE_|PACTA_BACKUP_|PUBLIC_DIR$|ENV_PATH$)/.test(key)));
    return {
      ...inherited,
      ...appSecrets(),
      ...database.env,
      PUBLIC_DIR: path.join(tmp, name, 'public'),
      ENV_PATH: path.join(tmp, 'no-such.env'),
      PACTA_BACKUP_STORAGE: path.join(tmp, name, 'backups'),
      PACTA_BACKUP_LOG_DIR: path.join(tmp, name, 'logs'),
      PACTA_BACKUP_ENABLED: 'true',
      PACTA_BACKUP_SCHEDULE: `*/${SCHEDULE_SECONDS} * * * * *`,
      PACTA_BACKUP_OFFSITE_ENABLED: 'true',
      PACTA_BACKUP_OFFSITE_BACKEND: 'local',
      PACTA_BACKUP_OFFSITE_FOLDER: path.join(tmp, 'offsite'),
      STRAPI_TELEMETRY_DISABLED: 'true',
      NODE_ENV: 'test',
    };
  };
  const archivesIn = (folder: string) => (fs.existsSync(folder) ? fs.readdirSync(folder).filter((file) => file.endsWith('.pacta.zip')).sort() : []);

  const start = (name: string) =>
    new Promise<Instance>((resolve, reject) => {
      const storage = path.join(tmp, name, 'backups');
      fs.mkdirSync(path.join(tmp, name, 'public', 'uploads'), { recursive: true });
      const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'instance.js')], { env: envOf(name) });
      const instance: Instance = { name, child, storage, output: '' };
      child.stdout.on('data', (chunk) => {
        instance.output += chunk;
        if (instance.output.includes('ready')) resolve(instance);
      });
      child.stderr.on('data', (chunk) => {
        instance.output += chunk;
      });
      child.on('exit', (code) => {
        if (!instance.output.includes('ready')) reject(new Error(`instance ${name} exited with ${code}:\n${instance.output}`));
      });
    });

  const stop = (instance: Instance) =>
    new Promise<void>((resolve) => {
      instance.child.on('exit', () => resolve());
      instance.child.stdin.write('stop\n');
    });

  beforeAll(async () => {
    database = await createDatabase(databaseClient);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-cluster-'));
    fs.mkdirSync(path.join(tmp, 'offsite'));
  });

  afterAll(async () => {
    for (const instance of instances) if (instance.child.exitCode === null) instance.child.kill('SIGKILL');
    await database?.drop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('runs each scheduled occurrence once; the other instance records that it skipped it', async () => {
    // The first instance creates the schema; the second boots on it.
    instances.push(await withDeadline('instance a to boot', start('a'), 90_000));
    instances.push(await withDeadline('instance b to boot', start('b'), 90_000));
    const bothUp = Date.now();
    const { client, connection } = connectionOf(database.env);
    const knex = knexFactory({ client, connection, useNullAsDefault: true });
    try {
      // Run until enough occurrences since both were up are done by one instance and recorded as
      // skipped by the other: no fixed sleep, and a clear failure if the schedule stalls.
      const shared = await until(
        `${SHARED_OCCURRENCES} occurrences run by one instance and skipped by the other (every ${SCHEDULE_SECONDS} s)`,
        async () => {
          const done = await knex('pacta_backup_locks').where('name', 'like', 'pacta-backup:backup:%').whereNotNull('done_at').select('name');
          const skips = (await knex('pacta_backup_jobs').where({ type: 'backup', trigger: 'scheduled', status: 'skipped' }).select('result')).map(
            (j: { result: unknown }) => (typeof j.result === 'string' ? j.result : JSON.stringify(j.result))
          );
          const complete = done
            .map((l: { name: string }) => l.name.slice('pacta-backup:backup:'.length))
            .filter((slot: string) => Date.parse(slot) >= bothUp && skips.some((result: string) => result.includes(slot)));
          return complete.length >= SHARED_OCCURRENCES && (complete as string[]);
        },
        { timeoutMs: 90_000, intervalMs: 500 }
      );
      await Promise.all(instances.map((instance) => withDeadline(`instance ${instance.name} to stop`, stop(instance), 90_000)));

      const jobs = await knex('pacta_backup_jobs').where({ type: 'backup', trigger: 'scheduled' }).select('*');
      const locks = await knex('pacta_backup_locks').where('name', 'like', 'pacta-backup:backup:%').select('*');
      const ran = jobs.filter((j: { status: string }) => j.status !== 'skipped');
      const skipped = jobs.filter((j: { status: string }) => j.status === 'skipped');

      // Every occurrence has one lock row, held by the instance that ran it, and done.
      const slots = locks.map((l: { name: string }) => l.name.slice('pacta-backup:backup:'.length)).sort();
      expect(new Set(slots).size).toBe(locks.length);
      expect(locks.every((l: { done_at: unknown }) => l.done_at !== null)).toBe(true);
      expect(shared.every((slot) => slots.includes(slot))).toBe(true);

      // One backup per occurrence, all succeeded, written by the lock's owner.
      expect(ran.length).toBe(locks.length);
      expect(ran.every((j: { status: string }) => j.status === 'succeeded')).toBe(true);
      const owners = new Map(locks.map((l: { name: string; owner: string }) => [l.name, l.owner]));
      expect([...owners.values()].every((owner) => ran.some((j: { instance: string }) => j.instance === owner))).toBe(true);
      for (const slot of shared) {
        // …and the other instance recorded a skip for that same occurrence.
        const owner = owners.get(`pacta-backup:backup:${slot}`);
        const skips = skipped.filter((j: { result: unknown }) => (typeof j.result === 'string' ? j.result : JSON.stringify(j.result)).includes(slot));
        expect({ slot, skips: skips.length, byOther: skips.every((j: { instance: string }) => j.instance !== owner) }).toEqual({ slot, skips: 1, byOther: true });
      }
      // Each run wrote its own backup (the purge after each run then keeps the newest of the day).
      const ids = ran.map((j: { backup_id: string }) => j.backup_id);
      expect(new Set(ids).size).toBe(ran.length);
      expect(ids.every((id: string) => /^\d{8}-\d{6}-[0-9a-f]{6}$/.test(id))).toBe(true);

      // One off-site folder for both: what each instance's storage holds is there, once (the
      // purges removed both copies of the backups they deleted).
      const local = { a: archivesIn(instances[0].storage), b: archivesIn(instances[1].storage) };
      expect(local.a.length + local.b.length).toBeGreaterThanOrEqual(1);
      expect(archivesIn(path.join(tmp, 'offsite'))).toEqual([...local.a, ...local.b].sort());
    } finally {
      await knex.destroy();
    }
  }, 180_000);

  // Two instances on one PostgreSQL and one bucket (here a shared folder: the same backend
  // interface). The copies are checked above on every engine; the four CLI runs of this part on
  // PostgreSQL only, to keep the run short.
  (databaseClient === 'postgres' ? it : it.skip)('both list the same off-site catalogue, and either brings back and restores the other\'s backup', async () => {
    // The instance that wrote the newest backup (one may have won every occurrence), and the other.
    const [a, b] = [...instances].sort((x, y) => (archivesIn(y.storage).at(-1) ?? '').localeCompare(archivesIn(x.storage).at(-1) ?? ''));
    const catalogue = async (instance: Instance) => {
      const listed = await runCli(['list', '--offsite', '--json'], { env: envOf(instance.name) });
      expect(listed.code).toBe(0);
      return (JSON.parse(listed.stdout) as Array<{ id: string }>).map((copy) => copy.id);
    };
    const seen = { a: await catalogue(a), b: await catalogue(b) };
    expect(seen.a).toEqual(seen.b);
    const ofA = archivesIn(a.storage).map((file) => file.replace('.pacta.zip', ''));
    expect(seen.a).toEqual(expect.arrayContaining(ofA));

    // The other brings back that backup, then restores it (the schema and the data of the shared database).
    const id = ofA[ofA.length - 1];
    const fetched = await runCli(['fetch', id, '--json'], { env: envOf(b.name) });
    expect(fetched.code).toBe(0);
    expect(archivesIn(b.storage)).toContain(`${id}.pacta.zip`);
    const restored = await runCli(['restore', id, '--yes', '--json'], { env: envOf(b.name) });
    expect(restored.code).toBe(0);
    const result = JSON.parse(restored.stdout) as { tables: Array<{ inserted: number }> };
    const rows = (JSON.parse(fetched.stdout) as { rows: number }).rows;
    expect(result.tables.reduce((n, t) => n + t.inserted, 0)).toBe(rows);
  }, 180_000);
});

/** The knex connection of the databases helper's env (DATABASE_* variables). */
const connectionOf = (env: Record<string, string>) => {
  const client = env.DATABASE_CLIENT;
  if (client === 'sqlite') return { client: 'better-sqlite3', connection: { filename: env.DATABASE_FILENAME } };
  return {
    client: client === 'postgres' ? 'pg' : 'mysql2',
    connection: { host: env.DATABASE_HOST, port: Number(env.DATABASE_PORT), user: env.DATABASE_USERNAME, password: env.DATABASE_PASSWORD, database: env.DATABASE_NAME },
  };
};
