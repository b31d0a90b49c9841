import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';

import type { Backup } from '../../server/src/contracts/backups';
import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, describeOn, startApp, type TestApp } from '../helpers/app';
import { CLI, EXAMPLE_APP, killCliWhenPaused, runNode } from '../helpers/cli';
import { hashUploads } from '../helpers/dump';
import { RGW_ACCESS_KEY, RGW_SECRET_KEY, startRgw, type Rgw } from '../helpers/rgw';

/* eslint-disable @typescript-eslint/no-require-imports */
const { createDatabase } = require('../helpers/databases') as {
  createDatabase: (client: string) => Promise<{ name: string; env: Record<string, string>; drop: () => Promise<void> }>;
};
const { appSecrets } = require('../helpers/secrets') as { appSecrets: () => Record<string, string> };
/* eslint-enable @typescript-eslint/no-require-imports */

const BUCKET = 'pacta-offsite';
const PREFIX = 'production/';

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/**
 * The off-site copy against a real S3 server (Ceph's RADOS Gateway, tests/s3/rgw.sh), through the
 * CLI as an operator runs it and through the admin API: each backup is copied to the bucket with
 * its SHA-256; a copy that fails leaves the backup complete, says why (without the secret) and
 * raises the offsite-failed alert; after a disaster a new app with an empty database and only the
 * bucket's credentials lists the bucket, fetches a backup (checked) and restores it; a copy whose
 * bytes do not match is refused; deleting a backup deletes its copy; a backup is copied on demand.
 * The bucket and the copy do not depend on the database engine: SQLite only (restores on every
 * engine are in backup-restore, crash-restore and cross-engine).
 */
describeOn('sqlite')(`off-site copies in an S3 bucket (Ceph RGW) on ${databaseClient}`, () => {
  let rgw: Rgw;
  let tmp: string;
  const sites: Array<{ drop: () => Promise<void> }> = [];

  /** An app's environment: its own database, public and storage folders, the bucket's settings. */
  const site = async (name: string) => {
    const database = await createDatabase(databaseClient);
    sites.push(database);
    const root = path.join(tmp, name);
    fs.mkdirSync(path.join(root, 'public', 'uploads'), { recursive: true });
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(DATABASE_|PACTA_BACKUP_|PUBLIC_DIR$|ENV_PATH$)/.test(key)));
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      ...appSecrets(),
      ...database.env,
      PUBLIC_DIR: path.join(root, 'public'),
      ENV_PATH: path.join(root, 'no-such.env'),
      PACTA_BACKUP_STORAGE: path.join(root, 'backups'),
      PACTA_BACKUP_LOG_DIR: path.join(root, 'logs'),
      ...offsiteEnv(),
      NODE_ENV: 'test',
    };
    const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runNode([CLI, ...args, '--app', EXAMPLE_APP], { env: { ...env, ...extra } });
    const json = async <T = Record<string, unknown>>(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<T> => {
      const run = await cli([...args, '--json'], extra);
      if (run.code !== 0) throw new Error(`pacta-backup ${args.join(' ')} exited with ${run.code}:\n${run.stderr}`);
      return JSON.parse(run.stdout) as T;
    };
    return { root, env, cli, json, storage: path.join(root, 'backups'), publicDir: path.join(root, 'public'), logs: path.join(root, 'logs') };
  };

  let production: Awaited<ReturnType<typeof site>>;
  let copied: Backup;
  let notCopied: Backup;

  /** The bucket's settings, as an app's environment. */
  const offsiteEnv = () => ({
    PACTA_BACKUP_OFFSITE_ENABLED: 'true',
    PACTA_BACKUP_OFFSITE_ENDPOINT: rgw.endpoint,
    PACTA_BACKUP_OFFSITE_BUCKET: BUCKET,
    PACTA_BACKUP_OFFSITE_PREFIX: PREFIX,
    PACTA_BACKUP_S3_ACCESS_KEY_ID: RGW_ACCESS_KEY,
    PACTA_BACKUP_S3_SECRET_ACCESS_KEY: RGW_SECRET_KEY,
  });

  /**
   * The admin API of production's storage folder, as the admin panel sees it: the app booted in
   * the test process (on a database of its own: the list and the alerts read the storage), a
   * super admin logged in. Started when first needed.
   */
  let panel: { app: TestApp; admin: Agent } | undefined;
  const adminApi = async () => {
    if (!panel) {
      const app = await startApp({ storageDir: production.storage, env: offsiteEnv() });
      panel = { app, admin: await loginAsSuperAdmin(app.strapi) };
    }
    return panel.admin;
  };
  const alertsOf = async () => (await (await adminApi()).get('/pacta-backup/alerts')).body.data as Array<{ type: string; backupId?: string; message: string }>;

  beforeAll(async () => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build it with npm run build`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-offsite-'));
    rgw = await startRgw();
    await rgw.createBucket(BUCKET);
    production = await site('production');
    const seeded = await runNode([path.join(EXAMPLE_APP, 'scripts', 'seed.js'), '--documents', '10', '--media', '2', '--seed', '7'], { env: production.env });
    if (seeded.code !== 0) throw new Error(`the seeder failed (${seeded.code}):\n${seeded.stderr}`);
  });

  afterAll(async () => {
    await panel?.app.stop();
    for (const database of sites) await database.drop();
    await rgw?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('copies a new backup to the bucket with the SHA-256 of its bytes', async () => {
    copied = await production.json<Backup>(['backup', '--name', 'Copied off-site']);
    const local = path.join(production.storage, `${copied.id}.pacta.zip`);
    expect(copied.offsite).toMatchObject({ status: 'copied', sha256: sha256(local), location: expect.stringContaining(`s3://${BUCKET}/${PREFIX}`) });

    const head = await rgw.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${copied.id}.pacta.zip` }));
    expect(head.ContentLength).toBe(fs.statSync(local).size);
    expect(head.Metadata?.sha256).toBe(sha256(local));

    const listed = await production.json<Backup[]>(['list']);
    expect(listed.find((b) => b.id === copied.id)?.offsite?.status).toBe('copied');
    const table = await production.cli(['list']);
    expect(table.stdout).toMatch(/off-site/);
  });

  it('keeps a backup whose copy fails, says why and never writes the secret', async () => {
    const wrongSecret = 'wrong-secret-0123456789-abcdefghij';
    const failed = await production.json<Backup>(['backup', '--name', 'Copy refused'], { PACTA_BACKUP_S3_SECRET_ACCESS_KEY: wrongSecret });
    expect(failed.status).toBe('ok');
    expect(fs.existsSync(path.join(production.storage, `${failed.id}.pacta.zip`))).toBe(true);
    expect(failed.offsite).toMatchObject({ status: 'failed', error: expect.stringMatching(/SignatureDoesNotMatch|403|Forbidden|AccessDenied/) });
    expect(failed.offsite?.error).not.toContain(wrongSecret);

    // Nothing of it in the bucket, and no secret in the plugin's logs.
    await expect(rgw.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${failed.id}.pacta.zip` }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    const logs = fs.readdirSync(production.logs).map((name) => fs.readFileSync(path.join(production.logs, name), 'utf8')).join('\n');
    expect(logs).toContain(`off-site copy of ${failed.id} failed`);
    expect(logs).not.toContain(wrongSecret);
    expect(logs).not.toContain(RGW_SECRET_KEY);

    // Without credentials at all: the same, with the variables to set named.
    const missing = await production.json<Backup>(['backup', '--name', 'No credentials'], { PACTA_BACKUP_S3_ACCESS_KEY_ID: '' });
    expect(missing.offsite).toMatchObject({ status: 'failed', error: expect.stringContaining('PACTA_BACKUP_S3_ACCESS_KEY_ID') });

    // The newest backup is not off-site: the alert says so, naming it.
    notCopied = missing;
    const raised = (await alertsOf()).filter((a) => a.type === 'offsite-failed');
    expect(raised).toEqual([expect.objectContaining({ backupId: missing.id, message: expect.stringContaining('PACTA_BACKUP_S3_ACCESS_KEY_ID') })]);
  });

  it('after a disaster, restores a backup from the bucket alone into a new app with an empty database', async () => {
    const fresh = await site('recovered');
    const inBucket = await fresh.json<Array<{ id: string; size: number }>>(['list', '--offsite']);
    expect(inBucket).toEqual([expect.objectContaining({ id: copied.id, size: copied.size })]);

    const fetched = await fresh.json<Backup>(['fetch', 'latest']);
    expect(fetched).toMatchObject({ id: copied.id, name: 'Copied off-site', status: 'ok', rows: copied.rows });
    expect(sha256(path.join(fresh.storage, `${copied.id}.pacta.zip`))).toBe(sha256(path.join(production.storage, `${copied.id}.pacta.zip`)));

    const restored = await fresh.json<{ contentTypes: Array<{ uid: string; rows: number }> }>(['restore', copied.id, '--yes']);
    const rows = Object.fromEntries(restored.contentTypes.map((ct) => [ct.uid, ct.rows]));
    expect(rows).toEqual(copied.counts);
    expect(hashUploads(fresh.publicDir)).toEqual(hashUploads(production.publicDir));

    // Fetched once: a second fetch of the same backup is refused, the local copy left as it is.
    const again = await fresh.cli(['fetch', copied.id]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already in the local storage');
  });

  it('refuses a copy whose bytes do not match its SHA-256, and leaves nothing behind', async () => {
    const fresh = await site('tampered');
    const original = fs.readFileSync(path.join(production.storage, `${copied.id}.pacta.zip`));
    const tampered = Buffer.from(original);
    tampered[Math.floor(tampered.length / 2)] ^= 0xff;
    const id = '20200101-000000-bad000';
    await rgw.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${id}.pacta.zip`, Body: tampered, Metadata: { sha256: createHash('sha256').update(original).digest('hex') } })
    );
    const run = await fresh.cli(['fetch', id]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('damaged');
    const left = fs.existsSync(fresh.storage) ? fs.readdirSync(fresh.storage) : [];
    expect(left.filter((name) => name.endsWith('.pacta.zip') || name.startsWith('.partial'))).toEqual([]);
  });

  it('deletes the copy with the backup (through the admin API)', async () => {
    const backups = await production.json<Backup[]>(['list']);
    expect(backups.length).toBeGreaterThan(1);
    const admin = await adminApi();
    const listed = (await admin.get('/pacta-backup/backups')).body.data as Backup[];
    expect(listed.find((b) => b.id === copied.id)?.offsite).toMatchObject({ status: 'copied', sha256: expect.any(String) });
    const removed = await admin.delete(`/pacta-backup/backups/${copied.id}`);
    expect(removed.status).toBe(200);
    expect(fs.existsSync(path.join(production.storage, `${copied.id}.pacta.zip`))).toBe(false);
    await expect(rgw.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${copied.id}.pacta.zip` }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('copies a backup on demand (made before, or whose copy failed), which clears the alert', async () => {
    const refused = await production.cli(['copy', notCopied.id], { PACTA_BACKUP_S3_SECRET_ACCESS_KEY: 'still-wrong-secret-000000000000' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`The off-site copy of ${notCopied.id} failed`);

    const state = await production.json<{ status: string; sha256: string }>(['copy', notCopied.id]);
    const local = path.join(production.storage, `${notCopied.id}.pacta.zip`);
    expect(state).toMatchObject({ status: 'copied', sha256: sha256(local) });
    const head = await rgw.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${notCopied.id}.pacta.zip` }));
    expect(head.Metadata?.sha256).toBe(sha256(local));
    expect((await production.json<Backup[]>(['list'])).find((b) => b.id === notCopied.id)?.offsite?.status).toBe('copied');
    expect((await alertsOf()).filter((a) => a.type === 'offsite-failed')).toEqual([]);
  });

  it('raises the alert for a newest backup with no copy at all (made before copies were enabled, or a crash stopped its copy)', async () => {
    const local = await production.json<Backup>(['backup', '--name', 'Before off-site'], { PACTA_BACKUP_OFFSITE_ENABLED: 'false' });
    expect(local.offsite).toBeNull();
    const raised = (await alertsOf()).filter((a) => a.type === 'offsite-failed');
    expect(raised).toEqual([expect.objectContaining({ backupId: local.id, message: expect.stringContaining(`pacta-backup copy ${local.id}`) })]);

    expect(await production.json<{ status: string }>(['copy', 'latest'])).toMatchObject({ status: 'copied' });
    expect((await alertsOf()).filter((a) => a.type === 'offsite-failed')).toEqual([]);
  });

  it('deduplicated copies in the bucket: kill -9 while copying and while purging loses nothing; every copy listed comes back and restores, and a purge collects what was left', async () => {
    // A bucket prefix of its own, deduplicated, objects collected as soon as no index names them.
    const extra = { PACTA_BACKUP_OFFSITE_DEDUPLICATE: 'true', PACTA_BACKUP_OFFSITE_PREFIX: 'repository/', PACTA_BACKUP_OFFSITE_COLLECT_AFTER_MINUTES: '0' };
    const repo = await site('repository');
    const env = { ...repo.env, ...extra };
    const seeded = await runNode([path.join(EXAMPLE_APP, 'scripts', 'seed.js'), '--documents', '10', '--media', '2', '--seed', '11'], { env });
    if (seeded.code !== 0) throw new Error(`the seeder failed (${seeded.code}):\n${seeded.stderr}`);
    const json = <T,>(args: string[]) => repo.json<T>(args, extra);
    const listed = async () => (await json<Array<{ id: string; deduplicated: boolean }>>(['list', '--offsite'])).map((c) => c.id).sort();
    const checked = async () => {
      const report = await json<{ damaged: unknown[]; affected: unknown[]; backups: number }>(['check', '--sample', '100']);
      expect(report).toMatchObject({ damaged: [], affected: [] });
      return report;
    };

    const first = await json<Backup>(['backup', '--name', 'First']);
    expect(first.offsite).toMatchObject({ status: 'copied', deduplicated: { sentBytes: expect.any(Number) } });

    // kill -9 in the middle of a copy: at its first write, then at its second (on this small app,
    // where most entries are there already, the second write is an object or the index).
    for (const nth of [1, 2]) {
      await killCliWhenPaused(['backup', '--name', `Killed at write ${nth}`, '--json'], { faults: `write:${nth}:stall`, marker: 'offsite-write', env });
    }
    // Only whole copies are listed, and each one comes back whole (every object read against its SHA-256).
    expect(await listed()).toEqual([first.id]);
    expect((await checked()).backups).toBe(1);
    // The next backup copies the two interrupted ones again, and collects what the dead copies left.
    const next = await json<Backup>(['backup', '--name', 'After the crashes']);
    const all = (await json<Backup[]>(['list'])).map((b) => b.id).sort();
    expect(all).toHaveLength(4);
    expect(await listed()).toEqual(all);

    // Two backups deleted (their indexes go at once); kill -9 as the purge deletes its first
    // object, then (the next purge) its second.
    // (One Strapi per process: production's admin panel, if an earlier test started it, stops first.)
    await panel?.app.stop();
    panel = undefined;
    const repoPanel = await startApp({ storageDir: repo.storage, env: { ...offsiteEnv(), ...extra } });
    try {
      const admin = await loginAsSuperAdmin(repoPanel.strapi);
      for (const id of [first.id, next.id]) expect((await admin.delete(`/pacta-backup/backups/${id}`)).status).toBe(200);
    } finally {
      await repoPanel.stop();
    }
    const kept = all.filter((id) => id !== first.id && id !== next.id);
    expect(await listed()).toEqual(kept);
    const dry = await json<{ offsite: { objects: number; bytes: number; storedBeforeBytes: number; storedAfterBytes: number } }>(['purge', '--dry-run']);
    expect(dry.offsite.objects).toBeGreaterThanOrEqual(2);
    let left = dry.offsite.objects;
    for (const nth of [1, 2]) {
      await killCliWhenPaused(['purge', '--yes', '--json'], { faults: `delete:${nth}:stall`, marker: 'offsite-delete', env });
      left -= nth - 1;
      // Every backup still listed comes back whole.
      expect((await checked()).backups).toBe(kept.length);
    }
    // The dead purge's job lock is taken over at once; the next purge collects the rest.
    expect((await json<{ offsite: { objects: number } }>(['purge', '--yes'])).offsite).toMatchObject({ objects: left });
    expect((await json<{ offsite: { objects: number } }>(['purge', '--dry-run'])).offsite).toMatchObject({ objects: 0 });

    // Every copy left comes back into a new app with an empty database, and the newest restores.
    const fresh = await site('repository-recovered');
    for (const id of kept) expect(await fresh.json<Backup>(['fetch', id], extra)).toMatchObject({ id, status: 'ok' });
    for (const id of kept) expect(sha256(path.join(fresh.storage, `${id}.pacta.zip`))).toBe(sha256(path.join(repo.storage, `${id}.pacta.zip`)));
    const newest = (await json<Backup[]>(['list'])).find((b) => b.id === kept[kept.length - 1])!;
    const restored = await fresh.json<{ contentTypes: Array<{ uid: string; rows: number }> }>(['restore', newest.id, '--yes'], extra);
    expect(Object.fromEntries(restored.contentTypes.map((ct) => [ct.uid, ct.rows]))).toEqual(newest.counts);
    expect(hashUploads(fresh.publicDir)).toEqual(hashUploads(repo.publicDir));
  }, 600_000);
});
