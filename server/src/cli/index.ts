#!/usr/bin/env node
/**
 * pacta-backup: the disaster-recovery CLI. Boots the host Strapi app headless (no HTTP server)
 * and runs the same backup, verify and restore jobs as the admin API, so a site whose admin
 * panel is down can still be restored.
 *
 *   pacta-backup list --app DIR [--json]
 *   pacta-backup backup --app DIR [--name N] [--content-types uid,uid] [--no-media] [--admin-users]
 *                       [--config] [--compression none|fast|best] [--encrypt] [--json]
 *   pacta-backup verify <id|latest> --app DIR [--json]
 *   pacta-backup restore <id|latest> --app DIR [--content-types uid,uid] [--no-media] --yes [--json]
 *
 * Exit codes: 0 success, 1 failure, 2 usage error, 3 backup completed with warnings (written,
 * but media files the database names were missing on disk; the warnings are on stderr and in
 * the --json document's `warnings`). With --json, stdout holds exactly one JSON document
 * (nothing on failure); everything else goes to stderr.
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { createInterface } from 'node:readline/promises';

import { parseCli, UsageError, USAGE, type CliCommand } from './args';
import { bootStrapi } from './boot';
import { backupsTable, describeBackup, describeRestore, describeVerify, progressLine } from './output';
import type { BackupsService, CliBackup, CliJob, JobsService, StrapiLike } from './types';

export const EXIT = { ok: 0, failure: 1, usage: 2, warning: 3 } as const;

/** A failure the CLI reports as it is (no stack), with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure
  ) {
    super(message);
    this.name = 'CliError';
  }
}

type Command = Exclude<CliCommand, { command: 'help' } | { command: 'version' }>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes to the real stdout and resolves once the text is flushed (before process.exit). */
const writeTo = (write: (chunk: string, callback: (error?: Error | null) => void) => boolean, text: string) =>
  new Promise<void>((resolve) => {
    write(text.endsWith('\n') ? text : `${text}\n`, () => resolve());
  });

const stderr = (text: string) => {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
};

/**
 * While Strapi runs, anything written to stdout (boot messages, console.log of plugins, the
 * update notifier) goes to stderr instead: stdout carries the result only.
 */
const divertStdout = () => {
  const original = process.stdout.write;
  const realWrite = original.bind(process.stdout) as (chunk: string, callback: (error?: Error | null) => void) => boolean;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  return {
    print: (text: string) => writeTo(realWrite, text),
    restore: () => {
      process.stdout.write = original;
    },
  };
};

const pluginVersion = () => {
  // dist/cli/index.js → the package's package.json
  for (const candidate of [path.join(__dirname, '..', '..', 'package.json'), path.join(__dirname, '..', '..', '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'strapi-plugin-pacta-backup') return String(pkg.version);
    } catch {
      // next candidate
    }
  }
  return 'unknown';
};

/** Follows a job to its end, drawing a progress bar on stderr when asked. */
const follow = async (jobs: JobsService, started: CliJob, progress: boolean): Promise<CliJob> => {
  for (const warning of started.warnings ?? []) stderr(`warning: ${warning}`);
  for (;;) {
    const job = jobs.get(started.id) ?? started;
    if (progress) process.stderr.write(`\r${progressLine(job, process.stderr.columns || 80)}\x1b[K`);
    if (job.finishedAt) {
      if (progress) process.stderr.write('\r\x1b[K');
      if (job.status === 'failed') {
        const error = job.error ?? { message: 'unknown error', code: 'FAILED' };
        throw new CliError(`The ${job.type} failed: ${error.message} (${error.code})`);
      }
      return job;
    }
    await sleep(100);
  }
};

/** Asks on the terminal; true only when the answer is "yes". */
const confirm = async (question: string): Promise<boolean> => {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const abort = new AbortController();
  rl.on('SIGINT', () => abort.abort());
  rl.on('close', () => abort.abort());
  try {
    const answer = await rl.question(`${question} `, { signal: abort.signal });
    return answer.trim().toLowerCase() === 'yes';
  } catch {
    stderr('');
    return false;
  } finally {
    rl.close();
  }
};

/** Translates the services' errors (Strapi's NotFoundError, ValidationError, a job conflict). */
const explain = (error: unknown): CliError => {
  if (error instanceof CliError) return error;
  if (error instanceof UsageError) return new CliError(error.message, EXIT.usage);
  const err = error as Error & { details?: unknown };
  return new CliError(err?.message ? err.message : String(error));
};

const execute = async (strapi: StrapiLike, cli: Command, progress: boolean): Promise<{ json: unknown; text: string; code?: number }> => {
  const plugin = strapi.plugin('pacta-backup')!;
  const backups = plugin.service('backups') as BackupsService;
  const jobs = plugin.service('jobs') as JobsService;
  const location = () => backups.storage().location;

  /**
   * The backup an id names; `latest` is the newest readable one that is not a safety backup
   * (right after a restore the newest is its safety backup: `restore latest` must not undo it).
   */
  const find = async (id: string): Promise<CliBackup> => {
    const all = await backups.list();
    if (id === 'latest') {
      const latest = all.find((b) => b.status !== 'damaged' && b.kind !== 'safety');
      if (!latest) throw new CliError(`No backups in ${location()}${all.length ? ' (only damaged ones)' : ''}`);
      return latest;
    }
    const backup = all.find((b) => b.id === id);
    if (!backup) throw new CliError(`No backup ${id} in ${location()}: pacta-backup list shows the backups there`);
    return backup;
  };

  switch (cli.command) {
    case 'list': {
      const all = await backups.list();
      return { json: all, text: backupsTable(all) };
    }
    case 'backup': {
      const job = await follow(jobs, await backups.startBackup(cli.body, { trigger: 'cli' }), progress);
      const backup = job.result?.backup as CliBackup;
      if (job.status === 'warning') {
        for (const warning of backup.warnings ?? []) stderr(`warning: ${warning}`);
        return { json: backup, text: describeBackup(backup), code: EXIT.warning };
      }
      return { json: backup, text: describeBackup(backup) };
    }
    case 'verify': {
      const backup = await find(cli.id);
      const job = await follow(jobs, await backups.startVerify(backup.id, { trigger: 'cli' }), progress);
      return { json: job.result, text: describeVerify(backup.id, job.result ?? {}) };
    }
    case 'restore': {
      const backup = await find(cli.id);
      if (backup.status === 'damaged') throw new CliError(`Backup ${backup.id} is damaged: ${backup.error ?? 'its manifest cannot be read'}`);
      if (!cli.yes) {
        const ok = await confirm(
          `Restore ${backup.id} (${backup.name}) into ${cli.app}? This replaces data; a safety backup is taken first. Type yes:`
        );
        if (!ok) throw new CliError('Restore cancelled: nothing was changed.');
      }
      const job = await follow(jobs, await backups.startRestore(backup.id, cli.body, { trigger: 'cli' }), progress);
      return { json: job.result, text: describeRestore(backup.id, job.result ?? {}) };
    }
  }
};

/** Runs one command line and resolves with the exit code. */
export const run = async (argv: string[]): Promise<number> => {
  let cli: CliCommand;
  try {
    cli = parseCli(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr(argv.length ? `pacta-backup: ${error.message}\nRun pacta-backup --help for the usage.` : `pacta-backup: ${error.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (cli.command === 'help') {
    await writeTo(process.stdout.write.bind(process.stdout), USAGE);
    return EXIT.ok;
  }
  if (cli.command === 'version') {
    await writeTo(process.stdout.write.bind(process.stdout), pluginVersion());
    return EXIT.ok;
  }
  if (cli.command === 'restore' && !cli.yes && !process.stdin.isTTY) {
    stderr('pacta-backup: a restore replaces data and this is not a terminal to confirm it on: pass --yes to restore.');
    return EXIT.usage;
  }

  const progress = !cli.json && Boolean(process.stderr.isTTY);
  const stdout = divertStdout();
  let strapi: StrapiLike | undefined;
  let code: number = EXIT.ok;
  let output: string | undefined;
  try {
    if (progress) process.stderr.write(`Starting the Strapi app in ${cli.app}...`);
    strapi = await bootStrapi(cli.app, { compile: cli.compile });
    if (progress) process.stderr.write('\r\x1b[K');
    // Ctrl-C: Strapi's own handler shuts it down and exits; make that exit a failure.
    process.on('SIGINT', () => {
      process.exitCode = 130;
    });
    const result = await execute(strapi, cli, progress);
    output = cli.json ? JSON.stringify(result.json ?? null, null, 2) : result.text;
    code = result.code ?? EXIT.ok;
  } catch (error) {
    if (progress) process.stderr.write('\r\x1b[K');
    const failure = explain(error);
    stderr(`pacta-backup: ${failure.message}`);
    code = failure.exitCode;
  } finally {
    if (strapi) {
      try {
        await strapi.destroy();
      } catch (error) {
        stderr(`pacta-backup: Strapi did not shut down cleanly: ${(error as Error).message}`);
      }
    }
    stdout.restore();
  }
  if (output !== undefined) await stdout.print(output);
  return code;
};

if (require.main === module) {
  // A backup or restore streams gigabytes through a heap that holds little at any moment; by
  // default V8 lets the heap grow far beyond that before collecting (peak RSS ~550 MB on the M
  // benchmark). Favouring size keeps it near what is live (~250 MB, Strapi itself included).
  // Set before Strapi loads; V8 reads this flag when it sizes the heap.
  v8.setFlagsFromString('--optimize-for-size');
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      stderr(`pacta-backup: ${(error as Error)?.stack ?? error}`);
      process.exit(EXIT.failure);
    }
  );
}
