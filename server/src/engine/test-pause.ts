/**
 * Test-only fault injection: with PACTA_BACKUP_TEST_PAUSE_AT=<point> in the environment, the
 * engine stops at that point, prints `PACTA_BACKUP_TEST_PAUSED <point> <pid>` on stderr and
 * waits for ever, so a test can kill -9 the process there. Unset (always, outside the crash
 * tests), it does nothing. Points of a backup: `rows` (its snapshot open, its archive half
 * written), `verify` (its archive complete under its temporary name, not yet checked nor listed).
 */
export const pauseAt = async (point: string): Promise<void> => {
  if (!process.env.PACTA_BACKUP_TEST_PAUSE_AT || process.env.PACTA_BACKUP_TEST_PAUSE_AT !== point) return;
  process.stderr.write(`PACTA_BACKUP_TEST_PAUSED ${point} ${process.pid}\n`);
  await new Promise<never>(() => setInterval(() => undefined, 60_000));
};
