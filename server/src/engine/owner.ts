import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';

/**
 * Which process wrote something (a lock, a job row, a temporary file), so that what a process
 * that is gone left behind can be recognised and taken over or removed at once, while what a
 * live process (the CLI next to the server) is using is left alone.
 */

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const read = (read: () => string) => {
  try {
    return read().trim();
  } catch {
    return '';
  }
};

/**
 * This host as far as pids go: the hostname, and on Linux a tag of the kernel's boot and of the
 * pid namespace. Two containers may share a hostname but never see each other's pids, and after
 * a reboot or a container restart the pids of before mean nothing: their locks and files are
 * then another "host"'s, left to the heartbeat's expiry or the age rule, never to a pid check.
 */
export const LOCAL_HOST = (() => {
  const kernel = [
    read(() => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    read(() => fs.readlinkSync('/proc/self/ns/pid')),
  ].join('|');
  return kernel === '|' ? os.hostname() : `${os.hostname()}#${sha256(kernel).slice(0, 6)}`;
})();

/** Eight hex characters naming this host in file names (a hostname may hold any character). */
export const hostTag = (host = LOCAL_HOST) => sha256(host).slice(0, 8);

/** True when a process with this pid exists on this host (EPERM: it exists, under another user). */
export const isPidAlive = (pid: number): boolean => {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export interface Instance {
  host: string;
  pid: number;
  suffix: string;
}

/** `host:pid:suffix` (the host may itself hold colons) → its parts; null when unreadable. */
export const parseInstance = (id: string): Instance | null => {
  const parts = id.split(':');
  if (parts.length < 3) return null;
  const suffix = parts.pop()!;
  const pid = Number(parts.pop());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return { host: parts.join(':'), pid, suffix };
};

/**
 * Whether the instance that wrote `id` still runs, as far as this host can tell:
 *  - 'dead': it ran on this host and its pid is gone, or its pid is this process's and the
 *    suffix is not this process's (an earlier process that had the same pid: a container's pid 1);
 *  - 'alive': it is this process, or its pid exists on this host;
 *  - 'unknown': it ran on another host (only a heartbeat can tell).
 */
export const instanceState = (id: string, self: string): 'alive' | 'dead' | 'unknown' => {
  if (id === self) return 'alive';
  const instance = parseInstance(id);
  const me = parseInstance(self);
  if (!instance || !me || instance.host !== me.host) return 'unknown';
  if (instance.pid === me.pid) return 'dead';
  return isPidAlive(instance.pid) ? 'alive' : 'dead';
};
