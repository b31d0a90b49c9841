/**
 * The plugin's own tables. They are plain database models (as Strapi's core store and
 * webhooks are), not content types: nothing to show in the Content Manager, and a real unique
 * index on the lock name, which the lock depends on. Their uids start with
 * `plugin::pacta-backup.`, so a backup never holds them and a restore never touches them.
 */

export const LOCK_TABLE = 'pacta_backup_locks';
export const JOB_TABLE = 'pacta_backup_jobs';

export const lockModel = {
  uid: 'plugin::pacta-backup.lock',
  singularName: 'pacta_backup_lock',
  tableName: LOCK_TABLE,
  attributes: {
    id: { type: 'increments' },
    name: { type: 'string' },
    owner: { type: 'string' },
    /**
     * Epoch milliseconds: after this, an instance on another host may take the lock (a heartbeat
     * renews it); on the holder's own host its pid decides (see services/locks.ts).
     */
    expires_at: { type: 'biginteger' },
    /** Epoch milliseconds when the holder finished (occurrence locks stay, so a late instance skips). */
    done_at: { type: 'biginteger' },
  },
  indexes: [{ name: 'pacta_backup_locks_name_uq', columns: ['name'], type: 'unique' }],
};

export const jobModel = {
  uid: 'plugin::pacta-backup.job',
  singularName: 'pacta_backup_job',
  tableName: JOB_TABLE,
  attributes: {
    id: { type: 'increments' },
    job_id: { type: 'string' },
    type: { type: 'string' },
    trigger: { type: 'string' },
    status: { type: 'string' },
    phase: { type: 'string' },
    backup_id: { type: 'string' },
    instance: { type: 'string' },
    started_at: { type: 'biginteger' },
    finished_at: { type: 'biginteger' },
    duration_ms: { type: 'biginteger' },
    bytes: { type: 'biginteger' },
    rows: { type: 'biginteger' },
    /** Archive bytes / bytes before compression (backups). */
    ratio: { type: 'float' },
    error: { type: 'json' },
    result: { type: 'json' },
    log: { type: 'json' },
  },
  indexes: [
    { name: 'pacta_backup_jobs_job_id_uq', columns: ['job_id'], type: 'unique' },
    { name: 'pacta_backup_jobs_started_idx', columns: ['started_at'] },
  ],
};

export const STATE_TABLE = 'pacta_backup_state';

/**
 * What the plugin remembers about this app itself (the lineage of its data, see
 * services/lineage.ts): in its own table, so a restore never brings another app's back and a
 * backup never holds it.
 */
export const stateModel = {
  uid: 'plugin::pacta-backup.state',
  singularName: 'pacta_backup_state',
  tableName: STATE_TABLE,
  attributes: {
    id: { type: 'increments' },
    name: { type: 'string' },
    value: { type: 'text' },
  },
  indexes: [{ name: 'pacta_backup_state_name_uq', columns: ['name'], type: 'unique' }],
};

export const MODELS = [lockModel, jobModel, stateModel];
