import { spawn } from 'node:child_process';
import os from 'node:os';

import { hostTag, instanceState, isPidAlive, LOCAL_HOST, parseInstance } from '../owner';

const exitedPid = () =>
  new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });

describe('process owners', () => {
  const self = `box:${process.pid}:a1b2c3`;

  it('reads host, pid and suffix; a host may hold colons', () => {
    expect(parseInstance('web-1:4242:abcdef')).toEqual({ host: 'web-1', pid: 4242, suffix: 'abcdef' });
    expect(parseInstance('fe80::1:4242:abcdef')).toEqual({ host: 'fe80::1', pid: 4242, suffix: 'abcdef' });
    expect(parseInstance('no-pid:x:abcdef')).toBeNull();
    expect(parseInstance('just-a-name')).toBeNull();
  });

  it('tells this process, a live pid and a dead pid of this host apart', async () => {
    const dead = await exitedPid();
    expect(isPidAlive(process.pid)).toBe(true);
    expect(isPidAlive(dead)).toBe(false);
    expect(isPidAlive(0)).toBe(false);
    expect(instanceState(self, self)).toBe('alive');
    expect(instanceState(`box:${process.ppid}:ffffff`, self)).toBe('alive');
    expect(instanceState(`box:${dead}:ffffff`, self)).toBe('dead');
  });

  it('an earlier process with this same pid is dead; another host is unknown', () => {
    expect(instanceState(`box:${process.pid}:000000`, self)).toBe('dead');
    expect(instanceState(`elsewhere:${process.pid}:a1b2c3`, self)).toBe('unknown');
    expect(instanceState('unreadable', self)).toBe('unknown');
  });

  it('names this host by its hostname, with a tag of its boot and pid namespace on Linux', () => {
    expect(LOCAL_HOST.startsWith(os.hostname())).toBe(true);
    if (process.platform === 'linux') expect(LOCAL_HOST).toMatch(/#[0-9a-f]{6}$/);
    expect(parseInstance(`${LOCAL_HOST}:${process.pid}:abcdef`)).toEqual({ host: LOCAL_HOST, pid: process.pid, suffix: 'abcdef' });
  });

  it('names a host with eight hex characters, the same each time', () => {
    expect(hostTag('box')).toMatch(/^[0-9a-f]{8}$/);
    expect(hostTag('box')).toBe(hostTag('box'));
    expect(hostTag('box')).not.toBe(hostTag('other'));
  });
});
