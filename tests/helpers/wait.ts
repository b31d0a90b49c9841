/**
 * Waiting in tests without guessing how long things take: poll a condition up to a deadline
 * and fail saying what did not happen, or wait on a latch the code under test releases.
 */

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it returns something other than undefined, null or false, and returns
 * that. After `timeoutMs` it throws `Timed out after N ms waiting for <what>` with the last
 * value seen (or the last error `check` threw).
 */
export const until = async <T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {}
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
      last = value;
    } catch (error) {
      last = error instanceof Error ? `error: ${error.message}` : error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (last: ${typeof last === 'string' ? last : JSON.stringify(last)})`);
    }
    await pause(intervalMs);
  }
};

/** Settles like `promise`, or rejects after `timeoutMs` saying what did not finish. */
export const withDeadline = async <T>(what: string, promise: Promise<T>, timeoutMs = 60_000): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
};

/** A one-shot signal: `release()` resolves `reached` (later calls do nothing). */
export const latch = <T = void>() => {
  let release!: (value: T) => void;
  const reached = new Promise<T>((resolve) => {
    release = resolve;
  });
  return { reached, release };
};
