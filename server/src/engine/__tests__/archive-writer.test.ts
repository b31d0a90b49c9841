import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

import { PASSPHRASE, defaultRows, readEntries, writeFixture } from '../../../../tests/helpers/archive-fixture';
import { ArchiveWriter, openArchive } from '../archive';
import { toNdjson } from '../ndjson';

/** Many rows: a table entry of several deflate blocks (ParallelDeflate cuts 1 MiB blocks). */
const bigRows = () => {
  const rows = defaultRows();
  rows.things = Array.from({ length: 30_000 }, (_, i) => [
    i + 1,
    `doc${String(i).padStart(6, '0')}`,
    `Thing ${i} — ünïcode ${'x'.repeat(i % 50)}`,
    { blocks: [{ type: 'paragraph', text: `line ${i * 7919}\nwith a newline inside a string` }] },
  ]);
  return rows;
};

const hasUnzip = (() => {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('ArchiveWriter: entries deflated in parallel blocks', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-writer-'));
  let count = 0;
  const file = () => path.join(dir, `w${(count += 1)}.pacta.zip`);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(['best', 'fast', 'none'] as const)('writes a plain zip (%s) that reads back, entry by entry, with the rows it was given', async (compression) => {
    const target = file();
    const rows = bigRows();
    let written = '';
    await writeFixture(target, { compression, rows, onWritten: (writer) => (written = writer.sha256) });
    // The whole file's SHA-256, taken as it was written.
    expect(written).toBe(createHash('sha256').update(fs.readFileSync(target)).digest('hex'));
    const archive = await openArchive(target);
    expect((await archive.verify()).ok).toBe(true);
    // The zip's own reading (its deflate and CRC-32) gives the NDJSON back.
    const entries = await readEntries(target);
    const things = entries.find((e) => e.name === 'tables/things.ndjson')!.data.toString('utf8').trim().split('\n');
    expect(things).toHaveLength(30_000);
    expect(JSON.parse(things[29_999])).toEqual(rows.things[29_999]);
    if (hasUnzip) expect(() => execFileSync('unzip', ['-tqq', target])).not.toThrow();
  });

  it('writes an encrypted archive whose deflated entries read back', async () => {
    const target = file();
    await writeFixture(target, { compression: 'best', rows: bigRows(), passphrase: PASSPHRASE });
    const archive = await openArchive(target, { passphrase: PASSPHRASE });
    expect((await archive.verify()).ok).toBe(true);
  });

  it('reads the next source while the entry before it is still being written, in queue order', async () => {
    const target = file();
    const writer = new ArchiveWriter(target, { compression: 'best', key: null });
    const order: string[] = [];
    const first = writer.queueEntry('tables/a.ndjson', toNdjson(Readable.from([bigRows().things])), { compressible: true });
    await first.read;
    const second = writer.queueEntry('tables/b.ndjson', toNdjson(Readable.from([[[1, 'b']]])), { compressible: true });
    first.written.then(() => order.push('a'));
    second.written.then(() => order.push('b'));
    await second.read;
    await Promise.all([first.written, second.written]);
    expect(order).toEqual(['a', 'b']);
    expect(writer.written.map((e) => e.path)).toEqual(['tables/a.ndjson', 'tables/b.ndjson']);
    expect(writer.written.every((e) => /^[0-9a-f]{64}$/.test(e.sha256) && e.size > 0)).toBe(true);
    await writer.abort();
  });

  it('fails the entries queued after one that fails, and abort leaves no file', async () => {
    const target = file();
    const writer = new ArchiveWriter(target, { compression: 'best', key: null });
    const broken = new Readable({
      read() {
        this.destroy(new Error('the database went away'));
      },
    });
    const first = writer.queueEntry('tables/a.ndjson', broken, { compressible: true });
    await expect(first.read).rejects.toThrow('the database went away');
    const second = writer.queueEntry('tables/b.ndjson', toNdjson(Readable.from([[[1]]])), { compressible: true });
    await expect(second.written).rejects.toThrow();
    await writer.abort();
    expect(fs.existsSync(target)).toBe(false);
  });
});
