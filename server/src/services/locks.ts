import { randomBytes } from 'node:crypto';

import type { Core } from '@strapi/strapi';

import { instanceState, LOCAL_HOST } from '../engine/owner';
import { LOCK_TABLE } from '../models';
import { getService } from '../utils';

/** Who holds a lock: this process, recognisable in the table (host, pid, random suffix; see LOCAL_HOST). */
export const INSTANCE_ID = `${LOCAL_HOST}:${process.pid}:${randomBytes(3).toString('hex')}`;

/** Locks older than this are deleted by prune() (occurrence locks accumulate one per run). */
const PRUNE_AFTER_MS = 30 * 24 * 3600 * 1000;

/**
 * Database locks shared by every instance of the app (and the CLI) on one database.
 *
 * A lock is a row with a unique name, an owner and an expiry. Taking it is one INSERT: the
 * unique index lets exactly one of several concurrent inserts succeed, on SQLite, PostgreSQL
 * and MariaDB alike. A lock whose holder is gone is taken over by one conditional UPDATE whose
 * WHERE names what was read (the dead owner, or the expiry), so the database applies it to one
 * winner:
 *  - holder on this host: its pid decides. A dead pid is taken over at once, whatever the
 *    expiry; a live pid is never taken over, even expired: a SQLite restore holds the only
 *    connection for minutes, so its renewals wait, but the process is there and still working;
 *  - holder on another host: the expiry decides. The holder renews every few seconds with a
 *    short TTL (a heartbeat: see jobs.ts), so a crashed one is taken over within that TTL. Its
 *    renewals are never held up by its own restore there: another host means PostgreSQL or
 *    MariaDB, whose pool has other connections (a SQLite database lives on one host).
 *
 * Two uses:
 *  - `job`: one backup, restore or drill at a time per app, across processes; renewed while
 *    the job runs, released at its end;
 *  - one lock per scheduled occurrence (`pacta-backup:backup:2026-11-28T02:00:00.000Z`): the
 *    instance that takes it runs that occurrence; when done, the row stays (done_at set), so an
 *    instance whose clock is a little late skips it too.
 */
const createLocksService = ({ strapi }: { strapi: Core.Strapi }) => {
  const knex = () => strapi.db.connection;

  const service = {
    owner: INSTANCE_ID,

    /** Takes the lock for ttlMs; false when another owner holds it and is (or may be) alive. */
    async acquire(name: string, ttlMs: number): Promise<boolean> {
      const now = Date.now();
      let existing: { owner: string; expires_at: number | string; done_at: unknown } | undefined;
      try {
        await knex()(LOCK_TABLE).insert({ name, owner: INSTANCE_ID, expires_at: now + ttlMs, done_at: null });
        return true;
      } catch (error) {
        existing = await knex()(LOCK_TABLE).where({ name }).first();
        if (!existing) throw error;
      }
      if (existing.done_at != null) return false;
      const state = instanceState(existing.owner, INSTANCE_ID);
      if (state === 'alive' && existing.owner !== INSTANCE_ID) return false;
      const query = knex()(LOCK_TABLE).where({ name }).whereNull('done_at');
      if (state === 'unknown') query.andWhere((q) => q.where('expires_at', '<', now).orWhere('owner', INSTANCE_ID));
      else query.andWhere('owner', existing.owner);
      const taken = Number(await query.update({ owner: INSTANCE_ID, expires_at: now + ttlMs })) === 1;
      if (taken && state === 'dead') {
        getService('logger', { strapi }).get().info(`lock ${name} taken over from ${existing.owner}, a process that is gone`);
      }
      return taken;
    },

    /** Extends a lock this instance holds; false when it was lost (expired and taken). */
    async renew(name: string, ttlMs: number): Promise<boolean> {
      const updated = await knex()(LOCK_TABLE).where({ name, owner: INSTANCE_ID }).update({ expires_at: Date.now() + ttlMs });
      return Number(updated) === 1;
    },

    async release(name: string): Promise<void> {
      await knex()(LOCK_TABLE).where({ name, owner: INSTANCE_ID }).del();
    },

    /** Marks an occurrence lock as done: it stays taken, for good. */
    async finish(name: string): Promise<void> {
      await knex()(LOCK_TABLE).where({ name, owner: INSTANCE_ID }).update({ done_at: Date.now() });
    },

    async holder(name: string): Promise<{ owner: string; expiresAt: number; doneAt: number | null } | null> {
      const row = await knex()(LOCK_TABLE).where({ name }).first();
      return row ? { owner: row.owner, expiresAt: Number(row.expires_at), doneAt: row.done_at == null ? null : Number(row.done_at) } : null;
    },

    /** Removes old occurrence locks and expired job locks. */
    async prune(now = Date.now()): Promise<number> {
      return Number(
        await knex()(LOCK_TABLE)
          .where('expires_at', '<', now - PRUNE_AFTER_MS)
          .orWhere((q) => q.whereNotNull('done_at').where('done_at', '<', now - PRUNE_AFTER_MS))
          .del()
      );
    },

    /** node-cron's run coordinator: which instance runs a scheduled occurrence. */
    coordinator() {
      return {
        shouldRun: (key: string, ttlMs: number) => service.acquire(key, ttlMs),
        onComplete: (key: string) => service.finish(key),
      };
    },
  };
  return service;
};

export default createLocksService;
