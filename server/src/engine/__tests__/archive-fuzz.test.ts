import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

import { PASSPHRASE, defaultRows, readEntries, writeFixture, type Rows } from '../../../../tests/helpers/archive-fixture';
import { deflateBomb, zipBytes, type RawEntry } from '../../../../tests/helpers/zip';
import { openArchive, type ReadOptions } from '../archive';
import { EngineError, type EngineErrorCode } from '../errors';
import { ARCHIVE_LIMITS, type Manifest } from '../manifest';

/*
 * Archive fuzzing: seeded mutations of small archives written by ArchiveWriter (tables and media,
 * plain and encrypted). Every case ends in an EngineError with a known code and a clean message,
 * or, when the mutation left the content as it was, in the archive read back exactly. Memory
 * stays bounded, and nothing is written outside the staging folder.
 * PACTA_FUZZ_SEED replays a run; each failure names its seed, mutation and case.
 */

const SEED = Number(process.env.PACTA_FUZZ_SEED ?? 20261129);
/**
 * Bounds of the whole run, over what the test process held before the first case (jest and
 * ts-jest take ~170 MB): a cap that failed would inflate a 1 GiB bomb or hold a whole manifest
 * bomb, far past them.
 */
const MAX_RSS_GROWTH = 192 * 1024 * 1024;
const MAX_HEAP_GROWTH = 192 * 1024 * 1024;
const CASE_TIMEOUT_MS = 10_000;

const KNOWN_CODES: EngineErrorCode[] = [
  'NOT_AN_ARCHIVE',
  'BAD_MANIFEST',
  'UNSAFE_PATH',
  'CHECKSUM',
  'MISSING_ENTRY',
  'NO_KEY',
  'WRONG_KEY',
  'TAMPERED',
  'TRUNCATED',
  'TOO_LARGE',
  'BAD_ENTRY',
  'BAD_ROWS',
];

/** Deterministic PRNG (mulberry32). */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
type Random = ReturnType<typeof prng>;
const pick = <T>(random: Random, items: T[]): T => items[Math.floor(random() * items.length)];
const int = (random: Random, below: number) => Math.floor(random() * below);

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface Base {
  label: string;
  file: string;
  bytes: Buffer;
  entries: RawEntry[];
  manifest: Manifest;
  options: ReadOptions;
  encrypted: boolean;
}

type Outcome = { ok: true; manifest: Manifest } | { ok: false; codes: string[]; messages: string[] };

/** What a case may end in: any clean error, one of some codes, or the archive as it was. */
type Expected = { error: true; codes?: EngineErrorCode[] } | { error: false } | 'either';

/** A message a person can read: one line, short, no stack frame, nothing undefined. */
const isClean = (message: string) =>
  message.length > 0 &&
  message.length <= 400 &&
  !message.includes('\n') &&
  !/\bat .+:\d+:\d+/.test(message) &&
  !/undefined|\[object /.test(message);

describe(`archive fuzzing (seed ${SEED})`, () => {
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-fuzz-'));
  const bases: Base[] = [];
  const peak = { rss: 0, heap: 0 };
  let caseNumber = 0;
  let baseline = 0;
  /** The heap before the first case: other test files of the same jest process leave theirs. */
  let baselineHeap = 0;
  /** Open file descriptors before the first case (Linux): a refused archive leaves none open. */
  const openFiles = () => (fs.existsSync('/proc/self/fd') ? fs.readdirSync('/proc/self/fd').length : 0);
  let filesBefore = 0;
  const tally = new Map<string, number>();

  const sample = () => {
    const { rss, heapUsed } = process.memoryUsage();
    peak.rss = Math.max(peak.rss, rss);
    peak.heap = Math.max(peak.heap, heapUsed);
  };

  // Sampled while the cases run, not only between them: a bomb would show inside a case.
  const sampler = setInterval(() => sample(), 5);
  afterAll(() => {
    clearInterval(sampler);
    fs.rmSync(staging, { recursive: true, force: true });
  });

  beforeAll(async () => {
    for (const [label, passphrase, compression] of [
      ['plain, deflated by the zip', null, 'fast'],
      ['plain, stored', null, 'none'],
      ['encrypted', PASSPHRASE, 'best'],
    ] as const) {
      const file = path.join(staging, `base-${bases.length}.pacta.zip`);
      const manifest = await writeFixture(file, { passphrase, compression });
      bases.push({
        label,
        file,
        bytes: fs.readFileSync(file),
        entries: await readEntries(file),
        manifest,
        options: { passphrase },
        encrypted: Boolean(passphrase),
      });
    }
    baseline = process.memoryUsage().rss;
    baselineHeap = process.memoryUsage().heapUsed;
    filesBefore = openFiles();
  });

  /** Opens and verifies; any failure must be an EngineError with a known code and a clean message. */
  const run = async (file: string, options: ReadOptions): Promise<Outcome> => {
    try {
      const archive = await openArchive(file, options);
      const report = await archive.verify();
      if (report.ok) return { ok: true, manifest: archive.manifest };
      const bad = report.entries.filter((e) => !e.ok);
      return { ok: false, codes: bad.map((e) => e.code ?? '(none)'), messages: bad.map((e) => e.error ?? '') };
    } catch (error) {
      if (!(error instanceof EngineError)) {
        throw new Error(`not an EngineError: ${(error as Error)?.stack ?? String(error)}`);
      }
      return { ok: false, codes: [error.code], messages: [error.message] };
    }
  };

  const settle = async <T>(promise: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`did not settle within ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  /** Runs one case: `make` writes the archive to the path it is given. */
  const fuzzCase = async (
    kind: string,
    base: Base,
    make: (file: string) => Promise<void> | void,
    expected: Expected,
    options: ReadOptions = base.options
  ) => {
    caseNumber += 1;
    const file = path.join(staging, `case-${caseNumber}.pacta.zip`);
    const where = `case ${caseNumber} (${kind}, ${base.label}, seed ${SEED})`;
    const before = fs.readdirSync(staging).sort();
    try {
      await make(file);
      const outcome = await settle(run(file, options));
      if (outcome.ok) {
        if (expected !== 'either' && expected.error) throw new Error('expected a failure, the archive was accepted');
        expect(outcome.manifest).toEqual(base.manifest);
      } else {
        if (expected !== 'either' && !expected.error) throw new Error(`expected the archive as it was, got ${outcome.codes.join(', ')}: ${outcome.messages.join(' | ')}`);
        for (const code of outcome.codes) expect(KNOWN_CODES).toContain(code);
        for (const message of outcome.messages) if (!isClean(message)) throw new Error(`unclean message: ${JSON.stringify(message)}`);
        if (expected !== 'either' && expected.codes && !expected.codes.includes(outcome.codes[0] as EngineErrorCode)) {
          throw new Error(`expected ${expected.codes.join(' or ')}, got ${outcome.codes[0]}: ${outcome.messages[0]}`);
        }
        tally.set(`${kind}:${outcome.codes[0]}`, (tally.get(`${kind}:${outcome.codes[0]}`) ?? 0) + 1);
      }
      // Reading wrote nothing: the staging folder holds what it held, plus this case's archive.
      expect(fs.readdirSync(staging).sort()).toEqual([...before, path.basename(file)].sort());
      sample();
    } catch (error) {
      (error as Error).message = `${where}: ${(error as Error).message}`;
      throw error;
    } finally {
      fs.rmSync(file, { force: true });
    }
  };

  const rebuild = (entries: RawEntry[]) => zipBytes(entries);
  const copyEntries = (base: Base): RawEntry[] => base.entries.map((e) => ({ ...e, data: Buffer.from(e.data) }));
  const contentEntries = (base: Base) => base.entries.filter((e) => !e.name.startsWith('manifest'));

  it('flipped bytes: a clean error, or the same archive when only ignored bytes changed', async () => {
    const random = prng(SEED + 1);
    for (let i = 0; i < 136; i += 1) {
      const base = bases[i % bases.length];
      await fuzzCase('flip', base, (file) => {
        const bytes = Buffer.from(base.bytes);
        const flips = 1 + int(random, 3);
        for (let f = 0; f < flips; f += 1) bytes[int(random, bytes.length)] ^= 1 + int(random, 255);
        fs.writeFileSync(file, bytes);
      }, 'either');
    }
  });

  it('truncations always fail', async () => {
    const random = prng(SEED + 2);
    for (let i = 0; i < 45; i += 1) {
      const base = bases[i % bases.length];
      await fuzzCase('truncate', base, (file) => fs.writeFileSync(file, base.bytes.subarray(0, int(random, base.bytes.length))), { error: true });
    }
  });

  it('reordered entries read back as the same archive', async () => {
    const random = prng(SEED + 3);
    for (let i = 0; i < 15; i += 1) {
      const base = bases[i % bases.length];
      await fuzzCase('reorder', base, (file) => {
        const entries = copyEntries(base);
        for (let j = entries.length - 1; j > 0; j -= 1) {
          const k = int(random, j + 1);
          [entries[j], entries[k]] = [entries[k], entries[j]];
        }
        fs.writeFileSync(file, rebuild(entries));
      }, { error: false });
    }
  });

  it('duplicated entries are refused, same content or not', async () => {
    const random = prng(SEED + 4);
    for (let i = 0; i < 30; i += 1) {
      const base = bases[i % bases.length];
      await fuzzCase('duplicate', base, (file) => {
        const entries = copyEntries(base);
        const original = pick(random, entries);
        const copy = { name: original.name, data: Buffer.from(original.data) };
        if (random() < 0.5 && copy.data.length) copy.data[int(random, copy.data.length)] ^= 0x20;
        entries.splice(int(random, entries.length + 1), 0, copy);
        fs.writeFileSync(file, rebuild(entries));
      }, { error: true, codes: ['BAD_ENTRY'] });
    }
  });

  it('swapped contents between entries are refused', async () => {
    const random = prng(SEED + 5);
    for (let i = 0; i < 15; i += 1) {
      const base = bases[i % bases.length];
      await fuzzCase('swap', base, (file) => {
        const entries = copyEntries(base);
        const content = entries.filter((e) => !e.name.startsWith('manifest') && e.data.length > 0);
        const a = pick(random, content);
        const b = pick(random, content.filter((e) => e !== a && !e.data.equals(a.data)));
        [a.data, b.data] = [b.data, a.data];
        fs.writeFileSync(file, rebuild(entries));
      }, { error: true });
    }
  });

  /** 1 GiB of spaces in ~1 MB: any cap that failed would take memory or time far past the bounds. */
  const BOMB_SIZE = 1024 * 1024 * 1024;
  const bomb = deflateBomb(BOMB_SIZE);
  /** The entry as a zip writer would list it, its content standing for the bomb's (never read). */
  const bombEntry = (name: string, declaredSize: number): RawEntry => ({ name, data: Buffer.alloc(0), deflated: bomb, declaredSize });

  it('inflated entries (zip bombs) stop at the size the manifest declares, or at the ratio when it declares the bomb', async () => {
    const random = prng(SEED + 6);
    for (let i = 0; i < 15; i += 1) {
      const base = bases[i % bases.length];
      const target = pick(random, contentEntries(base)).name;
      // Plain archives: the manifest may declare the bomb's size (anyone can write one); then
      // only the ratio stops it, after 500 MB (~2 s), so one such case a run.
      const declaresBomb = !base.encrypted && i === 0;
      await fuzzCase(
        'bomb',
        base,
        (file) => {
          const entries = copyEntries(base);
          const index = entries.findIndex((e) => e.name === target);
          entries[index] = bombEntry(target, random() < 0.5 ? BOMB_SIZE : 100);
          if (declaresBomb) {
            const manifestEntry = entries.find((e) => e.name === 'manifest.json')!;
            const manifest = JSON.parse(manifestEntry.data.toString('utf8')) as Manifest;
            manifest.entries.find((e) => e.path === target)!.size = BOMB_SIZE;
            manifestEntry.data = Buffer.from(JSON.stringify(manifest));
            entries.find((e) => e.name === 'manifest.sha256')!.data = Buffer.from(sha256(manifestEntry.data));
          }
          fs.writeFileSync(file, rebuild(entries));
        },
        // Encrypted: the bomb is no sealed stream, refused at its first bytes.
        { error: true, codes: base.encrypted ? ['TAMPERED'] : ['TOO_LARGE'] }
      );
    }
  }, 60_000);

  it('a manifest inflated past its cap is refused from its header or while inflating', async () => {
    const random = prng(SEED + 7);
    for (let i = 0; i < 9; i += 1) {
      const base = bases[i % bases.length];
      await fuzzCase('manifest bomb', base, (file) => {
        const entries = copyEntries(base);
        const index = entries.findIndex((e) => e.name === 'manifest.json');
        entries[index] = bombEntry('manifest.json', random() < 0.5 ? BOMB_SIZE : 1000);
        fs.writeFileSync(file, rebuild(entries));
      }, { error: true, codes: ['TOO_LARGE'] });
    }
  });

  it('very long lines end at the line cap, naming the entry and the line', async () => {
    const random = prng(SEED + 8);
    for (let i = 0; i < 15; i += 1) {
      const base = bases[i % bases.length];
      const maxLineBytes = 1024 + int(random, 8192);
      const rows: Rows = defaultRows();
      const table = pick(random, ['things', 'files'] as const);
      const at = int(random, rows[table].length);
      rows[table][at] = [...rows[table][at]];
      rows[table][at][1] = 'y'.repeat(maxLineBytes + 1 + int(random, 1000));
      await fuzzCase(
        'long line',
        base,
        async (file) => {
          await writeFixture(file, { passphrase: base.options.passphrase, compression: base.manifest.compression, rows });
        },
        { error: true, codes: ['TOO_LARGE'] },
        { ...base.options, limits: { maxLineBytes } }
      );
    }
    // At the default cap: a one-row table of 16 MiB and a bit, declared in the manifest with its
    // right size and SHA-256, so only the line cap stands in the way (plain archives: anyone can
    // write one).
    const line = Buffer.concat([Buffer.from('[1,"'), Buffer.alloc(ARCHIVE_LIMITS.maxLineBytes, 0x79), Buffer.from('",null,null]\n')]);
    const deflated = zlib.deflateRawSync(line);
    for (const base of bases.filter((b) => !b.encrypted)) {
      await fuzzCase('long line', base, (file) => {
        const entries = copyEntries(base);
        const manifestEntry = entries.find((e) => e.name === 'manifest.json')!;
        const manifest = JSON.parse(manifestEntry.data.toString('utf8')) as Manifest;
        Object.assign(entries.find((e) => e.name === 'tables/things.ndjson')!, { data: line, deflated });
        Object.assign(manifest.entries.find((e) => e.path === 'tables/things.ndjson')!, { size: line.length, sha256: sha256(line) });
        manifest.tables.find((t) => t.name === 'things')!.rows = 1;
        manifestEntry.data = Buffer.from(JSON.stringify(manifest));
        entries.find((e) => e.name === 'manifest.sha256')!.data = Buffer.from(sha256(manifestEntry.data));
        fs.writeFileSync(file, rebuild(entries));
      }, { error: true, codes: ['TOO_LARGE'] });
    }
  });

  it('rows that do not fit the table schema are refused, naming the table and the line', async () => {
    const random = prng(SEED + 9);
    const breakers: Array<(rows: Rows) => Record<string, number> | void> = [
      (rows) => {
        rows.things[int(random, rows.things.length)].push('extra');
      },
      (rows) => {
        const k = 1 + int(random, rows.things.length - 1);
        [rows.things[k - 1], rows.things[k]] = [rows.things[k], rows.things[k - 1]];
      },
      (rows) => {
        rows.files.push([...rows.files[rows.files.length - 1]]);
      },
      () => ({ things_files_lnk: 11 + int(random, 3) * 2 }),
    ];
    for (let i = 0; i < 16; i += 1) {
      const base = bases[i % bases.length];
      const rows = defaultRows();
      const claimedRows = pick(random, breakers)(rows) ?? undefined;
      await fuzzCase('rows', base, async (file) => {
        await writeFixture(file, { passphrase: base.options.passphrase, compression: base.manifest.compression, rows, claimedRows });
      }, { error: true, codes: ['BAD_ROWS'] });
    }
  });

  it('an encrypted archive without its key or under another key fails before any entry is read', async () => {
    const base = bases.find((b) => b.encrypted)!;
    for (const [passphrase, code] of [[null, 'NO_KEY'], ['not the key', 'WRONG_KEY']] as const) {
      await fuzzCase('key', base, (file) => fs.writeFileSync(file, base.bytes), { error: true, codes: [code] }, { passphrase });
    }
  });

  it('kept memory bounded over every case, left no file open, and ran every kind of mutation', () => {
    sample();
    if (process.env.PACTA_FUZZ_REPORT) process.stdout.write(`${JSON.stringify({ baseline, baselineHeap, peak, tally: Object.fromEntries(tally) })}\n`);
    expect(caseNumber).toBeGreaterThanOrEqual(300);
    expect(peak.rss - baseline).toBeLessThan(MAX_RSS_GROWTH);
    expect(peak.heap - baselineHeap).toBeLessThan(MAX_HEAP_GROWTH);
    expect(openFiles()).toBeLessThanOrEqual(filesBefore);
    const kinds = new Set([...tally.keys()].map((k) => k.split(':')[0]));
    expect([...kinds].sort()).toEqual(['bomb', 'duplicate', 'flip', 'key', 'long line', 'manifest bomb', 'rows', 'swap', 'truncate']);
  });
});
