#!/usr/bin/env node
'use strict';

/**
 * npm run bench: pacta-backup against Strapi's own `strapi export` / `strapi import` and against
 * `tar czf` of the database file and the uploads (the floor), on seeded SQLite datasets.
 *
 *   node tests/bench/run.js [--datasets S,M] [--keep]
 *
 * For each dataset: a fresh work folder (tests/bench/work/<dataset>/: data.db, public/uploads,
 * backups, logs), seeded once, then, each one a child process measured on its own (wall time and
 * peak RSS of its whole process tree):
 *   tar czf floor → pacta backup → strapi export → pacta restore (over the seeded data) →
 *   [staging: edit, delete, create contracts; back it up; restore the backup again; production:
 *   other edits (not measured)] → pacta import preview of staging's backup → pacta import apply
 *   → [restore the backup again (not measured)] →
 *   strapi import --force (over the data the restore left, which is the seeded data).
 * Prints one table and writes tests/bench/results/latest.json. A benchmark, not a test: it exits
 * non-zero only when an operation fails, never because a target is missed.
 * See tests/bench/README.md.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const APP = path.join(ROOT, 'tests', 'app');
const WORK = path.join(__dirname, 'work');
const RESULTS = path.join(__dirname, 'results', 'latest.json');
const CLI = path.join(ROOT, 'dist', 'cli', 'index.js');
const { appSecrets } = require(path.join(ROOT, 'tests', 'helpers', 'secrets.js'));

const DATASETS = {
  S: { documents: 2000, media: 200, seed: 1 },
  M: { documents: 50000, media: 2000, seed: 1 },
};
/** How the data diverges from the backup before the import (fractions of the contracts). */
const DIVERGE = { edit: 0.05, delete: 0.01, create: 0.01 };
const POLL_MS = 50;
const TIMEOUT_MS = 60 * 60 * 1000;
const MB = 1024 * 1024;

const USAGE = 'usage: node tests/bench/run.js [--datasets S,M] [--keep]';

const parseArgs = (argv) => {
  const options = { datasets: ['S', 'M'], keep: false };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i].split('=', 2);
    if (flag === '--keep') options.keep = true;
    else if (flag === '--datasets') {
      const raw = inline !== undefined ? inline : argv[(i += 1)];
      options.datasets = String(raw ?? '')
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
const measure = ({ label, command, args, cwd, env, logFile }) =>
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
    const timeout = setTimeout(() => {
      fs.writeSync(log, `\n[bench] ${label}: timed out after ${TIMEOUT_MS / 1000} s, killed\n`);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, TIMEOUT_MS);
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

const runDataset = async (name, secrets, strapi) => {
  const spec = DATASETS[name];
  const dir = path.join(WORK, name);
  const logs = path.join(dir, 'logs');
  const backups = path.join(dir, 'backups');
  const publicDir = path.join(dir, 'public');
  const database = path.join(dir, 'data.db');
  fs.rmSync(dir, { recursive: true, force: true });
  for (const d of [logs, backups, path.join(publicDir, 'uploads')]) fs.mkdirSync(d, { recursive: true });

  const env = { ...process.env };
  for (const key of Object.keys(env)) if (/^(DATABASE_|PACTA_BACKUP_)/.test(key)) delete env[key];
  Object.assign(env, secrets, {
    DATABASE_CLIENT: 'sqlite',
    DATABASE_FILENAME: database,
    PUBLIC_DIR: publicDir,
    PACTA_BACKUP_STORAGE: backups,
    ENV_PATH: path.join(dir, 'no-such.env'),
    STRAPI_TELEMETRY_DISABLED: 'true',
    FORCE_COLOR: '0',
  });
  const run = (label, command, args, cwd = ROOT) => measure({ label, command, args, cwd, env, logFile: path.join(logs, `${label}.log`) });
  const rows = [];
  const row = (tool, operation, result, bytes, detail) => {
    const entry = {
      dataset: name,
      tool,
      operation,
      wallSeconds: round(result.wallSeconds),
      peakRssMB: round(result.peakRssMB, 1),
      bytes,
    };
    if (detail) entry.detail = detail;
    rows.push(entry);
    return entry;
  };

  say(`${name}: seeding ${spec.documents} contracts, ${spec.media} media files (not measured) into ${dir}`);
  const seeded = check(
    await run('seed', process.execPath, [path.join(APP, 'scripts', 'seed.js'), '--documents', String(spec.documents), '--media', String(spec.media), '--seed', String(spec.seed)]),
    'seeding'
  );
  const uploads = du(path.join(publicDir, 'uploads'));
  const leftovers = fs.readdirSync(dir).filter((f) => f.startsWith('data.db-'));
  say(
    `${name}: seeded in ${seeded.wallSeconds.toFixed(1)} s (peak RSS ${seeded.peakRssMB.toFixed(0)} MB): data.db ${(size(database) / MB).toFixed(1)} MB, ` +
      `uploads ${uploads.files} files ${(uploads.bytes / MB).toFixed(1)} MB${leftovers.length ? `, also ${leftovers.join(', ')}` : ''}`
  );
  const dataset = { name, ...spec, seedSeconds: round(seeded.wallSeconds, 1), databaseBytes: size(database), uploads };

  // The floor: the database file and the uploads, gzipped by tar.
  const floorFile = path.join(dir, 'floor.tar.gz');
  const floor = check(await run('tar-floor', 'tar', ['czf', floorFile, '-C', dir, 'data.db', ...leftovers, 'public/uploads']), 'tar czf');
  row('tar', 'floor', floor, size(floorFile));
  say(`${name}: tar czf ${floor.wallSeconds.toFixed(1)} s, ${(size(floorFile) / MB).toFixed(1)} MB`);

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

  // pacta restore of that backup, over the seeded data (its safety backup included).
  const restore = check(await run('pacta-restore', process.execPath, [CLI, 'restore', 'latest', '--app', APP, '--yes', '--json']), 'pacta restore');
  const restoreJson = JSON.parse(restore.stdout);
  const inserted = (restoreJson.tables ?? []).reduce((n, t) => n + t.inserted, 0);
  const deleted = (restoreJson.tables ?? []).reduce((n, t) => n + t.deleted, 0);
  if (inserted !== backupJson.rows) throw new Error(`pacta restore inserted ${inserted} rows, the backup holds ${backupJson.rows}; log ${restore.logFile}`);
  const safety = await safetyBackupOf(backups, restoreJson.safetyBackupId);
  const restoreRow = row('pacta', 'restore', restore, size(archive), {
    rowsDeleted: deleted,
    rowsInserted: inserted,
    mediaFiles: restoreJson.media?.files,
    safetyBackupSeconds: safety?.seconds ?? 0,
    wallSecondsWithoutSafetyBackup: round(restore.wallSeconds - (safety?.seconds ?? 0)),
    safetyBackup: safety,
    processes: restore.processes.length,
  });
  say(
    `${name}: pacta restore ${restore.wallSeconds.toFixed(1)} s (of which safety backup ${safety ? safety.seconds.toFixed(1) : 0} s; ` +
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

  // strapi import of its export, over the data the restore left.
  // Strapi's own import may fail (on M it can run out of V8 heap): that is a result, recorded
  // with the time and memory it took to fail, not a failure of the bench.
  const imported = await run('strapi-import', process.execPath, [strapi.file, 'import', '--force', '-f', exportFile], APP);
  const importError =
    imported.code === 0
      ? null
      : `exit ${imported.code}${imported.signal ? ` ${imported.signal}` : ''}${/heap out of memory/i.test(tail(imported.logFile, 200)) ? ': JavaScript heap out of memory' : ''}`;
  row('strapi', 'restore', imported, size(exportFile), { processes: imported.processes.length, ...(importError ? { failed: importError } : {}) });
  say(`${name}: strapi import ${importError ? `FAILED (${importError}) after ` : ''}${imported.wallSeconds.toFixed(1)} s, ${imported.peakRssMB.toFixed(0)} MB`);

  const trees = { seed: seeded, floor, backup, exported, restore, preview, apply, imported };
  const processCounts = Object.fromEntries(Object.entries(trees).map(([k, r]) => [k, r.processes.map((p) => `${p.name}:${p.hwmMB}MB`).join(' ')]));
  say(`${name}: processes seen (name:VmHWM) ${JSON.stringify(processCounts)}`);
  return { dataset, rows };
};

// ---------------------------------------------------------------------------------------------
// The table

const pad = (text, width, left = false) => (left ? String(text).padEnd(width) : String(text).padStart(width));
const fmt = (n, digits = 1) => (n === null || n === undefined ? '-' : n.toFixed(digits));
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}x` : '-');

const printTable = (rows, datasets) => {
  const find = (dataset, tool, operation) => rows.find((r) => r.dataset === dataset && r.tool === tool && r.operation === operation);
  const head = [
    pad('dataset', 7, true),
    pad('operation', 9, true),
    '|',
    pad('pacta s', 8),
    pad('strapi s', 9),
    pad('tar s', 7),
    pad('strapi/pacta', 12),
    pad('pacta/tar', 9),
    '|',
    pad('pacta MB', 9),
    pad('strapi MB', 9),
    pad('RSS strapi/pacta', 16),
    '|',
    pad('pacta size', 10),
    pad('strapi size', 11),
    pad('tar size', 9),
    pad('strapi/pacta', 12),
    pad('pacta/tar', 9),
  ].join(' ');
  const lines = [head, '-'.repeat(head.length)];
  for (const dataset of datasets) {
    const floor = find(dataset, 'tar', 'floor');
    for (const operation of ['backup', 'restore']) {
      const ours = find(dataset, 'pacta', operation);
      const theirs = find(dataset, 'strapi', operation);
      if (!ours || !theirs) continue;
      const isBackup = operation === 'backup';
      lines.push(
        [
          pad(dataset, 7, true),
          pad(operation, 9, true),
          '|',
          pad(fmt(ours.wallSeconds), 8),
          pad(`${fmt(theirs.wallSeconds)}${theirs.detail?.failed ? '!' : ''}`, 9),
          pad(isBackup ? fmt(floor.wallSeconds) : '', 7),
          pad(ratio(theirs.wallSeconds, ours.wallSeconds), 12),
          pad(isBackup ? ratio(ours.wallSeconds, floor.wallSeconds) : '', 9),
          '|',
          pad(fmt(ours.peakRssMB, 0), 9),
          pad(fmt(theirs.peakRssMB, 0), 9),
          pad(ratio(theirs.peakRssMB, ours.peakRssMB), 16),
          '|',
          pad(isBackup ? `${fmt(ours.bytes / MB)} MB` : '', 10),
          pad(isBackup ? `${fmt(theirs.bytes / MB)} MB` : '', 11),
          pad(isBackup ? `${fmt(floor.bytes / MB)} MB` : '', 9),
          pad(isBackup ? ratio(theirs.bytes, ours.bytes) : '', 12),
          pad(isBackup ? ratio(ours.bytes, floor.bytes) : '', 9),
        ].join(' ')
      );
      if (!isBackup && ours.detail?.safetyBackupSeconds) {
        const without = ours.detail.wallSecondsWithoutSafetyBackup;
        lines.push(
          [pad(dataset, 7, true), pad('restore without its safety backup:', 38, true), pad(fmt(without), 8), pad('', 9), pad('', 7), pad(ratio(theirs.wallSeconds, without), 12)].join(' ')
        );
      }
    }
  }
  for (const r of rows.filter((x) => x.detail?.failed)) lines.push(`! ${r.dataset} ${r.tool} ${r.operation} failed (${r.detail.failed}): its figures are up to the failure`);
  console.log(lines.join('\n'));
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

const printTargets = (rows, datasets) => {
  const find = (dataset, tool, operation) => rows.find((r) => r.dataset === dataset && r.tool === tool && r.operation === operation);
  const verdict = (ok) => (ok ? 'met   ' : 'MISSED');
  for (const d of datasets) {
    const backup = find(d, 'pacta', 'backup');
    const exported = find(d, 'strapi', 'backup');
    const restore = find(d, 'pacta', 'restore');
    const imported = find(d, 'strapi', 'restore');
    const floor = find(d, 'tar', 'floor');
    if (!backup || !exported || !restore || !imported || !floor) continue;
    const lines = [
      [exported.wallSeconds / backup.wallSeconds >= 3, `backup ≥ 3x faster than strapi export: ${ratio(exported.wallSeconds, backup.wallSeconds)}`],
      [backup.wallSeconds <= 2 * floor.wallSeconds, `backup within 2x of tar czf: ${ratio(backup.wallSeconds, floor.wallSeconds)}`],
      [imported.wallSeconds / restore.wallSeconds >= 10 || Boolean(imported.detail?.failed), `restore ≥ 10x faster than strapi import: ${ratio(imported.wallSeconds, restore.wallSeconds)} (without the safety backup ${ratio(imported.wallSeconds, restore.detail.wallSecondsWithoutSafetyBackup)})${imported.detail?.failed ? ` — strapi import failed after ${fmt(imported.wallSeconds)} s (${imported.detail.failed})` : ''}`],
      [backup.peakRssMB < 300, `backup peak RSS < 300 MB: ${fmt(backup.peakRssMB, 0)} MB`],
      [restore.peakRssMB < 300, `restore peak RSS < 300 MB: ${fmt(restore.peakRssMB, 0)} MB`],
      [backup.detail.rowsCompressionPercent >= 80, `rows compressed by ≥ 80%: ${backup.detail.rowsCompressionPercent}%`],
      [backup.bytes <= exported.bytes, `archive no larger than strapi export's: ${fmt(backup.bytes / MB)} MB vs ${fmt(exported.bytes / MB)} MB`],
    ];
    const small = datasets.includes('S') && d !== 'S' ? { backup: find('S', 'pacta', 'backup'), restore: find('S', 'pacta', 'restore') } : null;
    if (small?.backup && small?.restore) {
      for (const op of ['backup', 'restore']) {
        const s = small[op].peakRssMB;
        const m = find(d, 'pacta', op).peakRssMB;
        lines.push([m <= s * 1.25, `${op} peak RSS flat from S to ${d} (within +25%): ${fmt(s, 0)} → ${fmt(m, 0)} MB`]);
      }
    }
    const preview = find(d, 'pacta', 'import-preview');
    if (preview) lines.push([preview.peakRssMB < 400, `import preview peak RSS < 400 MB: ${fmt(preview.peakRssMB, 0)} MB`]);
    console.log(`Targets on ${d}:`);
    for (const [ok, text] of lines) console.log(`  ${verdict(ok)} ${text}`);
  }
};

// ---------------------------------------------------------------------------------------------

/** The figures of the datasets not run this time, from the last results (--datasets M keeps S's). */
const earlierResults = (datasets) => {
  try {
    return JSON.parse(fs.readFileSync(RESULTS, 'utf8')).filter((row) => !datasets.includes(row.dataset));
  } catch {
    return [];
  }
};

const writeResults = (rows) => {
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, `${JSON.stringify(rows, null, 2)}\n`);
};

const main = async () => {
  const options = parseArgs(process.argv.slice(2));
  if (process.platform !== 'linux' || !fs.existsSync('/proc/self/status')) throw new Error('the bench measures memory through /proc: it runs on Linux only');
  if (!fs.existsSync(CLI)) throw new Error(`${path.relative(ROOT, CLI)} is missing: run npm run build first`);
  const strapi = strapiBin();
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    strapi: strapi.version,
    plugin: JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version,
  };
  say(`machine ${JSON.stringify(machine)}`);
  say(`datasets ${options.datasets.join(', ')}; work folder ${WORK}`);
  const secrets = appSecrets();
  const started = Date.now();
  const earlier = earlierResults(options.datasets);
  if (earlier.length) say(`keeping the earlier figures of ${[...new Set(earlier.map((r) => r.dataset))].join(', ')} from ${path.relative(ROOT, RESULTS)}`);
  const all = [...earlier];
  const datasets = [];
  let failed = null;
  try {
    for (const name of options.datasets) {
      const { dataset, rows } = await runDataset(name, secrets, strapi);
      datasets.push(dataset);
      all.push(...rows);
      writeResults(all); // after each dataset, so a later failure keeps what was measured
    }
  } catch (error) {
    failed = error;
  }
  if (all.length) {
    console.log('');
    const shown = ['S', 'M'].filter((d) => all.some((r) => r.dataset === d));
    printTable(all, shown);
    console.log('');
    printImports(all, shown);
    console.log('');
    printTargets(all, shown);
    console.log('');
    say(`restore bytes are the size of the archive restored from; peak RSS is of the whole process tree (see README)`);
  }
  if (all.length) say(`wrote ${path.relative(ROOT, RESULTS)} (${all.length} results) in ${((Date.now() - started) / 60000).toFixed(1)} min`);
  if (failed) say(`kept ${WORK} (logs of the failed run in <dataset>/logs/)`);
  else if (!options.keep) {
    for (const name of options.datasets) fs.rmSync(path.join(WORK, name), { recursive: true, force: true });
  } else say(`kept ${WORK}`);
  if (failed) throw failed;
};

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`[bench] ${error.stack || error.message}`);
    process.exit(1);
  }
);
