import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Core } from '@strapi/strapi';
import { errors } from '@strapi/utils';

import pkg from '../../../package.json';
import type {
  Backup,
  CreateBackupBody,
  DrillState,
  JobTrigger,
  OffsiteCatalogue,
  OffsiteState,
  PurgeEntry,
  PurgeResult,
  RestoreBody,
  StorageInfo,
} from '../contracts/backups';
import { openArchive, readManifest } from '../engine/archive';
import { archiveName, runBackup, sha256OfFile } from '../engine/backup';
import { forgetMediaHashes, MEDIA_HASHES_FILE, readMediaHashes, writeMediaHashes } from '../engine/media';
import { EngineError } from '../engine/errors';
import type { Manifest } from '../engine/manifest';
import { backendLocation, createBackend, type Backend, type BackendOptions } from '../engine/backends';
import { checkRepository, collectGarbage, fetchChunked, INDEX_SUFFIX, indexName, putChunked, readIndex } from '../engine/backends/chunked';
import { planRetention } from '../engine/retention';
import { recoverFileSwaps } from '../engine/journal';
import { runRestore, type CommitMarker } from '../engine/restore';
import { createLocalStorage, type StoredFile } from '../engine/storage';
import type { Dialect } from '../engine/values';
import { LOCK_TABLE } from '../models';
import { getService } from '../utils';
import { assertContentTypes } from '../validation/backups';
import type { JobContext } from './jobs';
import { INSTANCE_ID } from './locks';

const ARCHIVE = /^(.+)\.pacta\.zip$/;
const LIST_CONCURRENCY = 4;
/** Earlier backups whose off-site copy failed, copied again after a new backup's copy succeeds (see retryOffsite). */
const OFFSITE_RETRIES = 5;

const newId = (now = new Date()) =>
  `${now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-${randomBytes(3).toString('hex')}`;

export interface BackupRequest {
  name?: string;
  contentTypes?: string[];
  media: boolean;
  adminUsers: boolean;
  config: boolean;
  compression: 'none' | 'fast' | 'best';
  encrypt: boolean;
}

/**
 * Backups as the admin API and the CLI see them: the catalogue (read from the stored archives,
 * which are the truth), and the backup, verify and restore jobs that drive the engine.
 */
/** A backup off-site, in either form: one archive object, or (deduplicated) an index and objects. */
export interface OffsiteCopy {
  id: string;
  size: number;
  modifiedAt: Date;
  deduplicated: boolean;
}

const createBackupsService = ({ strapi }: { strapi: Core.Strapi }) => {
  const manifests = new Map<string, { key: string; manifest: Manifest } | { key: string; error: Error }>();

  const config = () => getService('config', { strapi });
  const storage = () => createLocalStorage(config().storageFolder());
  const passphrase = () => process.env[config().get().encryptionKeyEnv] || null;
  const dialect = () => strapi.db.dialect.client as Dialect;
  const publicDir = () => strapi.dirs.static.public;
  /** The off-site backend's options, its folder resolved from the app root. */
  const offsiteOptions = (): BackendOptions => {
    const options = config().get().offsite;
    return { ...options, folder: options.folder ? path.resolve(strapi.dirs.app.root, options.folder) : undefined };
  };
  const offsiteEnabled = () => config().get().offsite.enabled;
  const withTarget = async <T>(options: BackendOptions, task: (target: Backend) => Promise<T>): Promise<T> => {
    const target = createBackend(options);
    try {
      return await task(target);
    } finally {
      target.close();
    }
  };
  /**
   * Runs a task with the off-site backend (a bucket or a folder), its connections closed after
   * it; throws OFFSITE_FAILED when an S3 backend's credentials are missing.
   */
  /** The objects the last off-site check found damaged (a copy sends them again). */
  const damagedOffsiteObjects = async (): Promise<Set<string>> => {
    // The last check that ran (here or on another instance; not one that skipped its occurrence).
    const last = (await getService('jobs', { strapi }).history({ type: 'check', limit: 10 })).find((job) => job.result?.check);
    const damaged = (last?.result?.check as { damaged?: Array<{ name: string }> } | undefined)?.damaged ?? [];
    return new Set(damaged.map((item) => item.name));
  };
  const withOffsite = async <T>(task: (target: Backend) => Promise<T>): Promise<T> => {
    if (!offsiteEnabled()) throw new errors.ValidationError('Off-site copies are not enabled (offsite.enabled in config/plugins)');
    return withTarget(offsiteOptions(), task);
  };

  /**
   * The manifest of a stored archive, read once per version of the file (size and mtime) and per
   * key: failures are remembered too, so a damaged archive (a manifest bomb, a wrong key) costs
   * one read, not one per listing.
   */
  const manifestOf = async (file: StoredFile) => {
    const secret = passphrase();
    const key = `${file.size}:${file.modifiedAt.getTime()}:${secret ? createHash('sha256').update(secret).digest('hex').slice(0, 16) : '-'}`;
    const cached = manifests.get(file.name);
    if (cached?.key === key) {
      if ('error' in cached) throw cached.error;
      return cached.manifest;
    }
    try {
      const manifest = await readManifest(await storage().localPath(file.name), { passphrase: secret });
      manifests.set(file.name, { key, manifest });
      return manifest;
    } catch (error) {
      manifests.set(file.name, { key, error: error as Error });
      throw error;
    }
  };

  const toBackup = async (file: StoredFile): Promise<Backup> => {
    const id = ARCHIVE.exec(file.name)![1];
    const meta = (await storage().readMeta(file.name)) ?? {};
    try {
      const manifest = await manifestOf(file);
      return {
        id,
        name: manifest.name,
        createdAt: manifest.createdAt,
        kind: manifest.kind,
        status: manifest.media.missing.length ? 'warning' : 'ok',
        ...(manifest.warnings.length ? { warnings: manifest.warnings } : {}),
        scope: manifest.scope,
        size: file.size,
        compression: manifest.compression,
        encrypted: Boolean(manifest.encryption),
        verifiedAt: (meta.verifiedAt as string) ?? null,
        keep: meta.keep === true,
        drill: (meta.drill as DrillState) ?? null,
        offsite: (meta.offsite as OffsiteState) ?? null,
        counts: Object.fromEntries(manifest.contentTypes.map((ct) => [ct.uid, ct.rows])),
        rows: manifest.totals.rows,
        media: { files: manifest.media.files, bytes: manifest.media.bytes },
        database: manifest.database.client,
        strapiVersion: manifest.strapi.version,
        pluginVersion: manifest.plugin.version,
      };
    } catch (error) {
      // An encrypted archive the configured key cannot open (NO_KEY, WRONG_KEY) is listed as
      // locked: in its place from the clear envelope, with the reason, and without content.
      const envelope = (error instanceof EngineError ? error.details?.envelope : undefined) as
        | { kind: Manifest['kind']; createdAt: string }
        | undefined;
      const locked = error instanceof EngineError && (error.code === 'NO_KEY' || error.code === 'WRONG_KEY');
      return {
        id,
        name: id,
        createdAt: envelope?.createdAt ?? file.modifiedAt.toISOString(),
        kind: envelope?.kind ?? 'manual',
        status: 'damaged',
        ...(locked ? { locked: true } : {}),
        scope: { contentTypes: [], media: false, adminUsers: false, config: false },
        size: file.size,
        compression: 'none',
        encrypted: Boolean(envelope),
        verifiedAt: null,
        keep: meta.keep === true,
        drill: (meta.drill as DrillState) ?? null,
        offsite: (meta.offsite as OffsiteState) ?? null,
        counts: {},
        rows: 0,
        media: { files: 0, bytes: 0 },
        database: 'unknown',
        strapiVersion: 'unknown',
        pluginVersion: 'unknown',
        error: locked ? `Locked: ${(error as Error).message}` : (error as Error).message,
      };
    }
  };

  const findFile = async (id: string) => {
    if (!/^[0-9A-Za-z-]+$/.test(id)) throw new errors.NotFoundError(`No backup ${id}`);
    const file = await storage().stat(archiveName(id));
    if (!file) throw new errors.NotFoundError(`No backup ${id}`);
    return file;
  };

  /** An upper bound of the archive size: the database plus the media it names. */
  const estimate = async () => {
    const knex = strapi.db.connection;
    let database = 0;
    if (dialect() === 'sqlite') {
      const file = (strapi.db.config.connection.connection as { filename: string }).filename;
      database = (await fs.promises.stat(file)).size;
    } else if (dialect() === 'postgres') {
      database = Number((await knex.raw('SELECT pg_database_size(current_database()) AS size')).rows[0].size);
    } else {
      const [rows] = await knex.raw('SELECT SUM(data_length + index_length) AS size FROM information_schema.TABLES WHERE table_schema = DATABASE()');
      database = Number(rows[0].size ?? 0);
    }
    const [{ kb }] = await knex('files').sum({ kb: 'size' });
    return Math.ceil(database + Number(kb ?? 0) * 1024 * 2);
  };

  /**
   * The commit marker of a restore's file journal (engine/journal.ts): a row of the plugin's lock
   * table, written in the restore's transaction, so it exists after a crash exactly when the
   * rows committed.
   */
  const markerName = (swapId: string) => `restore-commit:${swapId}`;
  const marker: CommitMarker = {
    mark: async (trx, swapId) => {
      await trx(LOCK_TABLE).insert({ name: markerName(swapId), owner: INSTANCE_ID, expires_at: Date.now(), done_at: Date.now() });
    },
    committed: async (swapId) => Boolean(await strapi.db.connection(LOCK_TABLE).where({ name: markerName(swapId) }).first()),
    forget: async (swapId) => {
      await strapi.db.connection(LOCK_TABLE).where({ name: markerName(swapId) }).del();
    },
  };

  /**
   * Brings a backup back from the off-site copy into the local storage, its SHA-256 checked
   * on the way; it is then listed, verified and restored like any other. A backup already here
   * is left as it is.
   */
  const fetchInto = async (target: Backend, id: string, onProgress?: (received: number, total: number) => void): Promise<Backup> => {
    if (!/^[0-9A-Za-z-]+$/.test(id)) throw new errors.NotFoundError(`No backup ${id}`);
    const name = archiveName(id);
    const here = await storage().stat(name);
    if (here) throw new errors.ValidationError(`Backup ${id} is already in the local storage`);
    const temp = await storage().tempPath(name);
    try {
      // The archive as one object, or (deduplicated copies) assembled from its index and objects.
      const whole = await target.stat(name);
      if (!whole && !(await target.stat(indexName(id)))) throw new EngineError('NOT_FOUND', `Off-site storage ${target.location} has no backup ${id}`);
      const { sha256 } = whole ? await target.fetch(name, temp, onProgress) : await fetchChunked(target, id, temp, onProgress);
      // Opens as an archive before it is listed: a copy that is no backup never enters the catalogue.
      await readManifest(temp, { passphrase: passphrase() }).catch((error: unknown) => {
        if (error instanceof EngineError && (error.code === 'NO_KEY' || error.code === 'WRONG_KEY')) return null;
        throw error;
      });
      await storage().commit(temp, name);
      await storage().writeMeta(name, {
        offsite: { status: 'copied', at: new Date().toISOString(), location: target.location, sha256 } satisfies OffsiteState,
      });
    } finally {
      await fs.promises.rm(temp, { force: true });
    }
    return toBackup((await storage().stat(name))!);
  };

  const service = {
    storage,
    /** The commit marker of restore and import file journals (rows in the plugin's lock table). */
    marker,
    passphrase,

    /** The local path of a stored backup's archive. */
    async archivePath(id: string) {
      return storage().localPath((await findFile(id)).name);
    },

    /** A stored backup's manifest (read once per version of the file); null when unreadable. */
    async manifest(id: string): Promise<Manifest | null> {
      const file = await findFile(id).catch(() => null);
      if (!file) return null;
      return manifestOf(file).catch(() => null);
    },

    /**
     * Finishes the file changes of restores a crash interrupted: forward where their rows
     * committed, back where they did not. At start only the folders of processes that are gone;
     * `all` when the caller holds the job lock (no restore can be running).
     */
    async recoverRestores({ all = false }: { all?: boolean } = {}) {
      const recovered = await recoverFileSwaps({ publicDir: publicDir(), ...marker, all });
      const logger = getService('logger', { strapi }).get();
      for (const r of recovered) logger.warn(`restore ${r.id} was interrupted: its media files were ${r.action} (${r.changes} changes)`);
      return recovered;
    },

    async list(): Promise<Backup[]> {
      const files = (await storage().list()).filter((f) => ARCHIVE.test(f.name));
      // A few at a time: an encrypted manifest costs a key derivation (scrypt, 32 MB) to open.
      const backups: Backup[] = [];
      for (let i = 0; i < files.length; i += LIST_CONCURRENCY) backups.push(...(await Promise.all(files.slice(i, i + LIST_CONCURRENCY).map(toBackup))));
      return backups.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    },

    async get(id: string) {
      const file = await findFile(id);
      const backup = await toBackup(file);
      return { ...backup, manifest: backup.status !== 'damaged' ? await manifestOf(file) : null };
    },

    /** Deletes a backup, and its off-site copy when it has one (retention applies to both). */
    async remove(id: string) {
      const file = await findFile(id);
      const meta = await storage().readMeta(file.name);
      if ((meta?.offsite as OffsiteState | undefined)?.status === 'copied' && offsiteEnabled()) {
        try {
          await withOffsite(async (target) => {
            await target.delete(file.name);
            // A deduplicated copy: its index goes; its objects, when no other index names them, at the next collection.
            await target.delete(indexName(ARCHIVE.exec(file.name)![1]));
          });
        } catch (error) {
          getService('logger', { strapi })
            .get()
            .warn(`could not delete the off-site copy of ${id}: ${(error as Error).message}`, { backupId: id });
        }
      }
      await storage().delete(file.name);
      manifests.delete(file.name);
    },

    /**
     * Copies a stored backup to the off-site backend (a bucket or a folder) and records how it went in the backup's
     * metadata (shown in the list; a failure raises the offsite-failed alert). Never throws: the
     * backup itself is complete and verified whatever happens to its copy.
     */
    async copyOffsite(
      id: string,
      context?: Pick<JobContext, 'log' | 'progress'>,
      /** The archive's SHA-256 as the backup that just wrote and verified it computed (else read from the file). */
      { sha256: written }: { sha256?: string } = {}
    ): Promise<OffsiteState | null> {
      if (!offsiteEnabled()) return null;
      const file = await findFile(id);
      const location = backendLocation(offsiteOptions());
      const started = Date.now();
      // Recorded first: a copy a crash stops stays `pending`, and the next backup copies it again.
      await service.updateMeta(id, { offsite: { status: 'pending', at: new Date().toISOString(), location } satisfies OffsiteState });
      let state: OffsiteState;
      try {
        const local = await storage().localPath(file.name);
        const sha256 = written ?? (await sha256OfFile(local));
        context?.progress({ phase: 'offsite', done: 0, total: file.size, bytes: 0 });
        const progress = (sent: number, total: number) => context?.progress({ phase: 'offsite', done: sent, total, bytes: sent });
        const copy = await withOffsite(async (target) => {
          if (!config().get().offsite.deduplicate) return target.put(file.name, local, sha256, progress);
          // Objects the last check found damaged are sent again, not reused: the copy repairs them.
          const resend = await damagedOffsiteObjects();
          const result = await putChunked(target, { file: local, id, sha256, resend }, progress);
          // A whole-archive copy of the same backup (made before deduplication was on) is replaced by the index.
          await target.delete(file.name);
          return result;
        });
        state = { status: 'copied', at: new Date().toISOString(), location, sha256, seconds: Math.round((Date.now() - started) / 100) / 10 };
        if (copy) state.deduplicated = { sentBytes: copy.sent.bytes, reusedBytes: copy.reused.bytes };
        context?.log(
          `copied ${file.name} off-site to ${location} in ${state.seconds} s${
            copy ? ` (deduplicated: ${copy.sent.bytes} bytes sent in ${copy.sent.objects} objects, ${copy.reused.bytes} bytes already there in ${copy.reused.objects})` : ''
          }`
        );
      } catch (error) {
        state = { status: 'failed', at: new Date().toISOString(), location, error: (error as Error).message };
        context?.log(`the off-site copy failed: ${state.error}`);
        getService('logger', { strapi })
          .get()
          .error(`off-site copy of ${id} failed: ${state.error}`, { backupId: id });
      }
      await service.updateMeta(id, { offsite: state });
      return state;
    },

    /**
     * Copies again the backups whose copy failed or was interrupted (a crash left it `pending`),
     * newest first and at most OFFSITE_RETRIES per call, so an outage of the bucket or the share
     * heals with the next backup instead of leaving a hole in the off-site history. Backups never
     * copied (made before copies were enabled) are left to `pacta-backup copy`. Stops at the
     * first failure: the target is still unwell.
     */
    async retryOffsite(context?: Pick<JobContext, 'log' | 'progress'>): Promise<{ copied: string[]; failed: string[] }> {
      const result = { copied: [] as string[], failed: [] as string[] };
      if (!offsiteEnabled()) return result;
      const waiting = (await service.list()).filter(
        (backup) => backup.status !== 'damaged' && (backup.offsite?.status === 'failed' || backup.offsite?.status === 'pending')
      );
      for (const backup of waiting.slice(0, OFFSITE_RETRIES)) {
        const state = await service.copyOffsite(backup.id, context);
        if (state?.status !== 'copied') {
          result.failed.push(backup.id);
          break;
        }
        result.copied.push(backup.id);
      }
      if (result.copied.length) context?.log(`copied off-site ${result.copied.length} earlier backup(s) whose copy had failed or was interrupted: ${result.copied.join(', ')}`);
      return result;
    },

    /**
     * Where off-site copies go, as Settings shows it (read-only there): the backend, and its
     * location when config/plugins.ts names one (a bucket, or a folder); never a credential.
     */
    offsiteTarget(): { backend: 'local' | 's3'; location: string | null } {
      const options = offsiteOptions();
      const named = options.backend === 'local' ? Boolean(options.folder) : Boolean(options.bucket);
      return { backend: options.backend, location: named ? backendLocation(options) : null };
    },

    /**
     * Tests the off-site location before an admin relies on it (enabled or not): writes a probe
     * object, reads it back through the same checks as a backup's copy, and deletes it. Answers
     * how it went, never throws for the target's failure.
     */
    async testOffsite(): Promise<{ ok: boolean; location: string; seconds: number; error?: string }> {
      const { location } = service.offsiteTarget();
      if (!location) {
        throw new errors.ValidationError('No off-site location in config/plugins.ts: set offsite.bucket (S3) or offsite.folder (backend local)');
      }
      const started = Date.now();
      const scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'pacta-probe-'));
      const name = `probe-${randomBytes(6).toString('hex')}.pacta-probe`;
      try {
        const probe = path.join(scratch, 'probe');
        await fs.promises.writeFile(probe, randomBytes(64 * 1024), { mode: 0o600 });
        const sha256 = await sha256OfFile(probe);
        await withTarget(offsiteOptions(), async (target) => {
          await target.put(name, probe, sha256);
          try {
            await target.fetch(name, path.join(scratch, 'back'));
          } finally {
            await target.delete(name);
          }
        });
        return { ok: true, location, seconds: Math.round((Date.now() - started) / 100) / 10 };
      } catch (error) {
        return { ok: false, location, seconds: Math.round((Date.now() - started) / 100) / 10, error: (error as Error).message };
      } finally {
        await fs.promises.rm(scratch, { recursive: true, force: true });
      }
    },

    /**
     * The off-site catalogue for the admin panel: the backups the backend holds, each marked
     * when it is also here. A backend that cannot be listed answers its error, not a failure.
     */
    async offsiteCatalogue(): Promise<OffsiteCatalogue> {
      if (!offsiteEnabled()) return { enabled: false, backups: [], bytes: 0 };
      const { backend, location } = service.offsiteTarget();
      try {
        const copies = await service.offsiteList();
        const here = new Set((await storage().list()).map((file) => file.name));
        const backups = copies.map((copy) => ({
          id: copy.id,
          size: copy.size,
          modifiedAt: copy.modifiedAt.toISOString(),
          local: here.has(archiveName(copy.id)),
        }));
        return { enabled: true, backend, location, backups, bytes: backups.reduce((n, b) => n + b.size, 0) };
      } catch (error) {
        return { enabled: true, backend, location, backups: [], bytes: 0, error: (error as Error).message };
      }
    },

    /**
     * Brings a backup back from off-site as a job (`fetch`, with its bytes as progress): an
     * archive of gigabytes takes minutes, longer than a request should wait. Refused at the door
     * when copies are off, the id is no backup id, or the backup is here already.
     */
    async startFetch(id: string, { trigger = 'manual' }: { trigger?: JobTrigger } = {}) {
      if (!offsiteEnabled()) throw new errors.ValidationError('Off-site copies are not enabled (offsite.enabled)');
      if (!/^[0-9A-Za-z-]+$/.test(id)) throw new errors.NotFoundError(`No backup ${id}`);
      if (await storage().stat(archiveName(id))) throw new errors.ValidationError(`Backup ${id} is already in the local storage`);
      return getService('jobs', { strapi }).start(
        'fetch',
        async (context) => {
          context.progress({ phase: 'fetch', done: 0, total: 0, bytes: 0 });
          const started = Date.now();
          const backup = await withOffsite((target) =>
            fetchInto(target, id, (received, total) => context.progress({ phase: 'fetch', done: received, total, bytes: received }))
          );
          context.job.backupId = backup.id;
          context.log(`fetched ${archiveName(id)} from ${backup.offsite?.location} in ${Math.round((Date.now() - started) / 100) / 10} s, its SHA-256 checked`);
          context.measure({ bytes: backup.size, rows: backup.rows });
          return { backup } as Record<string, unknown>;
        },
        { trigger }
      );
    },

    /** The archives in the off-site backend, read from it alone (disaster recovery). */
    async offsiteList(): Promise<OffsiteCopy[]> {
      return withOffsite(async (target) => {
        const copies = new Map<string, OffsiteCopy>();
        const objects = await target.list();
        for (const object of objects) {
          const archive = ARCHIVE.exec(object.name);
          if (archive) copies.set(archive[1], { id: archive[1], size: object.size, modifiedAt: object.modifiedAt, deduplicated: false });
        }
        for (const object of objects) {
          if (!object.name.endsWith(INDEX_SUFFIX)) continue;
          const id = object.name.slice(0, -INDEX_SUFFIX.length);
          if (copies.has(id)) continue;
          // The archive's size is in its index (a few KB per hundred entries).
          const index = await readIndex(target, object.name);
          copies.set(id, { id, size: index.size, modifiedAt: object.modifiedAt, deduplicated: true });
        }
        return [...copies.values()].sort((a, b) => b.id.localeCompare(a.id));
      });
    },

    /**
     * The second phase of the off-site purge: deletes the objects of deduplicated copies that no
     * index names any more (their backups deleted by retention or a person), older than an hour.
     * Called in a backup job, after its copy: the job lock is held, so no copy of this app runs.
     */
    async collectOffsite(context?: Pick<JobContext, 'log'>, { dryRun = false, without = [] }: { dryRun?: boolean; without?: string[] } = {}) {
      if (!offsiteEnabled()) return null;
      const collected = await withOffsite((target) =>
        // Objects no index names are collected once this old (a copy elsewhere may be writing younger ones).
        collectGarbage(target, { marginMs: config().get().offsite.collectAfterMinutes * 60_000, dryRun, without: without.map((id) => indexName(id)) })
      );
      if (collected.deleted.length) {
        const line = `off-site: ${dryRun ? 'would delete' : 'deleted'} ${collected.deleted.length} objects no backup uses (${collected.bytes} bytes); ${collected.kept} kept; ${collected.before.storedBytes} bytes stored before, ${collected.after.storedBytes} after`;
        if (context) context.log(line);
        else getService('logger', { strapi }).get()[dryRun ? 'debug' : 'info'](line);
      }
      return collected;
    },

    /**
     * The off-site repository check as a job (`check`): every index read, every object it names
     * looked for, `samplePercent` of the objects (offsite.check.samplePercent by default) read
     * whole against their SHA-256. Changes nothing. Damage fails the job, naming the backups
     * whose copy would not come back (the offsite-damaged alert); the report is its result.
     */
    async startCheck({ samplePercent, trigger = 'manual' }: { samplePercent?: number; trigger?: JobTrigger } = {}) {
      if (!offsiteEnabled()) throw new errors.ValidationError('Off-site copies are not enabled (offsite.enabled)');
      const percent = samplePercent ?? config().get().offsite.check.samplePercent;
      return getService('jobs', { strapi }).start(
        'check',
        async (context) => {
          context.progress({ phase: 'check', done: 0, total: 0, bytes: 0 });
          const check = await withOffsite((target) =>
            checkRepository(target, { samplePercent: percent, onProgress: (done, total) => context.progress({ phase: 'check', done, total, bytes: done }) })
          );
          const { damaged, affected, sampled, ...figures } = check;
          context.log(
            `off-site: ${figures.backups} backups in ${figures.objects} objects (${figures.storedBytes} bytes stored for ${figures.logicalBytes} bytes of archives); ` +
              `${sampled.objects} objects read whole (${sampled.bytes} bytes, ${percent} %); ${damaged.length} damaged`
          );
          for (const item of damaged.slice(0, 20)) context.log(`damaged: ${item.name}: ${item.reason}`);
          context.measure({ bytes: sampled.bytes });
          const result = { check, offsiteRepository: { ...figures, at: new Date().toISOString() } };
          if (damaged.length) {
            const error = new EngineError(
              'CHECKSUM',
              `The off-site copies are damaged: ${damaged.length} ${damaged.length === 1 ? 'object' : 'objects'} (${damaged
                .slice(0, 3)
                .map((d) => `${d.name} ${d.reason}`)
                .join('; ')}); backups that would not come back: ${affected.join(', ') || 'none'}`
            );
            Object.assign(error, { jobResult: result });
            throw error;
          }
          return result;
        },
        { trigger }
      );
    },

    /** Brings a backup back from off-site (see fetchInto). */
    async fetchOffsite(id: string): Promise<Backup> {
      return withOffsite((target) => fetchInto(target, id));
    },

    /** Marks a backup keep (retention never deletes it) or lets retention decide again. */
    async setKeep(id: string, keep: boolean): Promise<Backup> {
      const file = await findFile(id);
      await service.updateMeta(id, { keep });
      return toBackup(file);
    },

    /** Merges fields into a backup's sidecar metadata (verified, keep, drill). */
    async updateMeta(id: string, fields: Record<string, unknown>) {
      const file = await findFile(id);
      await storage().writeMeta(file.name, { ...((await storage().readMeta(file.name)) ?? {}), ...fields });
    },

    /**
     * Applies the retention policy: deletes the backups it does not keep (or lists them, with
     * dryRun) and removes temporary files of interrupted backups older than an hour.
     */
    async purge({ dryRun = false, now = new Date(), offsite: collect = 'auto' }: { dryRun?: boolean; now?: Date; offsite?: boolean | 'auto' } = {}): Promise<PurgeResult> {
      const { retention, timezone } = config().get();
      const backups = await service.list();
      const decision = planRetention(backups, retention, now, timezone);
      const entry = (backup: Backup, reasons: string[]): PurgeEntry => ({
        id: backup.id,
        name: backup.name,
        createdAt: backup.createdAt,
        kind: backup.kind,
        size: backup.size,
        reasons,
      });
      const kept = backups.filter((b) => decision.keep.has(b.id)).map((b) => entry(b, decision.keep.get(b.id)!));
      const removed = backups.filter((b) => decision.remove.has(b.id)).map((b) => entry(b, decision.remove.get(b.id)!));
      const logger = getService('logger', { strapi }).get();
      let temporary: string[] = [];
      if (!dryRun) {
        for (const backup of removed) {
          await service.remove(backup.id);
          logger.info(`purge: deleted ${backup.id} (${backup.reasons.join(', ')})`, { backupId: backup.id, size: backup.size });
        }
        // A backup being written here right now is never touched (its file changes all the time).
        temporary = getService('jobs', { strapi }).running()?.type === 'backup' ? [] : await storage().cleanTemp(3600 * 1000);
      }
      // The second phase off-site: the objects of the backups gone (in a dry run, of those that would go).
      let offsite: PurgeResult['offsite'] = null;
      // 'auto' (the scheduled purge, right after a backup job that collected already): only when
      // this purge deleted backups. Asked for (the CLI, the API): always.
      if ((collect === true || (collect === 'auto' && !dryRun && removed.length > 0)) && offsiteEnabled()) {
        const run = () => service.collectOffsite(undefined, { dryRun, without: dryRun ? removed.map((b) => b.id) : [] });
        try {
          const collected = dryRun ? await run() : await getService('jobs', { strapi }).exclusive('off-site collection', run);
          offsite = collected
            ? { objects: collected.deleted.length, bytes: collected.bytes, storedBeforeBytes: collected.before.storedBytes, storedAfterBytes: collected.after.storedBytes }
            : { objects: 0, bytes: 0, storedBeforeBytes: 0, storedAfterBytes: 0, skipped: 'a backup, restore or other job is running: the next backup collects them' };
        } catch (error) {
          offsite = { objects: 0, bytes: 0, storedBeforeBytes: 0, storedAfterBytes: 0, error: (error as Error).message };
          logger.error(`purge: the off-site collection failed: ${(error as Error).message}`);
        }
      }
      const result = { dryRun, kept, removed, temporary, freedBytes: dryRun ? 0 : removed.reduce((n, b) => n + b.size, 0), offsite };
      // A dry run is what the backups list asks for at each load: not worth a line at info.
      logger[dryRun ? 'debug' : 'info'](`purge${dryRun ? ' (dry run)' : ''}: ${kept.length} kept, ${removed.length} ${dryRun ? 'would go' : 'deleted'}`, {
        kept: kept.length,
        removed: removed.length,
        freedBytes: result.freedBytes,
      });
      return result;
    },

    async download(id: string) {
      const file = await findFile(id);
      return { name: file.name, size: file.size, stream: storage().createReadStream(file.name) };
    },

    async storageInfo(): Promise<StorageInfo> {
      const store = storage();
      const files = (await store.list()).filter((f) => ARCHIVE.test(f.name));
      const space = await store.space();
      return {
        type: store.type,
        location: store.location,
        used: files.reduce((n, f) => n + f.size, 0),
        free: space.free,
        total: space.total,
        backups: files.length,
      };
    },

    /** Normalises a request body (already validated) with the configured defaults. */
    request(body: CreateBackupBody): BackupRequest {
      const encrypt = body.encrypt ?? Boolean(passphrase());
      const request: BackupRequest = {
        name: body.name,
        contentTypes: body.contentTypes,
        media: body.media ?? true,
        adminUsers: body.adminUsers ?? false,
        config: body.config ?? false,
        compression: body.compression ?? config().get().compression,
        encrypt,
      };
      if (encrypt && !passphrase()) {
        throw new errors.ValidationError(`Encryption needs a passphrase in the ${config().get().encryptionKeyEnv} environment variable`, {
          errors: [{ path: ['encrypt'], message: `no passphrase in ${config().get().encryptionKeyEnv}`, name: 'ValidationError' }],
        });
      }
      if (request.adminUsers && !encrypt) {
        throw new errors.ValidationError('Admin users, roles and API tokens are only backed up encrypted', {
          errors: [{ path: ['adminUsers'], message: 'needs encrypt: true and a configured key', name: 'ValidationError' }],
        });
      }
      return request;
    },

    /** Writes one backup now (inside a job, or for the safety backup of a restore). */
    async write(
      request: BackupRequest,
      kind: Manifest['kind'],
      context?: Pick<JobContext, 'progress' | 'log'>,
      { extraMedia = [] }: { extraMedia?: string[] } = {}
    ) {
      const scope = getService('scope', { strapi });
      const resolved = await scope.resolve(request);
      const id = newId();
      const uploadConfig = (strapi.config.get('plugin::upload') ?? {}) as { provider?: string };
      const provider = uploadConfig.provider ?? 'local';
      const includeMedia = request.media && provider === 'local';
      const folder = config().storageFolder();
      const rehashAfterDays = config().get().media.rehashAfterDays;
      const known = includeMedia && rehashAfterDays > 0 ? await readMediaHashes(folder) : undefined;
      const result = await runBackup({
        knex: strapi.db.connection,
        dialect: dialect(),
        storage: storage(),
        passphrase: request.encrypt ? passphrase() : null,
        plan: {
          id,
          name: request.name?.trim() || `${kind === 'safety' ? 'Safety backup' : 'Backup'} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
          kind,
          scope: resolved.scope,
          compression: request.compression,
          versions: { plugin: pkg.version, strapi: String(strapi.config.get('info.strapi')) },
          contentTypes: resolved.contentTypes,
          // A table with incoming links is written whole: a restore takes the links of the
          // documents it brings back from it, whoever owns them (the marks stay out of the manifest).
          tables: resolved.tables.map(({ incoming, ...table }) => (incoming ? { ...table, mode: 'replace' as const, filter: null } : table)),
          media: { include: includeMedia, provider, publicDir: publicDir(), extra: extraMedia, known, rehashAfterMs: rehashAfterDays * 86_400_000 },
          estimatedBytes: await estimate(),
          lineage: await getService('lineage', { strapi }).forBackup(),
          references: resolved.references,
        },
        onProgress: ({ phase, done, total, bytes }) => context?.progress({ phase, done, total, bytes }),
        log: (message) => context?.log(message),
        // A safety backup never stops a restore: what is missing now is missing either way.
        missingMedia: kind === 'safety' ? 'warn' : config().get().media.missing,
      }).catch(async (error: unknown) => {
        // A file changed behind its size and time: the next backup hashes every file again.
        if (error instanceof EngineError && error.code === 'MEDIA_CHANGED') await forgetMediaHashes(folder);
        throw error;
      });
      if (known) {
        // What the next backup may trust (a failure to keep it costs only the time of hashing again).
        await writeMediaHashes(folder, result.mediaHashes, await storage().tempPath(MEDIA_HASHES_FILE.slice(1))).catch((error: unknown) =>
          context?.log(`media: the hashes could not be kept: ${(error as Error).message}`)
        );
      }
      context?.log(`wrote ${archiveName(id)}: ${result.manifest.totals.rows} rows, ${result.manifest.media.files} media files, ${result.size} bytes`);
      return { id, ...result };
    },

    startBackup(body: CreateBackupBody, { kind = 'manual', trigger = 'manual' }: { kind?: Manifest['kind']; trigger?: JobTrigger } = {}) {
      // At the door, for the CLI as for the API: content types this app has. (A scheduled backup
      // of a scope that names one the app lost fails as a job, recorded and alerted.)
      if (trigger !== 'scheduled') assertContentTypes(body.contentTypes, getService('scope', { strapi }).selectable());
      const request = service.request(body);
      return getService('jobs', { strapi }).start(
        'backup',
        async (context) => {
          const written = await service.write(request, kind, context);
          context.job.backupId = written.id;
          const copy = await service.copyOffsite(written.id, context, { sha256: written.sha256 });
          let repository: Record<string, unknown> | undefined;
          if (copy?.status === 'copied') {
            await service.retryOffsite(context);
            const collected = await service
              .collectOffsite(context)
              .catch((error: unknown) => context.log(`off-site: the collection of unused objects failed: ${(error as Error).message}`));
            // What the off-site storage holds now (monitoring and metrics show the latest).
            if (collected) repository = { ...collected.after, at: new Date().toISOString() };
          }
          context.measure({
            bytes: written.size,
            rows: written.manifest.totals.rows,
            ratio: written.manifest.totals.bytes ? Number((written.size / written.manifest.totals.bytes).toFixed(4)) : undefined,
          });
          return { backup: await toBackup((await storage().stat(archiveName(written.id)))!), ...(repository ? { offsiteRepository: repository } : {}) } as Record<string, unknown>;
        },
        { trigger }
      );
    },

    async startVerify(id: string, { trigger = 'manual' }: { trigger?: JobTrigger } = {}) {
      const file = await findFile(id);
      return getService('jobs', { strapi }).start('verify', async (context) => {
        context.progress({ phase: 'verify' });
        const archive = await openArchive(await storage().localPath(file.name), { passphrase: passphrase() });
        let done = 0;
        const total = archive.manifest.entries.length;
        const report = await archive.verify((entry, ok) => {
          context.progress({ done: ++done, total, bytes: 0 });
          if (!ok) context.log(`damaged: ${entry.path}`);
        });
        if (report.ok) await service.updateMeta(id, { verifiedAt: new Date().toISOString() });
        if (!report.ok) {
          const bad = report.entries.filter((e) => !e.ok);
          throw new EngineError('CHECKSUM', `${bad.length} damaged entries: ${bad.slice(0, 3).map((e) => e.error).join('; ')}`, { entries: bad });
        }
        return { ok: true, entries: report.entries.length, manifest: { rows: archive.manifest.totals.rows, files: archive.manifest.media.files } };
      }, { backupId: id, trigger });
    },

    async startRestore(
      id: string,
      body: RestoreBody,
      options: { failAfterTables?: number; failBeforeCommit?: boolean; trigger?: JobTrigger } = {}
    ) {
      const file = await findFile(id);
      const scope = getService('scope', { strapi });
      const listed = await toBackup(file);
      const adminUsers = body.adminUsers ?? false;
      const withConfig = body.config ?? false;
      // What the backup cannot give is refused at the door, before any job starts.
      const refuse = (path: string, message: string) => {
        throw new errors.ValidationError(message, { errors: [{ path: [path], message, name: 'ValidationError' }] });
      };
      if (listed.status !== 'damaged') {
        if (adminUsers && !listed.scope.adminUsers) refuse('adminUsers', 'This backup holds no admin users, roles or API tokens');
        if (withConfig && !listed.scope.config) refuse('config', 'This backup holds no config store or webhooks');
        if ((adminUsers || withConfig) && !listed.encrypted) {
          refuse(adminUsers ? 'adminUsers' : 'config', "Admin users, roles, API tokens and the config store are only restored from an encrypted backup made with this app's key");
        }
        // (a damaged backup fails in the job with its own error)
        assertContentTypes(body.contentTypes, Object.keys(listed.counts), { reason: 'not in this backup' });
      }
      // A backup of some content types restores those (never the whole app's tables).
      const wantsTypes = body.contentTypes ?? (listed.scope.contentTypes === 'all' ? undefined : listed.scope.contentTypes);
      const target = await scope.resolve({
        contentTypes: wantsTypes,
        media: body.media ?? listed.scope.media,
        adminUsers,
        config: withConfig,
      });
      const warnings = adminUsers
        ? ['Admin users are restored: when the restore ends, all admin sessions end and admins log in again with the restored accounts.']
        : [];
      return getService('jobs', { strapi }).start('restore', async (context) => {
        const archivePath = await storage().localPath(file.name);
        let safetyId: string | null = null;
        // This job holds the job lock: any restore work folder left now is a crashed one's.
        for (const recovered of await service.recoverRestores({ all: true })) {
          context.log(`recovered an interrupted restore's files (${recovered.id}): ${recovered.action}, ${recovered.changes} changes`);
        }
        const schema = await scope.targetSchema();
        const targetTables = new Map(target.tables.map((t) => [t.name, t]));
        context.progress({ phase: 'validate' });
        const result = await runRestore({
          knex: strapi.db.connection,
          dialect: dialect(),
          archivePath,
          passphrase: passphrase(),
          schema,
          publicDir: publicDir(),
          marker,
          failAfterTables: options.failAfterTables,
          failBeforeCommit: options.failBeforeCommit,
          selection: (manifest) => ({
            tables: new Set(manifest.tables.filter((t) => targetTables.has(t.name)).map((t) => t.name)),
            media: body.media ?? manifest.scope.media,
            exactMedia: !wantsTypes,
            skipIncompatible: body.skipIncompatible,
            filters: targetTables,
          }),
          beforeApply: async (manifest, { extraMedia }) => {
            context.progress({ phase: 'safety-backup' });
            const safety = await service.write(
              {
                name: `Before restoring ${manifest.name}`,
                contentTypes: wantsTypes,
                media: body.media ?? manifest.scope.media,
                adminUsers: adminUsers && Boolean(passphrase()),
                config: withConfig,
                compression: 'fast',
                encrypt: Boolean(passphrase()),
              },
              'safety',
              undefined,
              { extraMedia }
            );
            safetyId = safety.id;
            context.log(`safety backup ${safety.id} written${extraMedia.length ? ` (with ${extraMedia.length} files the restore removes)` : ''}`);
          },
          onProgress: ({ phase, done, total }) => context.progress({ phase, done, total }),
        });
        // A full restore: this app's data is now that backup's (the base of later imports).
        if (!wantsTypes) await getService('lineage', { strapi }).restored(id);
        if (adminUsers) {
          // Restored accounts replace the current ones: every admin logs in again.
          await strapi.db.query('admin::session').deleteMany({});
          context.log('admin sessions ended: admins log in again with the restored accounts');
        }
        const ownerOf = scope.tableOwners();
        const links = result.links.map((link) => ({
          table: link.table,
          column: link.column,
          from: ownerOf.get(link.table) ?? link.table,
          to: ownerOf.get(link.refTable) ?? link.refTable,
          dropped: link.dropped,
          nulled: link.nulled,
        }));
        for (const link of links) {
          context.log(`links lost: ${link.dropped} dropped, ${link.nulled} emptied in ${link.table}.${link.column} (${link.from} → ${link.to}): what they pointed at is not in the database after the restore`);
        }
        return {
          safetyBackupId: safetyId,
          tables: result.outcomes,
          links,
          skipped: result.skipped,
          media: result.media,
          adminUsers,
          config: withConfig,
          contentTypes: result.manifest.contentTypes
            .filter((ct) => result.outcomes.some((o) => o.name === ct.table))
            .map((ct) => ({ uid: ct.uid, rows: result.outcomes.find((o) => o.name === ct.table)!.inserted })),
          adminSessionsEnded: adminUsers,
          timings: result.timings,
        };
      }, { backupId: id, trigger: options.trigger ?? 'manual', warnings });
    },
  };
  return service;
};

export default createBackupsService;
