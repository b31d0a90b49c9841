import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { FileSwap, WORK_FOLDER, listUploads, recoverFileSwaps } from '../journal';

describe('the file journal of a restore', () => {
  let publicDir: string;

  const write = (relative: string, content: string) => {
    const file = path.join(publicDir, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  };
  /** The uploads folder as { relative path: content }. */
  const uploads = async () => {
    const out: Record<string, string> = {};
    for (const file of await listUploads(publicDir)) out[file] = fs.readFileSync(path.join(publicDir, file), 'utf8');
    return out;
  };

  /** A swap that replaces a.txt, adds b.txt and removes c.txt. */
  const prepare = async () => {
    write('uploads/a.txt', 'old a');
    write('uploads/c.txt', 'old c');
    const swap = await FileSwap.create(publicDir);
    fs.writeFileSync(path.join(swap.staging, 'sha-a'), 'new a');
    fs.writeFileSync(path.join(swap.staging, 'sha-b'), 'new b');
    await swap.plan([
      { target: 'uploads/a.txt', staged: 'sha-a', existed: true },
      { target: 'uploads/b.txt', staged: 'sha-b', existed: false },
      { target: 'uploads/c.txt', staged: null, existed: true },
    ]);
    return swap;
  };
  const BEFORE = { 'uploads/a.txt': 'old a', 'uploads/c.txt': 'old c' };
  const AFTER = { 'uploads/a.txt': 'new a', 'uploads/b.txt': 'new b' };

  beforeEach(() => {
    publicDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-journal-'));
  });
  afterEach(() => {
    fs.rmSync(publicDir, { recursive: true, force: true });
  });

  it('makes every change forward, and undoes them back', async () => {
    const swap = await prepare();
    await swap.forward();
    expect(await uploads()).toEqual(AFTER);
    await swap.back();
    expect(await uploads()).toEqual(BEFORE);
  });

  it('can be run forward or back again from any point (idempotent)', async () => {
    for (let stop = 0; stop <= 3; stop += 1) {
      fs.rmSync(publicDir, { recursive: true, force: true });
      fs.mkdirSync(publicDir);
      const swap = await prepare();
      // Interrupted after `stop` changes: the rest never happened.
      await swap.forward((done) => {
        if (done === stop) throw new Error('interrupted');
      }).catch(() => undefined);
      await swap.forward();
      await swap.forward();
      expect(await uploads()).toEqual(AFTER);
      // Placed twice from the same staged file: no temporary name is left behind.
      expect(fs.readdirSync(path.join(publicDir, 'uploads')).sort()).toEqual(['a.txt', 'b.txt']);
      await swap.back();
      await swap.back();
      expect(await uploads()).toEqual(BEFORE);
    }
  });

  it('recovers a crashed restore forward when its rows committed, back when they did not', async () => {
    const committed = new Set<string>();
    const forgotten: string[] = [];
    const first = await prepare();
    await first.forward((done) => {
      if (done === 2) throw new Error('crash');
    }).catch(() => undefined);
    // Not committed: back.
    let recovered = await recoverFileSwaps({ publicDir, committed: async (id) => committed.has(id), forget: async (id) => void forgotten.push(id), all: true });
    expect(recovered).toEqual([{ id: first.id, action: 'rolled-back', changes: 3 }]);
    expect(await uploads()).toEqual(BEFORE);
    expect(fs.existsSync(path.join(publicDir, WORK_FOLDER))).toBe(false);

    const second = await prepare();
    await second.forward((done) => {
      if (done === 1) throw new Error('crash');
    }).catch(() => undefined);
    committed.add(second.id);
    recovered = await recoverFileSwaps({ publicDir, committed: async (id) => committed.has(id), forget: async (id) => void forgotten.push(id), all: true });
    expect(recovered).toEqual([{ id: second.id, action: 'rolled-forward', changes: 3 }]);
    expect(await uploads()).toEqual(AFTER);
    expect(forgotten).toEqual([first.id, second.id]);
  });

  it('removes a work folder whose journal was never written, and leaves one of a live process alone at start', async () => {
    const orphan = await FileSwap.create(publicDir);
    fs.writeFileSync(path.join(orphan.staging, 'x'), 'staged before the crash');
    // Our own pid counts as gone at start (the folder cannot be of this process' restore yet).
    expect(await recoverFileSwaps({ publicDir, committed: async () => false, forget: async () => undefined })).toEqual([
      { id: orphan.id, action: 'removed', changes: 0 },
    ]);
    // A folder of a process that is alive (pid 1 always is) is not touched without `all`.
    const live = path.join(publicDir, WORK_FOLDER, '20261129T000000000Z-1-abcdef');
    fs.mkdirSync(live, { recursive: true });
    expect(await recoverFileSwaps({ publicDir, committed: async () => false, forget: async () => undefined })).toEqual([]);
    expect(fs.existsSync(live)).toBe(true);
  });

  it('refuses a change outside the uploads folder before anything moves', async () => {
    const swap = await FileSwap.create(publicDir);
    await expect(swap.plan([{ target: 'uploads/../../etc/passwd', staged: null, existed: true }])).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
  });
});
