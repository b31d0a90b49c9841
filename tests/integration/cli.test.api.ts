import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Backup } from '../../server/src/contracts/backups';
import { databaseClient, describeOn } from '../helpers/app';
import { CLI, EXAMPLE_APP, runNode } from '../helpers/cli';

/* eslint-disable @typescript-eslint/no-require-imports */
const { createDatabase } = require('../helpers/databases') as {
  createDatabase: (client: string) => Promise<{ name: string; env: Record<string, string>; drop: () => Promise<void> }>;
};
const { appSecrets } = require('../helpers/secrets') as { appSecrets: () => Record<string, string> };
/* eslint-enable @typescript-eslint/no-require-imports */

const appDir = EXAMPLE_APP;

/**
 * The disaster-recovery CLI as an operator runs it: the built dist/cli/index.js in a process of
 * its own, booting tests/app on a fresh database — nothing of Strapi runs in the test process.
 * Its arguments, output and exit codes do not depend on the database: it runs on SQLite only. The
 * CLI's backups, restores and recovery on every engine are in crash.test.api.ts,
 * crash-restore.test.api.ts and import-crash.test.api.ts.
 */
describeOn('sqlite')(`the pacta-backup CLI on ${databaseClient}`, () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let tmp: string;
  let storage: string;
  let env: NodeJS.ProcessEnv;

  /** Runs a node script with the app's environment, stdin not a terminal. */
  const node = (args: string[]) => runNode(args, { env });

  const cli = (...args: string[]) => node([CLI, ...args, '--app', appDir]);

  /** Runs a command with --json; it must succeed and print exactly one JSON document. */
  const json = async <T = Record<string, unknown>>(...args: string[]): Promise<T> => {
    const run = await cli(...args, '--json');
    if (run.code !== 0) throw new Error(`pacta-backup ${args.join(' ')} exited with ${run.code}:\n${run.stderr}`);
    try {
      return JSON.parse(run.stdout) as T;
    } catch {
      throw new Error(`pacta-backup ${args.join(' ')} --json did not print one JSON document:\n${run.stdout}`);
    }
  };

  const archives = () => fs.readdirSync(storage).filter((name) => name.endsWith('.pacta.zip')).sort();

  let first: Backup;

  beforeAll(async () => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build it with npm run build (tsc -p server/tsconfig.cli.json)`);
    database = await createDatabase(databaseClient);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-cli-'));
    storage = path.join(tmp, 'backups');
    fs.mkdirSync(path.join(tmp, 'public', 'uploads'), { recursive: true });
    // Only what this test sets: no DATABASE_* or plugin settings of another test file of the run.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(DATABASE_|PACTA_BACKUP_|PUBLIC_DIR$|ENV_PATH$)/.test(key)));
    env = {
      ...inherited,
      ...appSecrets(),
      ...database.env,
      PUBLIC_DIR: path.join(tmp, 'public'),
      ENV_PATH: path.join(tmp, 'no-such.env'),
      PACTA_BACKUP_STORAGE: storage,
      PACTA_BACKUP_LOG_DIR: path.join(tmp, 'logs'),
      NODE_ENV: 'test',
    };
    const seeded = await node([path.join(appDir, 'scripts', 'seed.js'), '--documents', '10', '--media', '2', '--seed', '5']);
    if (seeded.code !== 0) throw new Error(`the seeder failed (${seeded.code}):\n${seeded.stderr}\n${seeded.stdout}`);
  });

  afterAll(async () => {
    await database?.drop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lists no backups, writes one, lists it and verifies the latest', async () => {
    expect(await json('list')).toEqual([]);

    first = await json<Backup>('backup', '--name', 'From the CLI');
    expect(first).toMatchObject({ id: expect.stringMatching(/^\d{8}-\d{6}-[0-9a-f]{6}$/), name: 'From the CLI', kind: 'manual', status: 'ok' });
    expect(first.counts['api::contract.contract']).toBeGreaterThan(0);
    expect(first.counts['api::tag.tag']).toBeGreaterThan(0);
    expect(first.media.files).toBeGreaterThan(0);
    expect(archives()).toEqual([`${first.id}.pacta.zip`]);

    const listed = await json<Backup[]>('list');
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: first.id, name: 'From the CLI', size: first.size });

    const verified = await json('verify', 'latest');
    expect(verified).toMatchObject({ ok: true, entries: expect.any(Number), manifest: { rows: first.rows, files: first.media.files } });
  });

  it('restores the backup after the data changed, and takes a safety backup first', async () => {
    // Change the data from outside: delete every tag.
    const changed = await node([
      '-e',
      `const { bootApp } = require(${JSON.stringify(path.join(appDir, 'scripts', 'boot.js'))});
       (async () => {
         const strapi = await bootApp({ compile: false, logLevel: 'error' });
         const tags = strapi.documents('api::tag.tag');
         for (const tag of await tags.findMany({ limit: 1000 })) await tags.delete({ documentId: tag.documentId });
         await strapi.destroy();
         process.exit(0);
       })().catch((error) => { console.error(error); process.exit(1); });`,
    ]);
    expect(changed).toMatchObject({ code: 0 });

    const tagsOnly = await json<Backup>('backup', '--content-types', 'api::tag.tag', '--no-media', '--compression', 'none');
    expect(tagsOnly.scope).toMatchObject({ contentTypes: ['api::tag.tag'], media: false });
    expect(tagsOnly.counts['api::tag.tag']).toBe(0);

    const restored = await json('restore', first.id, '--yes');
    expect(restored.safetyBackupId).toEqual(expect.any(String));
    expect(Array.isArray(restored.tables) && restored.tables.length).toBeGreaterThan(0);
    const rows = Object.fromEntries((restored.contentTypes as { uid: string; rows: number }[]).map((ct) => [ct.uid, ct.rows]));
    expect(rows['api::tag.tag']).toBe(first.counts['api::tag.tag']);
    expect(rows['api::contract.contract']).toBe(first.counts['api::contract.contract']);
    expect(archives()).toContain(`${restored.safetyBackupId}.pacta.zip`);

    // The tags are back.
    const after = await json<Backup>('backup', '--content-types', 'api::tag.tag', '--no-media');
    expect(after.counts['api::tag.tag']).toBe(first.counts['api::tag.tag']);
  });

  it('refuses to restore without --yes when not on a terminal, changing nothing', async () => {
    const before = archives();
    const run = await cli('restore', 'latest', '--json');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/--yes/);
    expect(archives()).toEqual(before);
  });

  it('fails with exit code 1 and a message on stderr for an unknown backup', async () => {
    const run = await cli('verify', 'nosuchid', '--json');
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/No backup nosuchid/);
  });

  it('answers a usage error with exit code 2', async () => {
    const unknown = await cli('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/Unknown command "frobnicate"/);

    const badOption = await cli('backup', '--compression', 'max');
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/--compression must be one of none, fast, best/);
  });
});
