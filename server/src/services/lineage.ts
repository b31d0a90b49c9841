import { randomBytes } from 'node:crypto';

import type { Core } from '@strapi/strapi';

import type { Backup } from '../contracts/backups';
import type { Lineage, Manifest } from '../engine/manifest';
import { STATE_TABLE } from '../models';

/**
 * Where this app's data comes from, for the three-way merge of an import: an id of this app
 * instance (random, made once), and the backup it was last fully restored from. Every backup
 * names both (manifest `lineage`); an archive and this app share a base when the archive
 * descends from a backup this app also descends from, and that backup is still stored here.
 */

export interface LineageState {
  instance: string;
  restoredFrom: string | null;
  restoredAt: string | null;
}

const NAME = 'lineage';

const createLineageService = ({ strapi }: { strapi: Core.Strapi }) => {
  const table = () => strapi.db.connection(STATE_TABLE);
  const read = async (): Promise<Partial<LineageState> | null> => {
    const row = (await table().where({ name: NAME }).first()) as { value: string } | undefined;
    if (!row) return null;
    try {
      return JSON.parse(row.value) as Partial<LineageState>;
    } catch {
      return null;
    }
  };
  const write = async (state: LineageState) => {
    const value = JSON.stringify(state);
    const updated = await table().where({ name: NAME }).update({ value });
    if (!updated) await table().insert({ name: NAME, value });
  };

  const service = {
    async get(): Promise<LineageState> {
      const saved = await read();
      if (saved?.instance && /^[0-9a-f]{8,64}$/.test(saved.instance)) {
        return { instance: saved.instance, restoredFrom: saved.restoredFrom ?? null, restoredAt: saved.restoredAt ?? null };
      }
      const fresh: LineageState = { instance: randomBytes(8).toString('hex'), restoredFrom: null, restoredAt: null };
      await write(fresh);
      return fresh;
    },

    /** Forgets where this app's data came from (tests; a new instance id is made). */
    async reset() {
      await table().where({ name: NAME }).delete();
    },

    /** What a backup written now names. */
    async forBackup(): Promise<Lineage> {
      const state = await service.get();
      return { instance: state.instance, basedOn: state.restoredFrom };
    },

    /** After a full restore: this app's data is now that backup's. */
    async restored(backupId: string) {
      const state = await service.get();
      await write({ ...state, restoredFrom: backupId, restoredAt: new Date().toISOString() });
    },

    /**
     * The common base of an archive and this app, among the backups stored here: the archive
     * itself when this app wrote it since its last restore, else the backup the archive's
     * instance was restored from, when this app descends from it too.
     */
    async commonBase(
      archive: Pick<Manifest, 'id' | 'createdAt' | 'lineage'>,
      stored: (id: string) => Promise<(Pick<Backup, 'id' | 'createdAt' | 'status'> & { lineage?: Lineage }) | null>
    ): Promise<{ base: string | null; reason: string }> {
      if (!archive.lineage) return { base: null, reason: 'the archive names no lineage (written before lineage was recorded, or by another tool)' };
      const here = await service.get();
      const isAncestor = (backup: { id: string; createdAt: string; lineage?: Lineage }) =>
        backup.id === here.restoredFrom ||
        (backup.lineage?.instance === here.instance && (!here.restoredAt || Date.parse(backup.createdAt) >= Date.parse(here.restoredAt)));
      const candidates = [
        ...(archive.lineage.instance === here.instance ? [archive.id] : []),
        ...(archive.lineage.basedOn ? [archive.lineage.basedOn] : []),
      ];
      for (const id of candidates) {
        const backup = await stored(id);
        if (!backup || backup.status === 'damaged') continue;
        if (isAncestor(backup)) {
          return {
            base: id,
            reason:
              id === archive.id
                ? `the archive is a backup of this app (${id}): changes made here since are kept`
                : `the archive and this app both descend from backup ${id}, stored here`,
          };
        }
      }
      if (!archive.lineage.basedOn) return { base: null, reason: 'the archive comes from an instance that was never restored from a backup this app shares' };
      return {
        base: null,
        reason: `the archive descends from backup ${archive.lineage.basedOn}, which is ${candidates.length ? 'not stored here or not an ancestor of this app' : 'unknown here'}`,
      };
    },
  };
  return service;
};

export default createLineageService;
