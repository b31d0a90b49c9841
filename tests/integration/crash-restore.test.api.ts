import fs from 'node:fs';
import path from 'node:path';

import type { Backup } from '../../server/src/contracts/backups';
import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, startApp, type TestApp } from '../helpers/app';
import { CLI, runCli } from '../helpers/cli';
import { dumpDatabase, hashUploads } from '../helpers/dump';
import { runJob } from '../helpers/jobs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

type State = { rows: Awaited<ReturnType<typeof dumpDatabase>>; uploads: Record<string, string> };

/**
 * `kill -9` in the middle of a restore, at each point where database and files could part:
 * before the transaction (journal written), in it (rows written), during the file swap, and
 * after the commit. The restore runs in the CLI, a process of its own that kills itself with
 * SIGKILL at the point named by PACTA_BACKUP_TEST_CRASH_AT; the next start (another CLI run)
 * recovers. Afterwards database and uploads are both as before or both as the backup, never a
 * mix, nothing is left in the work folders, and the next job runs at once.
 */
describe(`kill -9 during a restore, on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;
  let backup: Backup;
  let changed: Backup;
  let atBackup: State;
  let atChange: State;
  let savedUploads: string;

  const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: { ...process.env, ...env } });

  const json = async <T,>(args: string[]): Promise<T> => {
    const result = await run([...args, '--json']);
    if (result.code !== 0) throw new Error(`pacta-backup ${args.join(' ')} exited with ${result.code}:\n${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };

  const state = async (): Promise<State> => ({ rows: await dumpDatabase(app.strapi), uploads: hashUploads(app.publicDir) });
  const uploads = () => path.join(app.publicDir, 'uploads');

  beforeAll(async () => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build it with npm run build`);
    app = await startApp();
    await seed(app.strapi, { documents: 12, media: 3, seed: 17 });
    // Logged in before the backups, so that the resets (restores in this process) keep the login.
    admin = await loginAsSuperAdmin(app.strapi);
    backup = await json<Backup>(['backup', '--name', 'Before the changes']);
    atBackup = await state();

    // Changes after the backup, in rows and in files: a tag gone, a contract renamed, a file of
    // the backup rewritten, a file the backup does not have.
    const tags = app.strapi.documents('api::tag.tag');
    const [tag] = await tags.findMany({ limit: 1 });
    await tags.delete({ documentId: tag.documentId });
    const contracts = app.strapi.documents('api::contract.contract');
    const [contract] = await contracts.findMany({ locale: 'en', limit: 1 });
    await contracts.update({ documentId: contract.documentId, locale: 'en', data: { title: 'Renamed after the backup' } as never });
    const [rewritten] = Object.keys(atBackup.uploads).sort();
    fs.writeFileSync(path.join(uploads(), rewritten), 'rewritten after the backup');
    fs.writeFileSync(path.join(uploads(), 'uploaded-after-the-backup.txt'), 'not in the backup');
    atChange = await state();
    savedUploads = fs.mkdtempSync(path.join(path.dirname(app.backupsDir), 'pacta-crash-uploads-'));
    fs.cpSync(uploads(), savedUploads, { recursive: true });
    changed = await json<Backup>(['backup', '--name', 'After the changes']);
  });

  afterAll(async () => {
    await app?.stop();
    if (savedUploads) fs.rmSync(savedUploads, { recursive: true, force: true });
  });

  /**
   * Back to the changed state: its rows from its backup (restored by the app in this process,
   * which saves a CLI boot per test), its uploads folder as it was.
   */
  const resetToChanged = async () => {
    const reset = await runJob(admin, `/pacta-backup/backups/${changed.id}/restore`, { confirm: true });
    expect([reset.status, reset.error]).toEqual(['succeeded', null]);
    fs.rmSync(uploads(), { recursive: true, force: true });
    fs.cpSync(savedUploads, uploads(), { recursive: true });
    expect(await state()).toEqual(atChange);
  };

  it.each([
    ['restore:journal', 'before'],
    ['restore:rows', 'before'],
    ['restore:swap', 'before'],
    ['restore:committed', 'after'],
  ] as const)('killed at %s: database and uploads are both %s the restore', async (point, expected) => {
    await resetToChanged();

    const crashed = await run(['restore', backup.id, '--yes', '--json'], { PACTA_BACKUP_TEST_CRASH_AT: point });
    expect({ code: crashed.code, signal: crashed.signal }).toEqual({ code: null, signal: 'SIGKILL' });
    // Nothing recovered yet: the work folder of the restore is there, with its journal.
    expect(fs.readdirSync(path.join(app.publicDir, '.pacta-restore'))).toHaveLength(1);

    // The next start recovers: database and files agree.
    const listed = await json<Backup[]>(['list']);
    expect(listed.map((b) => b.id)).toEqual(expect.arrayContaining([backup.id, changed.id]));
    expect(await state()).toEqual(expected === 'before' ? atChange : atBackup);
    expect(fs.existsSync(path.join(app.publicDir, '.pacta-restore'))).toBe(false);
    expect(fs.readdirSync(app.backupsDir).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('runs the next restore at once after a crash, and it completes', async () => {
    await resetToChanged();
    const crashed = await run(['restore', backup.id, '--yes'], { PACTA_BACKUP_TEST_CRASH_AT: 'restore:rows' });
    expect(crashed.signal).toBe('SIGKILL');
    const restored = await json<{ safetyBackupId: string; media: { removed: number } }>(['restore', backup.id, '--yes']);
    expect(restored.media.removed).toBe(1);
    expect(await state()).toEqual(atBackup);
    // The file the backup did not have is in the safety backup taken before the restore.
    const safety = await json<Backup[]>(['list']);
    expect(safety.find((b) => b.id === restored.safetyBackupId)?.media.files).toBe(Object.keys(atChange.uploads).length);
  });
});
