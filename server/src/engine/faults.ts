/**
 * Crash points for the crash tests: with PACTA_BACKUP_TEST_CRASH_AT set to a point's name, the
 * process kills itself (SIGKILL, as `kill -9` would) when it reaches that point. Unset — always,
 * outside the tests — this does nothing.
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
  | 'restore:committed';

export const crashPoint = (point: CrashPoint) => {
  if (process.env[CRASH_ENV] === point) process.kill(process.pid, 'SIGKILL');
};
