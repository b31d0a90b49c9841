#!/usr/bin/env node
'use strict';

/**
 * npm run bench: pacta-backup against the engine's own tools, Strapi's own `strapi export` /
 * `strapi import` and, on SQLite, `tar czf` of the database file and the uploads (the floor), on
 * seeded datasets.
 *
 *   node tests/bench/run.js [--db sqlite|postgres|mysql] [--datasets S,M] [--reuse] [--import] [--keep]
 *                           [--host H] [--port P] [--user U]
 *
 * For each dataset: a fresh work folder (tests/bench/work/<engine>/<dataset>/: public/uploads,
 * backups, logs, the SQLite file or the dumps) and a database (SQLite: data.db in that folder;
 * PostgreSQL / MariaDB: bench_<dataset>, dropped and created), seeded (not measured; with
 * --reuse copied from a template seeded once, see engines.js), then, each one a child process
 * measured on its own (wall time and peak RSS of its whole process tree):
 *   SQLite: tar czf floor → pacta backup → strapi export → pacta restore (over the seeded data) →
 *   [staging: edit, delete, create contracts; back it up; restore the backup again; production:
 *   other edits (not measured)] → pacta import preview of staging's backup → pacta import apply
 *   → [restore the backup again (not measured)] →
 *   strapi import --force (over the data the restore left, which is the seeded data).
 *   PostgreSQL / MariaDB: native dump + tar czf of the uploads → pacta backup → strapi export →
 *   native restore + tar xzf (over the seeded data, which it leaves as it was) → pacta restore
 *   (over the seeded data) → [the import steps above, only with --import] → strapi import --force.
 *   With --offsite, last: three backups copied deduplicated (offsite.deduplicate) to a folder
 *   (--offsite folder, the default) and/or a Ceph RGW bucket on loopback (--offsite rgw, started
 *   by tests/s3/rgw.sh) — the first (full), the next with nothing changed, the next after 1 % of
 *   the contracts were edited — each with the bytes it sent and what the target stores, beside
 *   today's whole-archive copy (the archive's size). --offsite-only skips everything else (the
 *   seeding excepted): the results keep the other rows of that dataset.
 * Prints one table and writes tests/bench/results/latest.json, replacing only the rows of the
 * engine and datasets just measured. A benchmark, not a test: it exits non-zero only when an
 * operation fails, never because a target is missed.
 * See tests/bench/README.md.
 */
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const APP = path.join(ROOT, 'tests', 'app');
const WORK = path.join(__dirname, 'work');
const TEMPLATES = path.join(WORK, 'templates');
const RESULTS = path.join(__dirname, 'results', 'latest.json');
const CLI = path.join(ROOT, 'dist', 'cli', 'index.js');
const { appSecrets } = require(path.join(ROOT, 'tests', 'helpers', 'secrets.js'));
const { ENGINES, engineFor } = require('./engines');

const DATASETS = {
  S: { documents: 2000, media: 200, seed: 1 },
  M: { documents: 50000, media: 2000, seed: 1 },
  // Media-heavy (`--datasets H`): a few thousand contracts and about 2 GB of files (each PDF a
  // 12.5 MB scan: incompressible bytes), for the deduplicated copies of media that did not change.
  H: { documents: 2000, media: 400, seed: 1, pdfBytes: 12_500_000 },
};
/** How the data diverges from the backup before the import (fractions of the contracts). */
const DIVERGE = { edit: 0.05, delete: 0.01, create: 0.01 };
const POLL_MS = 50;
const TIMEOUT_MS = 60 * 60 * 1000;
const STRAPI_SERVER_TIMEOUT_MS = 5 * 60 * 1000;
const MB = 1024 * 1024;

const USAGE =
  'usage: node tests/bench/run.js [--db sqlite|postgres|mysql] [--datasets S,M] [--reuse] [--import] [--offsite [folder,rgw]] [--offsite-only] [--keep] [--strapi-timeout SECONDS] [--host H] [--port P] [--user U]';
const OFFSITE_TARGETS = ['folder', 'rgw'];
/** The rows' tool per off-site target. */
const OFFSITE_TOOL = { folder: 'pacta-offsite', rgw: 'pacta-offsite-rgw' };

const parseArgs = (argv) => {
  const options = { db: 'sqlite', datasets: ['S', 'M'], keep: false, reuse: false, import: null, offsite: [], offsiteOnly: false, strapiTimeoutMs: null, server: {} };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => {
      const raw = inline !== undefined ? inline : argv[(i += 1)];
      if (raw === undefined || raw === '') throw new Error(`${flag} needs a value\n${USAGE}`);
      return raw;
    };
    if (flag === '--keep') options.keep = true;
    else if (flag === '--reuse') options.reuse = true;
    else if (flag === '--import') options.import = true;
    else if (flag === '--offsite') {
      // A bare --offsite is the folder; --offsite rgw, or folder,rgw.
      const next = inline !== undefined ? inline : argv[i + 1];
      const targets = next && !next.startsWith('--') ? String(inline !== undefined ? inline : argv[(i += 1)]).split(',') : ['folder'];
      const bad = targets.filter((t) => !OFFSITE_TARGETS.includes(t));
      if (bad.length) throw new Error(`--offsite: one or more of ${OFFSITE_TARGETS.join(',')}\n${USAGE}`);
      options.offsite = targets;
    } else if (flag === '--offsite-only') options.offsiteOnly = true;
    else if (flag === '--no-import') options.import = false;
    else if (flag === '--db') {
      options.db = value().toLowerCase();
      if (!ENGINES.includes(options.db)) throw new Error(`--db: one of ${ENGINES.join(', ')}\n${USAGE}`);
    } else if (['--host', '--port', '--user'].includes(flag)) options.server[flag.slice(2)] = value();
    else if (flag === '--strapi-timeout') {
      const seconds = Number(value());
      if (!(seconds > 0)) throw new Error(`--strapi-timeout: seconds, more than 0\n${USAGE}`);
      options.strapiTimeoutMs = seconds * 1000;
    }
    else if (flag === '--datasets') {
      options.datasets = String(value())
        .split(',')
        .map((d) => d.trim().toUpperCase())
        .filter(Boolean);
      const bad = options.datasets.filter((d) => !DATASETS[d]);
      if (!options.datasets.length || bad.length) throw new Error(`--datasets: one or more of ${Object.keys(DATASETS).join(',')}\n${USAGE}`);
    } else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
  }
  // The import's preview and apply: part of the SQLite run as before; on the server engines only
  // when asked (--import), so that a run of S and M per engine stays bounded.
  if (options.import === null) options.import = options.db === 'sqlite' && !options.offsiteOnly;
  if (options.offsiteOnly && !options.offsite.length) options.offsite = ['folder'];
  // strapi import on a server engine inserts entity by entity: on M it would take most of the run.
  // Past this it is killed and recorded as timed out (a result, like its running out of heap).
  if (options.strapiTimeoutMs === null) options.strapiTimeoutMs = options.db === 'sqlite' ? TIMEOUT_MS : STRAPI_SERVER_TIMEOUT_MS;
  return options;
};

/** The Strapi CLI's entry script, run with node directly (npx would add its own node process). */
const strapiBin = () => {
  for (const base of [path.join(APP, 'node_modules'), path.join(ROOT, 'node_modules')]) {
    const pkgFile = path.join(base, '@strapi', 'strapi', 'package.json');
    if (fs.existsSync(pkgFile)) {
      const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
      const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin.strapi;
      return { file: path.join(path.dirname(pkgFile), bin), version: pkg.version };
    }
  }
  throw new Error('@strapi/strapi is not installed (run npm ci)');
};

// ---------------------------------------------------------------------------------------------
// Measuring a process tree

const readStatus = (pid) => {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
      return match ? Number(match[1]) * 1024 : 0;
    };
    return { name: /^Name:\s+(.*)$/m.exec(text)?.[1] ?? '?', rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null; // gone
  }
};

const childrenOf = (pid) => {
  const children = [];
  let tasks = [];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return children;
  }
  for (const tid of tasks) {
    try {
      const text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) children.push(...text.split(/\s+/).map(Number));
    } catch {
      // the task ended
    }
  }
  return children;
};

/** Every pid of the tree under root (root included), as seen now. */
const treeOf = (root) => {
  const pids = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift();
    pids.push(pid);
    queue.push(...childrenOf(pid));
  }
  return pids;
};

/**
 * Runs one command and measures it: wall time from spawn to exit; peak RSS of the tree as the
 * larger of (a) the largest sum of VmRSS over all live processes of the tree in one sample
 * (every POLL_MS) and (b) the largest VmHWM (the kernel's own per-process peak, which also
 * catches peaks between samples) of any single process of the tree.
 */
const measure = ({ label, command, args, cwd, env, logFile, timeoutMs = TIMEOUT_MS }) =>
  new Promise((resolve, reject) => {
    const log = fs.openSync(logFile, 'w');
    fs.writeSync(log, `$ (cd ${cwd} && ${command} ${args.join(' ')})\n`);
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', log], detached: true });
    running.add(child.pid);
    const stdout = [];
    child.stdout.on('data', (chunk) => {
      stdout.push(chunk);
      fs.writeSync(log, chunk);
    });
    let peakTree = 0;
    let samples = 0;
    const processes = new Map(); // pid → { name, hwm }
    const sample = () => {
      let sum = 0;
      for (const pid of treeOf(child.pid)) {
        const status = readStatus(pid);
        if (!status) continue;
        sum += status.rss;
        const seen = processes.get(pid) ?? { name: status.name, hwm: 0 };
        seen.hwm = Math.max(seen.hwm, status.hwm);
        seen.name = status.name;
        processes.set(pid, seen);
      }
      samples += 1;
      peakTree = Math.max(peakTree, sum);
    };
    sample();
    const timer = setInterval(sample, POLL_MS);
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      fs.writeSync(log, `\n[bench] ${label}: timed out after ${timeoutMs / 1000} s, killed\n`);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('error', (error) => {
      clearInterval(timer);
      clearTimeout(timeout);
      running.delete(child.pid);
      fs.closeSync(log);
      reject(error);
    });
    child.on('close', (code, signal) => {
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearInterval(timer);
      clearTimeout(timeout);
      running.delete(child.pid);
      fs.closeSync(log);
      const maxHwm = Math.max(0, ...[...processes.values()].map((p) => p.hwm));
      resolve({
        label,
        code,
        signal,
        timedOut,
        wallSeconds,
        peakRssMB: Math.max(peakTree, maxHwm) / MB,
        peakTreeSumMB: peakTree / MB,
        maxProcessHwmMB: maxHwm / MB,
        processes: [...processes.entries()].map(([pid, p]) => ({ pid, name: p.name, hwmMB: round(p.hwm / MB, 1) })),
        samples,
        stdout: Buffer.concat(stdout).toString('utf8'),
        logFile,
      });
    });
  });

/** Children still running (killed, by their own process group, if the bench is interrupted). */
const running = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const pid of running) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers

const round = (n, digits = 2) => (n === null || n === undefined || Number.isNaN(n) ? null : Number(n.toFixed(digits)));
const size = (file) => fs.statSync(file).size;
const tail = (file, lines = 30) => fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
const say = (message) => console.log(`[bench] ${message}`);

const check = (result, what) => {
  if (result.code !== 0) {
    throw new Error(`${what} failed (exit ${result.code}${result.signal ? `, ${result.signal}` : ''}); log ${result.logFile}:\n${tail(result.logFile)}`);
  }
  return result;
};

/** Compressed and uncompressed sizes of the zip entries, from its central directory. */
const zipEntries = async (file) => {
  const unzipper = require('unzipper');
  const directory = await unzipper.Open.file(file);
  const manifestFile = directory.files.find((f) => f.path === 'manifest.json');
  const manifest = manifestFile ? JSON.parse((await manifestFile.buffer()).toString('utf8')) : null;
  return {
    manifest,
    entries: directory.files.map((f) => ({ path: f.path, compressed: f.compressedSize, uncompressed: f.uncompressedSize })),
  };
};

const sumOf = (entries, test) =>
  entries.filter((e) => test(e.path)).reduce((acc, e) => ({ compressed: acc.compressed + e.compressed, uncompressed: acc.uncompressed + e.uncompressed }), { compressed: 0, uncompressed: 0 });

const du = (dir) => {
  let total = 0;
  let files = 0;
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) {
        total += fs.statSync(p).size;
        files += 1;
      }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return { bytes: total, files };
};

/**
 * A safety backup's own duration and size: createdAt (its manifest) is when it started,
 * verifiedAt (its .meta.json) when it was read back and listed.
 */
const safetyBackupOf = async (backups, id) => {
  if (!id) return null;
  const safetyArchive = path.join(backups, `${id}.pacta.zip`);
  const safetyZip = await zipEntries(safetyArchive);
  const meta = JSON.parse(fs.readFileSync(`${safetyArchive}.meta.json`, 'utf8'));
  return {
    id,
    seconds: round((Date.parse(meta.verifiedAt) - Date.parse(safetyZip.manifest.createdAt)) / 1000),
    bytes: size(safetyArchive),
    timingsMs: safetyZip.manifest.timings,
    verifyMs: meta.verifyMs,
  };
};

// ---------------------------------------------------------------------------------------------
// One dataset

/**
 * What the seeded data depends on: the seeder, the app's content types, Strapi's version. A
 * template whose fingerprint differs is seeded again.
 */
const seedFingerprint = (strapi) => {
  const hash = crypto.createHash('sha256');
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && (/\.(js|json|ts)$/.test(entry.name))) hash.update(`${path.relative(APP, p)}\0`).update(fs.readFileSync(p));
    }
  };
  hash.update(fs.readFileSync(path.join(APP, 'scripts', 'seed.js')));
  walk(path.join(APP, 'scripts', 'seed'));
  walk(path.join(APP, 'src'));
  hash.update(strapi.version);
  return hash.digest('hex').slice(0, 16);
};

/**
 * A one-node Ceph RGW on loopback for --offsite rgw (tests/s3/rgw.sh, as the tests start it),
 * with a bucket; `storedBytes` sums what the bucket holds; `stop` shuts it down.
 */
const startBenchRgw = async (dir) => {
  const { S3Client, CreateBucketCommand, ListObjectsV2Command } = require('@aws-sdk/client-s3');
  const script = path.join(ROOT, 'tests', 's3', 'rgw.sh');
  const rgwDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-bench-rgw-'));
  const port = String(7480 + (process.pid % 400));
  const accessKey = 'PACTABENCHACCESSKEY1';
  const secretKey = 'pacta-bench-secret-key-not-a-secret-00';
  const rgwEnv = { ...process.env, PACTA_RGW_PORT: port, PACTA_RGW_MON_PORT: String(Number(port) + 1000), PACTA_RGW_ACCESS_KEY: accessKey, PACTA_RGW_SECRET_KEY: secretKey };
  const started = Date.now();
  const result = require('node:child_process').spawnSync('bash', [script, 'start', rgwDir], { env: rgwEnv, encoding: 'utf8', timeout: 180_000 });
  const stop = () => require('node:child_process').spawnSync('bash', [script, 'stop', rgwDir], { env: rgwEnv });
  if (result.status !== 0) {
    stop();
    throw new Error(`Ceph RGW did not start (tests/s3/rgw.sh start): ${(result.stderr || '').trim().split('\n').slice(-5).join(' | ')}`);
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const bucket = `pacta-bench-${path.basename(dir).toLowerCase()}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const storedBytes = async () => {
    let bytes = 0;
    let token;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const object of page.Contents ?? []) bytes += object.Size ?? 0;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return bytes;
  };
  return {
    endpoint,
    bucket,
    accessKey,
    secretKey,
    seconds: (Date.now() - started) / 1000,
    storedBytes,
    stop: () => {
      client.destroy();
      stop();
    },
  };
};

const runDataset = async (name, secrets, strapi, engine, options) => {
  const spec = DATASETS[name];
  const dir = path.join(WORK, engine.name, name);
  const logs = path.join(dir, 'logs');
  const backups = path.join(dir, 'backups');
  const publicDir = path.join(dir, 'public');
  const database = engine.databaseOf(dir, name);
  const server = engine.name !== 'sqlite';
  fs.rmSync(dir, { recursive: true, force: true });
  for (const d of [logs, backups, path.join(publicDir, 'uploads')]) fs.mkdirSync(d, { recursive: true });

  const envFor = (db, pub, store) => {
    const env = { ...process.env };
    for (const key of Object.keys(env)) if (/^(DATABASE_|PACTA_BACKUP_)/.test(key)) delete env[key];
    return Object.assign(env, secrets, engine.appEnv(db), {
      PUBLIC_DIR: pub,
      PACTA_BACKUP_STORAGE: store,
      // No scheduled backup, purge or drill in the processes that boot the whole app (strapi
      // export / import): one at 02:00 purged the backup a run was measuring.
      PACTA_BACKUP_ENABLED: 'false',
      ENV_PATH: path.join(dir, 'no-such.env'),
      STRAPI_TELEMETRY_DISABLED: 'true',
      FORCE_COLOR: '0',
    });
  };
  const env = envFor(database, publicDir, backups);
  const run = (label, command, args, cwd = ROOT, runEnv = env, timeoutMs = TIMEOUT_MS) =>
    measure({ label, command, args, cwd, env: runEnv, logFile: path.join(logs, `${label}.log`), timeoutMs });
  const rows = [];
  const measuredAt = new Date().toISOString();
  const row = (tool, operation, result, bytes, detail) => {
    const entry = {
      engine: engine.name,
      dataset: name,
      tool,
      operation,
      wallSeconds: round(result.wallSeconds),
      peakRssMB: round(result.peakRssMB, 1),
      bytes,
      measuredAt,
      loadAverage: round(os.loadavg()[0], 1), // the machine's 1-minute load when the step ended: figures on a busy machine are slower
    };
    if (detail) entry.detail = detail;
    rows.push(entry);
    return entry;
  };
  const seedArgs = [
    path.join(APP, 'scripts', 'seed.js'),
    ...['--documents', String(spec.documents), '--media', String(spec.media), '--seed', String(spec.seed)],
    ...(spec.pdfBytes ? ['--pdf-bytes', String(spec.pdfBytes)] : []),
  ];

  // The seeded data: seeded into the dataset's own database, or (--reuse) copied from a template
  // seeded once with the same parameters (tests/bench/work/templates/<engine>-<ds>/: the uploads
  // and template.json; the template database bench_tpl_<ds>, or data.db there on SQLite).
  let seeded;
  let seedInfo;
  if (options.reuse) {
    const tplDir = path.join(TEMPLATES, `${engine.name}-${name}`);
    const tplDb = engine.databaseOf(tplDir, name, true);
    const tplFile = path.join(tplDir, 'template.json');
    const wanted = { engine: engine.name, server: engine.server, database: tplDb, ...spec, fingerprint: seedFingerprint(strapi) };
    let recorded = null;
    try {
      recorded = JSON.parse(fs.readFileSync(tplFile, 'utf8'));
    } catch {
      // none yet
    }
    const same = recorded && JSON.stringify(recorded.params) === JSON.stringify(wanted) && engine.exists(tplDb) && fs.existsSync(path.join(tplDir, 'public', 'uploads'));
    if (!same) {
      say(`${name}: seeding the template ${server ? tplDb : tplDir} (${spec.documents} contracts, ${spec.media} media files; not measured)${recorded ? ': its parameters changed' : ''}`);
      fs.rmSync(tplDir, { recursive: true, force: true });
      fs.mkdirSync(path.join(tplDir, 'public', 'uploads'), { recursive: true });
      engine.reset(tplDb);
      seeded = check(await run('seed', process.execPath, seedArgs, ROOT, envFor(tplDb, path.join(tplDir, 'public'), path.join(tplDir, 'backups'))), 'seeding the template');
      recorded = { params: wanted, seededAt: new Date().toISOString(), seedSeconds: round(seeded.wallSeconds, 1), seedPeakRssMB: round(seeded.peakRssMB, 1) };
      fs.writeFileSync(tplFile, `${JSON.stringify(recorded, null, 2)}\n`);
    } else say(`${name}: reusing the template ${server ? tplDb : tplDir} seeded ${recorded.seededAt} (in ${recorded.seedSeconds} s)`);
    const copyStarted = Date.now();
    engine.copy(tplDb, database);
    fs.rmSync(publicDir, { recursive: true, force: true });
    fs.cpSync(path.join(tplDir, 'public'), publicDir, { recursive: true });
    seedInfo = { fromTemplate: true, reused: same, templateSeededAt: recorded.seededAt, copySeconds: round((Date.now() - copyStarted) / 1000, 1) };
    seeded = seeded ?? { wallSeconds: recorded.seedSeconds, peakRssMB: recorded.seedPeakRssMB, processes: [] };
    say(`${name}: copied the template into ${server ? database : dir} in ${seedInfo.copySeconds} s (not measured)`);
  } else {
    say(`${name}: seeding ${spec.documents} contracts, ${spec.media} media files (not measured) into ${server ? `${engine.label} database ${database}, uploads in ` : ''}${dir}`);
    engine.reset(database);
    seeded = check(await run('seed', process.execPath, seedArgs), 'seeding');
    seedInfo = { fromTemplate: false };
  }
  const uploads = du(path.join(publicDir, 'uploads'));
  const databaseBytes = engine.sizeOf(database);
  const leftovers = server ? [] : fs.readdirSync(dir).filter((f) => f.startsWith('data.db-'));
  say(
    `${name}: seeded in ${seeded.wallSeconds.toFixed(1)} s (peak RSS ${seeded.peakRssMB.toFixed(0)} MB): ${server ? database : 'data.db'} ${(databaseBytes / MB).toFixed(1)} MB, ` +
      `uploads ${uploads.files} files ${(uploads.bytes / MB).toFixed(1)} MB${leftovers.length ? `, also ${leftovers.join(', ')}` : ''}`
  );
  const dataset = { name, ...spec, seedSeconds: round(seeded.wallSeconds, 1), databaseBytes, uploads };
  if (!options.offsiteOnly) row('seeder', 'seed', seeded, databaseBytes, { ...spec, ...seedInfo, uploads, ...(server ? { database } : {}) });

  /**
   * Three backups copied deduplicated to `target` (a folder, or a bucket of a Ceph RGW started
   * for it): the first (full), the next with nothing changed, the next after 1 % of the contracts
   * were edited. Each row: the backup and its copy (wall time, peak RSS), the bytes sent, and
   * what the target stores afterwards, beside the archive a whole-archive copy sends.
   */
  const runOffsite = async (target) => {
    const tool = OFFSITE_TOOL[target];
    let offsiteEnv;
    let stored;
    let stop = () => undefined;
    if (target === 'folder') {
      const folder = path.join(dir, 'offsite');
      fs.mkdirSync(folder, { recursive: true });
      offsiteEnv = { ...env, PACTA_BACKUP_OFFSITE_BACKEND: 'local', PACTA_BACKUP_OFFSITE_FOLDER: folder };
      stored = async () => du(folder).bytes;
    } else {
      const rgw = await startBenchRgw(dir);
      stop = rgw.stop;
      offsiteEnv = {
        ...env,
        PACTA_BACKUP_OFFSITE_BACKEND: 's3',
        PACTA_BACKUP_OFFSITE_ENDPOINT: rgw.endpoint,
        PACTA_BACKUP_OFFSITE_BUCKET: rgw.bucket,
        PACTA_BACKUP_S3_ACCESS_KEY_ID: rgw.accessKey,
        PACTA_BACKUP_S3_SECRET_ACCESS_KEY: rgw.secretKey,
      };
      stored = rgw.storedBytes;
      say(`${name}: Ceph RGW on ${rgw.endpoint} (bucket ${rgw.bucket}) started in ${rgw.seconds.toFixed(1)} s (not measured)`);
    }
    offsiteEnv = { ...offsiteEnv, PACTA_BACKUP_OFFSITE_ENABLED: 'true', PACTA_BACKUP_OFFSITE_DEDUPLICATE: 'true' };
    const copy = async (operation) => {
      const result = check(await run(`${tool}-${operation}`, process.execPath, [CLI, 'backup', '--app', APP, '--json'], ROOT, offsiteEnv), `pacta backup (${operation}, ${target})`);
      const copied = JSON.parse(result.stdout);
      if (copied.offsite?.status !== 'copied') throw new Error(`the off-site copy of ${operation} failed: ${copied.offsite?.error}; log ${result.logFile}`);
      const { sentBytes, reusedBytes } = copied.offsite.deduplicated;
      const storedBytes = await stored();
      const entry = row(tool, operation, result, sentBytes, {
        target,
        archiveBytes: copied.size,
        reusedBytes,
        sentPercentOfArchive: round((100 * sentBytes) / copied.size, 2),
        copySeconds: copied.offsite.seconds,
        storedBytes,
      });
      say(
        `${name}: ${target}: ${operation}: backup and copy ${result.wallSeconds.toFixed(1)} s (copy ${copied.offsite.seconds} s), ${result.peakRssMB.toFixed(0)} MB; ` +
          `sent ${(sentBytes / MB).toFixed(2)} MB (${entry.detail.sentPercentOfArchive}% of the ${(copied.size / MB).toFixed(1)} MB archive a whole-archive copy sends), reused ${(reusedBytes / MB).toFixed(1)} MB; ` +
          `the ${target} stores ${(storedBytes / MB).toFixed(1)} MB`
      );
    };
    try {
      await copy('offsite-full');
      await copy('offsite-unchanged');
      const edited = check(
        await run(`diverge-1pct-${target}`, process.execPath, [path.join(__dirname, 'diverge.js'), '--edit', '0.01', '--delete', '0', '--create', '0', '--seed', '3']),
        '1 % of the contracts edited'
      );
      say(`${name}: edited 1 % of the contracts in ${edited.wallSeconds.toFixed(1)} s (not measured)`);
      await copy('offsite-1pct-edited');
    } finally {
      stop();
    }
  };
  if (options.offsiteOnly) {
    for (const target of options.offsite) await runOffsite(target);
    return { dataset, rows };
  }

  // The natives' backup. SQLite: the floor, the database file and the uploads gzipped by tar.
  // PostgreSQL / MariaDB: the engine's dump, then tar czf of the uploads, each measured; the row
  // is their sum (wall time, bytes; RSS the larger), the parts in its detail.
  let floor;
  let nativeBackup;
  const uploadsTgz = path.join(dir, 'uploads.tar.gz');
  const dumpFile = server ? path.join(dir, engine.native.dumpFile) : null;
  const part = (result, bytes) => ({ wallSeconds: round(result.wallSeconds), peakRssMB: round(result.peakRssMB, 1), bytes });
  const sum = (a, b) => ({ wallSeconds: a.wallSeconds + b.wallSeconds, peakRssMB: Math.max(a.peakRssMB, b.peakRssMB), processes: [...a.processes, ...b.processes] });
  if (!server) {
    const floorFile = path.join(dir, 'floor.tar.gz');
    floor = check(await run('tar-floor', 'tar', ['czf', floorFile, '-C', dir, 'data.db', ...leftovers, 'public/uploads']), 'tar czf');
    row('tar', 'floor', floor, size(floorFile));
    say(`${name}: tar czf ${floor.wallSeconds.toFixed(1)} s, ${(size(floorFile) / MB).toFixed(1)} MB`);
  } else {
    const d = engine.native.dump(database, dumpFile);
    const dumped = check(await run('native-dump', d.command, d.args, ROOT, { ...env, ...d.env }), engine.native.dumpText);
    const tarred = check(await run('native-tar', 'tar', ['czf', uploadsTgz, '-C', dir, 'public/uploads']), 'tar czf of the uploads');
    nativeBackup = sum(dumped, tarred);
    floor = nativeBackup;
    row('native', 'backup', nativeBackup, size(dumpFile) + size(uploadsTgz), {
      command: `${engine.native.dumpText} + tar czf uploads`,
      dump: part(dumped, size(dumpFile)),
      tar: part(tarred, size(uploadsTgz)),
    });
    say(
      `${name}: native backup ${nativeBackup.wallSeconds.toFixed(1)} s (${engine.native.dumpText} ${dumped.wallSeconds.toFixed(1)} s, ${(size(dumpFile) / MB).toFixed(1)} MB; ` +
        `tar czf uploads ${tarred.wallSeconds.toFixed(1)} s, ${(size(uploadsTgz) / MB).toFixed(1)} MB), ${nativeBackup.peakRssMB.toFixed(0)} MB RSS`
    );
  }

  // pacta backup (unencrypted, default compression, media included).
  const backup = check(await run('pacta-backup', process.execPath, [CLI, 'backup', '--app', APP, '--json']), 'pacta backup');
  const backupJson = JSON.parse(backup.stdout);
  const archive = path.join(backups, `${backupJson.id}.pacta.zip`);
  const zip = await zipEntries(archive);
  const rowsZip = sumOf(zip.entries, (p) => p.startsWith('tables/'));
  const mediaZip = sumOf(zip.entries, (p) => p.startsWith('media/'));
  const manifestRows = (zip.manifest?.entries ?? []).filter((e) => e.path.startsWith('tables/')).reduce((n, e) => n + e.size, 0);
  const backupRow = row('pacta', 'backup', backup, size(archive), {
    rows: backupJson.rows,
    mediaFiles: backupJson.media?.files,
    rowsUncompressedBytes: rowsZip.uncompressed,
    rowsUncompressedBytesInManifest: manifestRows,
    rowsCompressedBytes: rowsZip.compressed,
    rowsCompressionPercent: round(100 * (1 - rowsZip.compressed / rowsZip.uncompressed), 1),
    mediaUncompressedBytes: mediaZip.uncompressed,
    mediaCompressedBytes: mediaZip.compressed,
    timingsMs: zip.manifest?.timings,
    verifyMs: JSON.parse(fs.readFileSync(`${archive}.meta.json`, 'utf8')).verifyMs,
    processes: backup.processes.length,
  });
  say(
    `${name}: pacta backup ${backup.wallSeconds.toFixed(1)} s, ${backup.peakRssMB.toFixed(0)} MB: ${backupJson.rows} rows, ${backupJson.media?.files} media files, ` +
      `${(backupRow.bytes / MB).toFixed(1)} MB; rows ${(rowsZip.uncompressed / MB).toFixed(1)} → ${(rowsZip.compressed / MB).toFixed(1)} MB ` +
      `(${backupRow.detail.rowsCompressionPercent}% smaller); engine timings ${JSON.stringify(zip.manifest?.timings)} verify ${backupRow.detail.verifyMs} ms`
  );

  // strapi export (unencrypted, gzip-compressed tar).
  const exportBase = path.join(dir, 'export');
  const exported = check(await run('strapi-export', process.execPath, [strapi.file, 'export', '--no-encrypt', '-f', exportBase], APP), 'strapi export');
  const exportFile = `${exportBase}.tar.gz`;
  if (!fs.existsSync(exportFile)) throw new Error(`strapi export wrote no ${exportFile}; log ${exported.logFile}`);
  row('strapi', 'backup', exported, size(exportFile), { processes: exported.processes.length });
  say(`${name}: strapi export ${exported.wallSeconds.toFixed(1)} s, ${exported.peakRssMB.toFixed(0)} MB, ${(size(exportFile) / MB).toFixed(1)} MB`);

  // The natives' restore (PostgreSQL / MariaDB), over the seeded data in place, as ours runs:
  // the dump loaded back (it drops and recreates what it holds), then the uploads untarred over
  // the public folder. It leaves the seeded data as it was, for our restore next.
  let nativeRestore = null;
  if (server) {
    const l = engine.native.load(database, dumpFile);
    const loaded = check(await run('native-load', l.command, l.args, ROOT, { ...env, ...l.env }), engine.native.loadText);
    const untarred = check(await run('native-untar', 'tar', ['xzf', uploadsTgz, '-C', dir]), 'tar xzf of the uploads');
    nativeRestore = sum(loaded, untarred);
    row('native', 'restore', nativeRestore, size(dumpFile) + size(uploadsTgz), {
      command: `${engine.native.loadText} + tar xzf uploads over the public folder`,
      load: part(loaded, size(dumpFile)),
      untar: part(untarred, size(uploadsTgz)),
    });
    say(
      `${name}: native restore ${nativeRestore.wallSeconds.toFixed(1)} s (load ${loaded.wallSeconds.toFixed(1)} s, untar ${untarred.wallSeconds.toFixed(1)} s), ` +
        `${nativeRestore.peakRssMB.toFixed(0)} MB RSS`
    );
  }

  // pacta restore of that backup, over the seeded data (its safety backup included).
  const restore = check(await run('pacta-restore', process.execPath, [CLI, 'restore', 'latest', '--app', APP, '--yes', '--json']), 'pacta restore');
  const restoreJson = JSON.parse(restore.stdout);
  const inserted = (restoreJson.tables ?? []).reduce((n, t) => n + t.inserted, 0);
  const deleted = (restoreJson.tables ?? []).reduce((n, t) => n + t.deleted, 0);
  if (inserted !== backupJson.rows) throw new Error(`pacta restore inserted ${inserted} rows, the backup holds ${backupJson.rows}; log ${restore.logFile}`);
  const safety = await safetyBackupOf(backups, restoreJson.safetyBackupId);
  // The safety backup's time as the restore reports it (timings.safetyBackupMs), else as its archive says.
  const safetySeconds = typeof restoreJson.timings?.safetyBackupMs === 'number' ? restoreJson.timings.safetyBackupMs / 1000 : (safety?.seconds ?? 0);
  const restoreRow = row('pacta', 'restore', restore, size(archive), {
    rowsDeleted: deleted,
    rowsInserted: inserted,
    mediaFiles: restoreJson.media?.files,
    safetyBackupSeconds: round(safetySeconds),
    wallSecondsWithoutSafetyBackup: round(restore.wallSeconds - safetySeconds),
    timingsMs: restoreJson.timings,
    safetyBackup: safety,
    processes: restore.processes.length,
  });
  say(
    `${name}: pacta restore ${restore.wallSeconds.toFixed(1)} s (of which safety backup ${safetySeconds.toFixed(1)} s; ` +
      `${restoreRow.detail.wallSecondsWithoutSafetyBackup} s without it), ${restore.peakRssMB.toFixed(0)} MB: ${deleted} rows deleted, ${inserted} inserted, ` +
      `${restoreJson.media?.files} media files`
  );

  // Import, as a team moves content from staging to production: both sides start from the
  // backup (the restore above left its data, and records it as their base), each then goes its
  // own way, and staging's backup is imported into production. Not measured: staging's edits
  // (DIVERGE of the contracts: drafts edited, some deleted, some created), staging's backup, the
  // restore of the backup again, production's own edits (the same amounts, other contracts but
  // for a few, so some documents changed on both sides). Then, each measured alone, the preview of
  // staging's backup against production and the apply of that preview (every conflict takes the
  // archive's version; its safety backup included, as in the restore).
  const runImport = async () => {
    const diverge = async (label, seed) => {
      const result = check(
        await run(label, process.execPath, [
          path.join(__dirname, 'diverge.js'),
          '--edit', String(DIVERGE.edit), '--delete', String(DIVERGE.delete), '--create', String(DIVERGE.create), '--seed', String(seed),
        ]),
        label
      );
      const summary = JSON.parse(result.stdout);
      say(
        `${name}: ${label} in ${result.wallSeconds.toFixed(1)} s (not measured): of ${summary.documents} contracts ${summary.edited} edited ` +
          `(${summary.editedRows} draft rows), ${summary.deleted} deleted, ${summary.created} created`
      );
      return summary;
    };
    const stagingEdits = await diverge('diverge-staging', spec.seed + 1);
    const staged = check(await run('staging-backup', process.execPath, [CLI, 'backup', '--app', APP, '--json']), "staging's backup");
    const stagingJson = JSON.parse(staged.stdout);
    const stagingArchive = path.join(backups, `${stagingJson.id}.pacta.zip`);
    say(`${name}: staging's backup ${stagingJson.id} in ${staged.wallSeconds.toFixed(1)} s (not measured), ${(size(stagingArchive) / MB).toFixed(1)} MB`);
    const back = check(await run('restore-production', process.execPath, [CLI, 'restore', backupJson.id, '--app', APP, '--yes', '--json']), 'restore before the import');
    say(`${name}: restored ${backupJson.id} again in ${back.wallSeconds.toFixed(1)} s (not measured)`);
    const productionEdits = await diverge('diverge-production', spec.seed + 2);
    const divergedJson = { staging: stagingEdits, production: productionEdits };
    const importStep = path.join(__dirname, 'import-step.js');
    const preview = check(await run('pacta-import-preview', process.execPath, [importStep, 'preview', '--app', APP, '--backup', stagingJson.id]), 'pacta import preview');
    const previewJson = JSON.parse(preview.stdout);
    const totals = previewJson.types.reduce(
      (acc, t) => Object.fromEntries(Object.keys(acc).map((k) => [k, acc[k] + (t.counts[k] ?? 0)])),
      { create: 0, update: 0, unchanged: 0, conflict: 0, absent: 0 }
    );
    row('pacta', 'import-preview', preview, size(stagingArchive), {
      mode: previewJson.mode,
      counts: totals,
      perType: previewJson.types,
      media: previewJson.media,
      dangling: previewJson.dangling,
      jobSeconds: round(previewJson.jobMs / 1000),
      diverged: divergedJson,
      processes: preview.processes.length,
    });
    say(
      `${name}: pacta import preview ${preview.wallSeconds.toFixed(1)} s (job ${(previewJson.jobMs / 1000).toFixed(1)} s), ${preview.peakRssMB.toFixed(0)} MB: ` +
        `${previewJson.mode}; document versions ${JSON.stringify(totals)}`
    );
    const apply = check(await run('pacta-import-apply', process.execPath, [importStep, 'apply', '--app', APP, '--preview', previewJson.previewId, '--policy', 'incoming']), 'pacta import apply');
    const applyJson = JSON.parse(apply.stdout);
    const applySafety = await safetyBackupOf(backups, applyJson.safetyBackupId);
    const written = (applyJson.types ?? []).reduce(
      (acc, t) => ({ created: acc.created + t.created, updated: acc.updated + t.updated, deleted: acc.deleted + t.deleted, skipped: acc.skipped + t.skipped }),
      { created: 0, updated: 0, deleted: 0, skipped: 0 }
    );
    const applyRow = row('pacta', 'import-apply', apply, size(stagingArchive), {
      ...written,
      conflicts: (applyJson.conflicts ?? []).length,
      media: applyJson.media,
      remapped: applyJson.remapped,
      jobSeconds: round(applyJson.jobMs / 1000),
      safetyBackupSeconds: applySafety?.seconds ?? 0,
      wallSecondsWithoutSafetyBackup: round(apply.wallSeconds - (applySafety?.seconds ?? 0)),
      safetyBackup: applySafety,
      processes: apply.processes.length,
    });
    say(
      `${name}: pacta import apply ${apply.wallSeconds.toFixed(1)} s (of which safety backup ${applySafety ? applySafety.seconds.toFixed(1) : 0} s; ` +
        `${applyRow.detail.wallSecondsWithoutSafetyBackup} s without it), ${apply.peakRssMB.toFixed(0)} MB: ${JSON.stringify(written)}, ` +
        `${applyRow.detail.conflicts} conflicts resolved, media ${JSON.stringify(applyJson.media)}`
    );
    // Back to the backup's data for strapi import, as before the import steps (not measured).
    const reset = check(await run('reset-restore', process.execPath, [CLI, 'restore', backupJson.id, '--app', APP, '--yes', '--json']), 'restore after the import');
    say(`${name}: restored ${backupJson.id} again in ${reset.wallSeconds.toFixed(1)} s (not measured)`);
    return { preview, apply };
  };
  let preview = null;
  let apply = null;
  if (options.import) ({ preview, apply } = await runImport());
  else say(`${name}: import preview / apply not run on ${engine.label} (--import runs them)`);

  // strapi import of its export, over the data the restore left.
  // Strapi's own import may fail (on M it can run out of V8 heap): that is a result, recorded
  // with the time and memory it took to fail, not a failure of the bench.
  const imported = await run('strapi-import', process.execPath, [strapi.file, 'import', '--force', '-f', exportFile], APP, env, options.strapiTimeoutMs);
  const importError =
    imported.code === 0
      ? null
      : imported.timedOut
        ? `timed out after ${options.strapiTimeoutMs / 1000} s (killed; --strapi-timeout)`
        : `exit ${imported.code}${imported.signal ? ` ${imported.signal}` : ''}${/heap out of memory/i.test(tail(imported.logFile, 200)) ? ': JavaScript heap out of memory' : ''}`;
  row('strapi', 'restore', imported, size(exportFile), { processes: imported.processes.length, ...(importError ? { failed: importError } : {}) });
  say(`${name}: strapi import ${importError ? `FAILED (${importError}) after ` : ''}${imported.wallSeconds.toFixed(1)} s, ${imported.peakRssMB.toFixed(0)} MB`);

  // Deduplicated off-site copies (--offsite), last: their backups would change what `latest` is.
  for (const target of options.offsite) await runOffsite(target);

  const trees = { seed: seeded, [server ? 'nativeBackup' : 'floor']: floor, backup, exported, nativeRestore, restore, preview, apply, imported };
  const processCounts = Object.fromEntries(
    Object.entries(trees)
      .filter(([, r]) => r)
      .map(([k, r]) => [k, r.processes.map((p) => `${p.name}:${p.hwmMB}MB`).join(' ')])
  );
  say(`${name}: processes seen (name:VmHWM) ${JSON.stringify(processCounts)}`);
  return { dataset, rows };
};

// ---------------------------------------------------------------------------------------------
// The table

const pad = (text, width, left = false) => (left ? String(text).padEnd(width) : String(text).padStart(width));
const fmt = (n, digits = 1) => (n === null || n === undefined ? '-' : n.toFixed(digits));
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}x` : '-');

/**
 * One engine's table: per dataset, backup and restore (with and without its safety backup),
 * ours beside the native tools (SQLite: the tar czf floor; PostgreSQL / MariaDB: dump + tar of
 * the uploads, their restore + untar) and Strapi's export / import, with the ratios.
 */
const printTable = (rows, datasets, engine) => {
  const find = (dataset, tool, operation) => rows.find((r) => r.dataset === dataset && r.tool === tool && r.operation === operation);
  const nativeOf = (dataset, operation) => (engine.name === 'sqlite' ? (operation === 'backup' ? find(dataset, 'tar', 'floor') : null) : find(dataset, 'native', operation));
  const head = [
    pad('dataset', 7, true),
    pad('operation', 20, true),
    '|',
    pad('pacta s', 8),
    pad('native s', 9),
    pad('strapi s', 9),
    pad('pacta/native', 12),
    pad('strapi/pacta', 12),
    '|',
    pad('pacta MB', 9),
    pad('native MB', 9),
    pad('strapi MB', 9),
    '|',
    pad('pacta size', 10),
    pad('native size', 11),
    pad('strapi size', 11),
  ].join(' ');
  const native =
    engine.name === 'sqlite'
      ? 'native = tar czf of data.db and the uploads (the floor; no native restore)'
      : `native = ${engine.native.dumpText} + tar czf of the uploads; restore ${engine.native.loadText} + tar xzf`;
  const lines = [`${engine.label}: wall seconds, peak RSS of the process tree, bytes; ${native}`, head, '-'.repeat(head.length)];
  for (const dataset of datasets) {
    for (const operation of ['backup', 'restore']) {
      const ours = find(dataset, 'pacta', operation);
      const theirs = find(dataset, 'strapi', operation);
      const nat = nativeOf(dataset, operation);
      if (!ours) continue;
      const isBackup = operation === 'backup';
      const variants = [[operation, ours.wallSeconds]];
      if (!isBackup && ours.detail?.safetyBackupSeconds) variants.push(['  w/o safety backup', ours.detail.wallSecondsWithoutSafetyBackup]);
      for (const [label, seconds] of variants) {
        const first = label === operation;
        lines.push(
          [
            pad(dataset, 7, true),
            pad(label, 20, true),
            '|',
            pad(fmt(seconds), 8),
            pad(first || nat ? fmt(nat?.wallSeconds) : '', 9),
            pad(first ? `${fmt(theirs?.wallSeconds)}${theirs?.detail?.failed ? '!' : ''}` : '', 9),
            pad(ratio(seconds, nat?.wallSeconds), 12),
            pad(ratio(theirs?.wallSeconds, seconds), 12),
            '|',
            pad(first ? fmt(ours.peakRssMB, 0) : '', 9),
            pad(first ? fmt(nat?.peakRssMB, 0) : '', 9),
            pad(first ? fmt(theirs?.peakRssMB, 0) : '', 9),
            '|',
            pad(first && isBackup ? `${fmt(ours.bytes / MB)} MB` : '', 10),
            pad(first && isBackup && nat ? `${fmt(nat.bytes / MB)} MB` : '', 11),
            pad(first && isBackup && theirs ? `${fmt(theirs.bytes / MB)} MB` : '', 11),
          ].join(' ')
        );
      }
    }
    for (const operation of ['backup', 'restore']) {
      const nat = engine.name === 'sqlite' ? null : find(dataset, 'native', operation);
      if (!nat) continue;
      const parts = Object.entries(nat.detail ?? {})
        .filter(([, v]) => v && typeof v === 'object' && 'wallSeconds' in v)
        .map(([k, v]) => `${k} ${fmt(v.wallSeconds)} s, ${fmt(v.bytes / MB)} MB, ${fmt(v.peakRssMB, 0)} MB RSS`);
      lines.push(`${pad(dataset, 7, true)} native ${operation}: ${parts.join('; ')}`);
    }
  }
  for (const r of rows.filter((x) => x.detail?.failed)) lines.push(`! ${r.dataset} ${r.tool} ${r.operation} failed (${r.detail.failed}): its figures are up to the failure`);
  console.log(lines.join('\n'));
};

/** The deduplicated off-site copies (--offsite): what each sent, beside a whole-archive copy. */
const printOffsite = (rows, datasets) => {
  const lines = ['Off-site copies, deduplicated (offsite.deduplicate), beside a whole-archive copy (which sends the archive each time)'];
  for (const [target, tool] of Object.entries(OFFSITE_TOOL)) {
    for (const dataset of datasets) {
      for (const operation of ['offsite-full', 'offsite-unchanged', 'offsite-1pct-edited']) {
        const r = rows.find((x) => x.dataset === dataset && x.tool === tool && x.operation === operation);
        if (!r) continue;
        const storedBytes = r.detail.storedBytes ?? r.detail.folderBytes;
        lines.push(
          `${pad(target, 6, true)} ${pad(dataset, 3, true)} ${pad(operation, 20, true)} | backup+copy ${pad(fmt(r.wallSeconds), 6)} s, copy ${pad(fmt(r.detail.copySeconds), 5)} s, ${pad(fmt(r.peakRssMB, 0), 4)} MB RSS | ` +
            `sent ${pad(fmt(r.bytes / MB, 2), 7)} MB = ${pad(fmt(r.detail.sentPercentOfArchive, 2), 6)}% of the ${fmt(r.detail.archiveBytes / MB)} MB archive | stored ${fmt(storedBytes / MB)} MB`
        );
      }
    }
  }
  if (lines.length > 1) console.log(lines.join('\n'));
};

/** The import's rows: preview and apply into the diverged copy, the restore of the same archive beside them. */
const printImports = (rows, datasets) => {
  const find = (dataset, operation) => rows.find((r) => r.dataset === dataset && r.tool === 'pacta' && r.operation === operation);
  const head = [
    pad('dataset', 7, true),
    '|',
    pad('preview s', 9),
    pad('MB', 5),
    '|',
    pad('apply s', 7),
    pad('w/o safety', 10),
    pad('MB', 5),
    '|',
    pad('restore s', 9),
    pad('MB', 5),
    '|',
    pad('mode', 9, true),
    'document versions: create / update / unchanged / conflict / only here; written',
  ].join(' ');
  const lines = ["Import of staging's backup into production (pacta, three-way), beside the restore of the dataset's backup:", head, '-'.repeat(head.length)];
  for (const dataset of datasets) {
    const preview = find(dataset, 'import-preview');
    const apply = find(dataset, 'import-apply');
    const restore = find(dataset, 'restore');
    if (!preview || !apply) continue;
    const c = preview.detail.counts;
    const w = apply.detail;
    lines.push(
      [
        pad(dataset, 7, true),
        '|',
        pad(fmt(preview.wallSeconds), 9),
        pad(fmt(preview.peakRssMB, 0), 5),
        '|',
        pad(fmt(apply.wallSeconds), 7),
        pad(fmt(apply.detail.wallSecondsWithoutSafetyBackup), 10),
        pad(fmt(apply.peakRssMB, 0), 5),
        '|',
        pad(restore ? fmt(restore.wallSeconds) : '-', 9),
        pad(restore ? fmt(restore.peakRssMB, 0) : '-', 5),
        '|',
        pad(preview.detail.mode, 9, true),
        `${c.create} / ${c.update} / ${c.unchanged} / ${c.conflict} / ${c.absent}; ${w.created} created, ${w.updated} updated, ${w.conflicts} conflicts resolved`,
      ].join(' ')
    );
  }
  if (lines.length > 3) console.log(lines.join('\n'));
};

const printTargets = (rows, datasets, engine) => {
  const find = (dataset, tool, operation) => rows.find((r) => r.dataset === dataset && r.tool === tool && r.operation === operation);
  const verdict = (ok) => (ok ? 'met   ' : 'MISSED');
  for (const d of datasets) {
    const backup = find(d, 'pacta', 'backup');
    const exported = find(d, 'strapi', 'backup');
    const restore = find(d, 'pacta', 'restore');
    const imported = find(d, 'strapi', 'restore');
    if (!backup || !restore) continue;
    const lines = [];
    if (engine.name === 'sqlite') {
      const floor = find(d, 'tar', 'floor');
      if (floor) lines.push([backup.wallSeconds <= 2 * floor.wallSeconds, `backup within 2x of tar czf: ${ratio(backup.wallSeconds, floor.wallSeconds)}`]);
    } else {
      const nb = find(d, 'native', 'backup');
      const nr = find(d, 'native', 'restore');
      const without = restore.detail?.wallSecondsWithoutSafetyBackup ?? restore.wallSeconds;
      if (nb) lines.push([backup.wallSeconds <= 2 * nb.wallSeconds, `backup within 2x of ${engine.native.dumpText} + tar czf: ${ratio(backup.wallSeconds, nb.wallSeconds)}`]);
      if (nr) {
        lines.push([without <= 2 * nr.wallSeconds, `restore without its safety backup within 2x of the native restore + untar: ${ratio(without, nr.wallSeconds)}`]);
        lines.push([restore.wallSeconds <= 3 * nr.wallSeconds, `restore with its safety backup within 3x of the native restore + untar: ${ratio(restore.wallSeconds, nr.wallSeconds)}`]);
      }
    }
    lines.push([backup.peakRssMB < 300, `backup peak RSS < 300 MB: ${fmt(backup.peakRssMB, 0)} MB`]);
    lines.push([restore.peakRssMB < 300, `restore peak RSS < 300 MB: ${fmt(restore.peakRssMB, 0)} MB`]);
    const small = datasets.includes('S') && d !== 'S' ? { backup: find('S', 'pacta', 'backup'), restore: find('S', 'pacta', 'restore') } : null;
    if (small?.backup && small?.restore) {
      for (const op of ['backup', 'restore']) {
        const sm = small[op].peakRssMB;
        const m = find(d, 'pacta', op).peakRssMB;
        lines.push([m <= sm * 1.25, `${op} peak RSS flat from S to ${d} (within +25%): ${fmt(sm, 0)} → ${fmt(m, 0)} MB`]);
      }
    }
    if (exported) lines.push([exported.wallSeconds / backup.wallSeconds >= 3, `backup ≥ 3x faster than strapi export: ${ratio(exported.wallSeconds, backup.wallSeconds)}`]);
    if (imported) {
      // Strapi's failure (out of heap) counts as met; its being cut short (--strapi-timeout) only
      // when the time it had already took is 10x ours.
      const cutShort = /timed out/.test(imported.detail?.failed ?? '');
      lines.push([
        imported.wallSeconds / restore.wallSeconds >= 10 || (Boolean(imported.detail?.failed) && !cutShort),
        imported.detail?.failed
          ? // A ratio to a run that did not finish says nothing: what each did instead.
            `restore ≥ 10x faster than strapi import: strapi import failed after ${fmt(imported.wallSeconds)} s (${imported.detail.failed}); ours restored in ${fmt(restore.wallSeconds)} s`
          : `restore ≥ 10x faster than strapi import: ${ratio(imported.wallSeconds, restore.wallSeconds)} (without the safety backup ${ratio(imported.wallSeconds, restore.detail?.wallSecondsWithoutSafetyBackup)})`,
      ]);
    }
    if (backup.detail?.rowsCompressionPercent !== undefined) lines.push([backup.detail.rowsCompressionPercent >= 80, `rows compressed by ≥ 80%: ${backup.detail.rowsCompressionPercent}%`]);
    if (exported) lines.push([backup.bytes <= exported.bytes, `archive no larger than strapi export's: ${fmt(backup.bytes / MB)} MB vs ${fmt(exported.bytes / MB)} MB`]);
    const preview = find(d, 'pacta', 'import-preview');
    if (preview) lines.push([preview.peakRssMB < 400, `import preview peak RSS < 400 MB: ${fmt(preview.peakRssMB, 0)} MB`]);
    console.log(`Targets on ${engine.label} ${d}${d === datasets[0] ? " (informative, never a failure; the issue's targets are for M)" : ''}:`);
    for (const [ok, text] of lines) console.log(`  ${verdict(ok)} ${text}`);
  }
};

// ---------------------------------------------------------------------------------------------

const engineOf = (row) => row.engine ?? 'sqlite'; // rows written before the engines came are SQLite's
const ENGINE_ORDER = (row) => ENGINES.indexOf(engineOf(row)) * 10 + Object.keys(DATASETS).indexOf(row.dataset);

/**
 * The figures not measured this time, from the last results: every other engine's rows, and this
 * engine's rows of the datasets not run (--datasets M keeps S's); with `tools` (--offsite-only),
 * only the rows of those tools are replaced.
 */
const earlierResults = (engine, datasets, tools = null) => {
  try {
    return JSON.parse(fs.readFileSync(RESULTS, 'utf8'))
      .map((row) => ({ engine: engineOf(row), ...row }))
      .filter((row) => row.engine !== engine || !datasets.includes(row.dataset) || (tools !== null && !tools.includes(row.tool)));
  } catch {
    return [];
  }
};

/**
 * Writes this run's rows into the results: the file is read again at each write, so that a run
 * of another engine that finished meanwhile keeps its rows. Grouped by engine then dataset (a
 * stable sort keeps each group's order).
 */
const writeResults = (engine, rows, tools = null) => {
  const measured = [...new Set(rows.map((r) => r.dataset))];
  const all = [...earlierResults(engine, measured, tools), ...rows];
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  const sorted = all.sort((x, y) => ENGINE_ORDER(x) - ENGINE_ORDER(y));
  fs.writeFileSync(RESULTS, `${JSON.stringify(sorted, null, 2)}\n`);
  return sorted;
};

const main = async () => {
  const options = parseArgs(process.argv.slice(2));
  if (process.platform !== 'linux' || !fs.existsSync('/proc/self/status')) throw new Error('the bench measures memory through /proc: it runs on Linux only');
  if (!fs.existsSync(CLI)) throw new Error(`${path.relative(ROOT, CLI)} is missing: run npm run build first`);
  const engine = engineFor(options.db, options.server);
  const strapi = strapiBin();
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGB: round(os.totalmem() / 1024 ** 3, 1),
    loadAverage: os.loadavg().map((l) => round(l, 1)),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    strapi: strapi.version,
    plugin: JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version,
  };
  if (engine.server) {
    try {
      machine[engine.name] = `${engine.version()} at ${engine.server.host}:${engine.server.port} as ${engine.server.user}`;
    } catch (error) {
      throw new Error(`${engine.label} is not reachable at ${engine.server.host}:${engine.server.port} as ${engine.server.user}: ${error.message}`);
    }
  }
  say(`machine ${JSON.stringify(machine)}`);
  say(
    `${engine.label}: datasets ${options.datasets.join(', ')}${options.import ? ', with the import preview / apply' : ''}${options.reuse ? ', seeded data from templates (--reuse)' : ''}; ` +
      `work folder ${path.join(WORK, engine.name)}`
  );
  const secrets = appSecrets();
  const started = Date.now();
  // --offsite-only replaces the off-site rows of the datasets run, and keeps the others.
  const tools = options.offsiteOnly ? options.offsite.map((t) => OFFSITE_TOOL[t]) : null;
  const earlier = earlierResults(engine.name, options.datasets, tools);
  if (earlier.length) {
    const kept = [...new Set(earlier.map((r) => `${r.engine} ${r.dataset}`))];
    say(`keeping the earlier figures of ${kept.join(', ')} from ${path.relative(ROOT, RESULTS)}`);
  }
  let all = [...earlier];
  const fresh = [];
  const datasets = [];
  const durations = {};
  let failed = null;
  try {
    for (const name of options.datasets) {
      const datasetStarted = Date.now();
      const { dataset, rows } = await runDataset(name, secrets, strapi, engine, options);
      durations[name] = round((Date.now() - datasetStarted) / 60000, 1);
      say(`${name}: done in ${durations[name]} min (seeding included: ${dataset.seedSeconds} s)`);
      datasets.push(dataset);
      fresh.push(...rows);
      all = writeResults(engine.name, fresh, tools); // after each dataset, so a later failure keeps what was measured
    }
  } catch (error) {
    failed = error;
  }
  const mine = all.filter((r) => r.engine === engine.name);
  if (mine.length) {
    console.log('');
    const shown = Object.keys(DATASETS).filter((d) => mine.some((r) => r.dataset === d));
    printTable(mine, shown, engine);
    console.log('');
    printImports(mine, shown);
    console.log('');
    printOffsite(mine, shown);
    console.log('');
    printTargets(mine, shown, engine);
    console.log('');
    say(`restore bytes are the size of the archive restored from; peak RSS is of the whole process tree (see README)`);
  }
  if (datasets.length) say(`wrote ${path.relative(ROOT, RESULTS)} (${all.length} results, ${engine.label} ${datasets.map((d) => d.name).join(', ')} new) in ${((Date.now() - started) / 60000).toFixed(1)} min ${JSON.stringify(durations)}`);
  const workDir = path.join(WORK, engine.name);
  if (failed) say(`kept ${workDir} (logs of the failed run in <dataset>/logs/)${engine.server ? ` and the databases ${options.datasets.map((d) => engine.databaseOf(null, d)).join(', ')}` : ''}`);
  else if (!options.keep) {
    for (const name of options.datasets) {
      fs.rmSync(path.join(workDir, name), { recursive: true, force: true });
      if (engine.server) engine.drop(engine.databaseOf(null, name));
    }
  } else say(`kept ${workDir}${engine.server ? ` and the databases ${options.datasets.map((d) => engine.databaseOf(null, d)).join(', ')}` : ''}`);
  if (failed) throw failed;
};

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`[bench] ${error.stack || error.message}`);
    process.exit(1);
  }
);
