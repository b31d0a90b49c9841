import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { hostTag } from '../owner';
import { cleanSnapshots, privateTempFolder } from '../snapshot';
import { createLocalStorage } from '../storage';

const exitedPid = () =>
  new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });

describe('temporary files of dead and live processes', () => {
  let dir: string;
  let live: ChildProcess;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-temp-test-'));
    live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
  });

  afterEach(async () => {
    const exited = new Promise((resolve) => live.on('exit', resolve));
    live.kill('SIGKILL');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("removes at once a dead process's temporary files, keeps a live one's and this process's own", async () => {
    const storage = createLocalStorage(dir);
    const dead = await exitedPid();
    const tag = hostTag();
    const write = (name: string) => fs.writeFileSync(path.join(dir, name), 'partial');
    write(`.partial@${tag}.${dead}.a.pacta.zip`);
    write(`.partial@${tag}.${live.pid}.b.pacta.zip`);
    // An earlier process that had this pid, and another host's file (fresh: kept until stale).
    write(`.partial@${tag}.${process.pid}.c.pacta.zip`);
    write(`.partial@00000000.${dead}.d.pacta.zip`);
    const mine = await storage.tempPath('e.pacta.zip');
    fs.writeFileSync(mine, 'being written');
    write('kept.pacta.zip');

    expect((await storage.cleanTemp()).sort()).toEqual([`.partial@${tag}.${dead}.a.pacta.zip`, `.partial@${tag}.${process.pid}.c.pacta.zip`].sort());
    expect(fs.readdirSync(dir).sort()).toEqual(
      [`.partial@${tag}.${live.pid}.b.pacta.zip`, `.partial@00000000.${dead}.d.pacta.zip`, path.basename(mine), 'kept.pacta.zip'].sort()
    );
    // Untouched long enough, another host's file goes too.
    expect(await storage.cleanTemp(0)).toEqual([`.partial@00000000.${dead}.d.pacta.zip`]);
    await storage.commit(mine, 'e.pacta.zip');
    expect(fs.readdirSync(dir).sort()).toEqual([`.partial@${tag}.${live.pid}.b.pacta.zip`, 'e.pacta.zip', 'kept.pacta.zip']);
  });

  it("removes a dead process's snapshot folder, keeps a live one's and this process's open one", async () => {
    const dead = await exitedPid();
    const tag = hostTag();
    for (const pid of [dead, live.pid]) fs.mkdirSync(path.join(dir, `pacta-snapshot-${tag}-${pid}-abc123`));
    fs.mkdirSync(path.join(dir, `pacta-snapshot-${tag}-${process.pid}-old000`));
    const open = await privateTempFolder(dir);
    expect(fs.statSync(open.path).mode & 0o077).toBe(0);

    expect((await cleanSnapshots(dir)).sort()).toEqual([`pacta-snapshot-${tag}-${dead}-abc123`, `pacta-snapshot-${tag}-${process.pid}-old000`].sort());
    expect(fs.readdirSync(dir).sort()).toEqual([`pacta-snapshot-${tag}-${live.pid}-abc123`, path.basename(open.path)].sort());
    await open.remove();
    expect(fs.existsSync(open.path)).toBe(false);
  });
});
