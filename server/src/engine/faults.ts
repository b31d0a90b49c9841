/**
 * Test-only fault injection for the crash tests; unset (always, outside them) nothing happens.
 *
 *  - PACTA_BACKUP_TEST_CRASH_AT=<point>: the process kills itself (SIGKILL, as `kill -9` would)
 *    when a restore reaches that point;
 *  - PACTA_BACKUP_TEST_PAUSE_AT=<point>: a backup stops there, prints
 *    `PACTA_BACKUP_TEST_PAUSED <point> <pid>` on stderr and waits for ever, so a test can
 *    kill -9 it from outside (and look at what it holds meanwhile).
 */
export const CRASH_ENV = 'PACTA_BACKUP_TEST_CRASH_AT';

export type CrashPoint =
  /** The file journal is written; the transaction has not started. */
  | 'restore:journal'
  /** Rows are written in the transaction; no media file has moved yet. */
  | 'restore:rows'
  /** Half of the media files are swapped; the transaction is still open. */
  | 'restore:swap'
  /** The transaction committed; the journal and its folders are still there. */
  | 'restore:committed'
  /** The same points of an import's apply. */
  | 'import:journal'
  | 'import:rows'
  | 'import:swap'
  | 'import:committed';

export const crashPoint = (point: CrashPoint) => {
  if (process.env[CRASH_ENV] === point) process.kill(process.pid, 'SIGKILL');
};

/**
 * Points of a backup: `rows` (its snapshot open, its archive half written), `verify` (its
 * archive complete under its temporary name, not yet checked nor listed).
 */
export const pauseAt = async (point: 'rows' | 'verify'): Promise<void> => {
  if (process.env.PACTA_BACKUP_TEST_PAUSE_AT !== point) return;
  process.stderr.write(`PACTA_BACKUP_TEST_PAUSED ${point} ${process.pid}\n`);
  await new Promise<never>(() => setInterval(() => undefined, 60_000));
};
