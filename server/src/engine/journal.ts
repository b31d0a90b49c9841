import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { EngineError } from './errors';
import { LOCAL_HOST, isPidAlive } from './owner';

/**
 * Media files change together with the rows. A restore stages the files it brings in a work
 * folder, writes a journal of every change it will make to the uploads folder, and only then
 * starts its transaction; the files are swapped just before the commit, and a marker row
 * written in the same transaction says whether the rows committed. Whatever stops the process
 * (an error, `kill -9`, a power cut), the next start finds the journal and:
 *  - rolls the files forward when the marker is there (the rows committed),
 *  - rolls them back when it is not (the transaction was rolled back with the process),
 * so database and uploads are always both as before or both as the backup. Every step is
 * idempotent: a recovery that is itself interrupted is simply done again.
 *
 * Layout, next to the uploads folder (same volume, so files move by rename; never served:
 * Strapi's static server leaves dot folders alone):
 *   public/.pacta-restore/<id>/journal.json   the planned changes
 *   public/.pacta-restore/<id>/staging/<sha>  the files the restore brings, once each
 *   public/.pacta-restore/<id>/trash/<n>      what change n moved away (to undo it)
 */

export const WORK_FOLDER = '.pacta-restore';
const JOURNAL = 'journal.json';
const TEMP_SUFFIX = '.pacta-tmp';

export interface FileChange {
  /** Path of the file under the public folder (uploads/…). */
  target: string;
  /** The staged file that replaces it (its name in staging/), or null: the file is removed. */
  staged: string | null;
  /** Whether the target existed when the journal was written. */
  existed: boolean;
}

export interface Journal {
  version: 1;
  id: string;
  host: string;
  pid: number;
  createdAt: string;
  changes: FileChange[];
}

const exists = (file: string) =>
  fs.promises.lstat(file).then(
    () => true,
    () => false
  );

/** rename, or copy and remove where the two paths are on different volumes. */
const move = async (from: string, to: string) => {
  try {
    await fs.promises.rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await fs.promises.copyFile(from, to);
    await fs.promises.rm(from, { force: true });
  }
};

/** Puts a copy of `from` at `to` atomically: a hard link (or a copy) under a temporary name, renamed. */
const place = async (from: string, to: string) => {
  const temp = `${to}${TEMP_SUFFIX}`;
  await fs.promises.rm(temp, { force: true });
  try {
    await fs.promises.link(from, temp);
  } catch {
    await fs.promises.copyFile(from, temp);
  }
  await fs.promises.rename(temp, to);
  // Placed again (a recovery): both names are links to one file, and rename() then does
  // nothing at all (POSIX), leaving the temporary name behind.
  await fs.promises.rm(temp, { force: true });
};

const writeAtomically = async (file: string, content: string) => {
  const temp = `${file}${TEMP_SUFFIX}`;
  const handle = await fs.promises.open(temp, 'w', 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(temp, file);
};

export class FileSwap {
  private constructor(
    readonly publicDir: string,
    readonly id: string,
    private journal: Journal | null
  ) {}

  get folder() {
    return path.join(this.publicDir, WORK_FOLDER, this.id);
  }

  get staging() {
    return path.join(this.folder, 'staging');
  }

  private trash(index: number) {
    return path.join(this.folder, 'trash', String(index));
  }

  get changes(): FileChange[] {
    return this.journal?.changes ?? [];
  }

  /** A new, empty work folder for one restore. */
  static async create(publicDir: string): Promise<FileSwap> {
    const id = `${new Date().toISOString().replace(/[-:.]/g, '')}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const swap = new FileSwap(publicDir, id, null);
    await fs.promises.mkdir(swap.staging, { recursive: true, mode: 0o700 });
    await fs.promises.mkdir(path.join(swap.folder, 'trash'), { recursive: true, mode: 0o700 });
    return swap;
  }

  /** The restores a crash left behind: their work folders, with the journal when one was written. */
  static async list(publicDir: string): Promise<Array<{ swap: FileSwap; journal: Journal | null }>> {
    const root = path.join(publicDir, WORK_FOLDER);
    const names = await fs.promises.readdir(root).catch(() => [] as string[]);
    const found: Array<{ swap: FileSwap; journal: Journal | null }> = [];
    for (const name of names.sort()) {
      if (!/^[0-9A-Za-z-]+$/.test(name)) continue;
      let journal: Journal | null = null;
      try {
        journal = JSON.parse(await fs.promises.readFile(path.join(root, name, JOURNAL), 'utf8')) as Journal;
      } catch {
        journal = null;
      }
      found.push({ swap: new FileSwap(publicDir, name, journal), journal });
    }
    return found;
  }

  /** Records the changes before any is made (written, synced, then renamed into place). */
  async plan(changes: FileChange[]) {
    const uploads = path.join(this.publicDir, 'uploads') + path.sep;
    for (const change of changes) {
      if (!path.join(this.publicDir, change.target).startsWith(uploads)) {
        throw new EngineError('UNSAFE_PATH', `Unsafe media path ${change.target}`);
      }
    }
    this.journal = { version: 1, id: this.id, host: LOCAL_HOST, pid: process.pid, createdAt: new Date().toISOString(), changes };
    await writeAtomically(path.join(this.folder, JOURNAL), JSON.stringify(this.journal));
  }

  /** Makes every change (each one again if it was made already). */
  async forward(afterEach?: (done: number, total: number) => void) {
    const { changes } = this;
    for (let index = 0; index < changes.length; index += 1) {
      const change = changes[index];
      const target = path.join(this.publicDir, change.target);
      const trash = this.trash(index);
      if (change.existed && !(await exists(trash)) && (await exists(target))) {
        await move(target, trash);
      }
      if (change.staged) {
        await fs.promises.mkdir(path.dirname(target), { recursive: true });
        await place(path.join(this.staging, change.staged), target);
      }
      afterEach?.(index + 1, changes.length);
    }
  }

  /** Undoes every change made (those never made are left alone), last first. */
  async back() {
    const { changes } = this;
    for (let index = changes.length - 1; index >= 0; index -= 1) {
      const change = changes[index];
      const target = path.join(this.publicDir, change.target);
      const trash = this.trash(index);
      await fs.promises.rm(`${target}${TEMP_SUFFIX}`, { force: true });
      if (await exists(trash)) {
        await move(trash, target);
      } else if (!change.existed && change.staged) {
        await fs.promises.rm(target, { force: true });
      }
    }
  }

  /**
   * After the transaction, or after an error: the commit marker says whether the rows
   * committed (an error after the commit keeps them), and the files follow — forward, or back —
   * then the work folder and the marker go.
   */
  async settle(marker?: { committed(id: string): Promise<boolean>; forget(id: string): Promise<void> }, { committed }: { committed?: boolean } = {}) {
    const done = committed ?? (marker ? await marker.committed(this.id).catch(() => false) : false);
    if (committed === undefined) {
      if (done) await this.forward();
      else await this.back();
    }
    await this.discard();
    if (!done) return;
    // Past a commit the caller sees a failure to forget; after an error, the error it had.
    if (committed) await marker?.forget(this.id);
    else await marker?.forget(this.id).catch(() => undefined);
  }

  /** Removes the work folder (staged files, what was moved away, the journal). */
  async discard() {
    await fs.promises.rm(this.folder, { recursive: true, force: true });
    // The shared parent goes too once empty (another restore's folder keeps it).
    await fs.promises.rmdir(path.dirname(this.folder)).catch(() => undefined);
  }

  /**
   * Whether the process that wrote this folder may still be working in it: one of another host
   * (or of before a reboot or a container restart: see owner.ts) always may; this process's own
   * pid never (nothing of ours runs at start, and a restore recovers with `all`).
   */
  maybeAlive(journal: Journal | null) {
    const [, , pid] = /^(.*)-(\d+)-[0-9a-f]{6}$/.exec(this.id) ?? [];
    const owner = journal?.pid ?? Number(pid);
    if (journal && journal.host !== LOCAL_HOST) return true;
    if (!owner || owner === process.pid) return false;
    return isPidAlive(owner);
  }
}

export interface Recovered {
  id: string;
  action: 'rolled-forward' | 'rolled-back' | 'removed';
  changes: number;
}

/**
 * Finishes what interrupted restores left: rolls their files forward or back by their marker
 * (`committed`), then removes their work folders. `all` also takes folders whose process looks
 * alive (the caller holds the job lock: no restore can be running).
 */
export const recoverFileSwaps = async ({
  publicDir,
  committed,
  forget,
  all = false,
}: {
  publicDir: string;
  committed: (id: string) => Promise<boolean>;
  forget: (id: string) => Promise<void>;
  all?: boolean;
}): Promise<Recovered[]> => {
  const recovered: Recovered[] = [];
  for (const { swap, journal } of await FileSwap.list(publicDir)) {
    if (!all && swap.maybeAlive(journal)) continue;
    if (!journal) {
      await swap.discard();
      recovered.push({ id: swap.id, action: 'removed', changes: 0 });
      continue;
    }
    const forward = await committed(swap.id);
    if (forward) await swap.forward();
    else await swap.back();
    await swap.discard();
    await forget(swap.id);
    recovered.push({ id: swap.id, action: forward ? 'rolled-forward' : 'rolled-back', changes: journal.changes.length });
  }
  return recovered;
};

/** Every file under the uploads folder, as paths relative to the public folder. */
export const listUploads = async (publicDir: string): Promise<string[]> => {
  const uploads = path.join(publicDir, 'uploads');
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => [] as fs.Dirent[]);
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && !entry.name.endsWith(TEMP_SUFFIX)) out.push(path.relative(publicDir, full).split(path.sep).join('/'));
    }
  };
  await walk(uploads);
  return out.sort();
};
