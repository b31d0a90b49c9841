#!/usr/bin/env node
'use strict';

/**
 * `npm test`: builds the plugin (the integration suite runs against dist/, which is what
 * ships), compiles the example apps once, runs the unit tests, the integration tests on each
 * database — SQLite, PostgreSQL and MariaDB — then builds the example app's admin panel and runs
 * the browser tests in Debian's chromium, and prints one summary.
 *
 *   npm test                      every suite on every database
 *   npm test -- --db sqlite       integration tests only on the databases named (comma-separated)
 *   npm test -- --no-build        reuse dist/ and the admin build as they are
 *   npm test -- --no-e2e          leave out the browser tests
 *
 * A database that cannot be reached fails the run with how to start it: none is skipped
 * silently. The phases run in two lanes, one per core (SQLite then MariaDB; the browser tests
 * then PostgreSQL), each its own jest (the output of each is printed as it ends): the longest
 * phases no longer add up on 2 cores.
 */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { CLIENTS, assertReachable, dropLeftovers, makeTemplate, templateVariable } = require('./helpers/databases');

const APPS = ['pacta', 'atlas'];

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const root = path.resolve(__dirname, '..');

const parseArgs = (argv) => {
  const args = { databases: CLIENTS, build: true, e2e: true };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--no-build') args.build = false;
    else if (arg === '--no-e2e') args.e2e = false;
    else if (arg === '--db' || arg.startsWith('--db=')) {
      const value = arg.includes('=') ? arg.split('=')[1] : argv[(i += 1)];
      args.databases = String(value || '').split(',').filter(Boolean);
      const unknown = args.databases.filter((db) => !CLIENTS.includes(db));
      if (unknown.length || !args.databases.length) {
        throw new Error(`--db takes a comma-separated list of ${CLIENTS.join(', ')}`);
      }
    } else {
      throw new Error(`Unknown argument ${arg}. Usage: npm test -- [--db sqlite,postgres,mysql] [--no-build] [--no-e2e]`);
    }
  }
  return args;
};

const run = (label, command, args, env = {}, cwd = root) => {
  console.log(`\n▶ ${label}`);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', env: { ...process.env, ...env } });
  const seconds = (Date.now() - started) / 1000;
  return { ok: result.status === 0, seconds };
};

/** As `run`, in the background, its output kept in `logFile` and printed when it ends (two at once would interleave). */
const runInBackground = (label, command, args, env, logFile, cwd = root) =>
  new Promise((resolve) => {
    console.log(`\n▶ ${label} (in parallel; its output follows when it ends)`);
    const started = Date.now();
    const out = fs.openSync(logFile, 'w');
    const child = spawn(command, args, { cwd, stdio: ['ignore', out, out], env: { ...process.env, ...env } });
    child.on('close', (code) => {
      fs.closeSync(out);
      console.log(`\n▶ ${label}: output`);
      process.stdout.write(fs.readFileSync(logFile));
      resolve({ ok: code === 0, seconds: (Date.now() - started) / 1000 });
    });
  });

const jestArgs = (project, reportFile) => [require.resolve('jest/bin/jest'), '--selectProjects', project, '--runInBand', '--json', '--outputFile', reportFile];

const jest = async (label, project, env, reportFile, background = false) => {
  const outcome = background
    ? await runInBackground(label, process.execPath, jestArgs(project, reportFile), env, `${reportFile}.log`)
    : run(label, process.execPath, jestArgs(project, reportFile), env);
  let report = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTotalTestSuites: 0 };
  if (fs.existsSync(reportFile)) report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
  return {
    label,
    ok: outcome.ok && report.numFailedTests === 0 && report.numTotalTests > 0,
    seconds: outcome.seconds,
    passed: report.numPassedTests,
    failed: report.numFailedTests + (outcome.ok ? 0 : report.numRuntimeErrorTestSuites || 0),
    skipped: report.numPendingTests,
    suites: report.numTotalTestSuites,
  };
};

const main = async () => {
  const args = parseArgs(process.argv.slice(2));
  const runId = `r${Date.now().toString(36)}`;

  // Fail first and clearly when a database server or the browser is missing.
  for (const client of args.databases) {
    await assertReachable(client);
  }
  if (args.e2e && !fs.existsSync(CHROMIUM)) {
    throw new Error(`The browser tests need chromium at ${CHROMIUM}: apt-get install chromium (or pass --no-e2e).`);
  }

  if (args.build && !run('Build the plugin and its CLI (npm run build)', 'npm', ['run', 'build']).ok) {
    throw new Error('The plugin does not build.');
  }
  console.log('\n▶ Compile the example apps (tests/app, tests/app-atlas)');
  await require('./app/scripts/boot').compileApp();
  await require('./app-atlas/scripts/boot').compileApp();

  const reports = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-test-reports-'));
  const results = [await jest('unit', 'unit', {}, path.join(reports, 'unit.json'))];
  // Every database's templates first, one at a time: a template's first boot blocks this process
  // (spawnSync), and a connection another lane had under way then timed out ("timeout expired").
  // Each test file's app starts from a copy of its app's first boot on its client.
  const templates = {};
  try {
    for (const client of args.databases) {
      console.log(`\n▶ Template databases on ${client} (${APPS.join(', ')})`);
      templates[client] = [];
      for (const app of APPS) templates[client].push({ app, ...(await makeTemplate(client, app)) });
    }
  } catch (error) {
    for (const list of Object.values(templates)) for (const { drop } of list) await drop().catch(() => undefined);
    throw error;
  }
  const integration = async (client, background) => {
    try {
      const env = { TEST_DB: client, PACTA_TEST_RUN: runId };
      for (const { app, template } of templates[client]) env[templateVariable(app)] = template;
      return await jest(`integration on ${client}`, 'integration', env, path.join(reports, `${client}.json`), background);
    } finally {
      for (const { drop } of templates[client]) await drop();
      await dropLeftovers(client, runId);
    }
  };
  const browser = async (background) => {
    const adminBuilt = fs.existsSync(path.join(root, 'tests', 'app', 'dist', 'build', 'index.html'));
    if (args.build || !adminBuilt) {
      const built = await runInBackground(
        "Build the example app's admin panel (strapi build)",
        'npx',
        ['strapi', 'build'],
        {},
        path.join(reports, 'admin-build.log'),
        path.join(root, 'tests', 'app')
      );
      if (!built.ok) throw new Error('The admin panel of the example app does not build.');
    }
    return jest('browser (e2e) on sqlite', 'e2e', { TEST_DB: 'sqlite' }, path.join(reports, 'e2e.json'), background);
  };
  // Two lanes, one per core. Every phase but the servers' leaves part of the machine idle (the
  // SQLite phase alone: 28 % of the two cores), so they overlap: SQLite then MariaDB; the admin
  // build and the browser tests, then PostgreSQL (the longer server phase starts earlier). In
  // sequence the whole CI run took 39.7 min on this machine; SQLite beside the browser tests only,
  // then both servers, 39 min.
  const steps = {
    sqlite: () => integration('sqlite', both),
    mysql: () => integration('mysql', both),
    postgres: () => integration('postgres', both),
    e2e: () => browser(both),
  };
  const laneA = ['sqlite', 'mysql'].filter((step) => args.databases.includes(step));
  const laneB = [...(args.e2e ? ['e2e'] : []), ...(args.databases.includes('postgres') ? ['postgres'] : [])];
  const both = laneA.length > 0 && laneB.length > 0;
  const done = {};
  const lane = async (names) => {
    for (const name of names) done[name] = await steps[name]();
  };
  await Promise.all([lane(laneA), lane(laneB)]);
  for (const name of ['sqlite', 'postgres', 'mysql', 'e2e']) if (done[name]) results.push(done[name]);
  fs.rmSync(reports, { recursive: true, force: true });

  console.log('\nSummary');
  for (const r of results) {
    console.log(
      `  ${r.ok ? 'ok  ' : 'FAIL'} ${r.label.padEnd(26)} ${String(r.suites).padStart(3)} files ` +
        `${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(3)} failed ` +
        `${String(r.skipped).padStart(3)} skipped  ${r.seconds.toFixed(1)} s`
    );
  }
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const skipped = results.reduce((n, r) => n + r.skipped, 0);
  console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exitCode = results.every((r) => r.ok) ? 0 : 1;
};

main().catch((error) => {
  console.error(`\n${error.message}`);
  process.exitCode = 1;
});
