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
 *   pacta-backup import <file|id|latest> --app DIR [--preview] [--policy keep|incoming|newer|skip]
 *                       [--policy-for uid=policy]... [--match uid=attribute]... [--passphrase-env VAR]
 *                       [--content-types uid,uid] [--skip-incompatible] [--mirror] [--dangling drop|stop]
 *                       [--yes] [--json]
 *   pacta-backup export <id|latest> --app DIR [--format json|csv] [--content-types uid,uid] [--out FILE]
 *
 * Exit codes: 0 success, 1 failure, 2 usage error, 3 completed with warnings (a backup written
 * although media files the database names were missing on disk; an import that dropped links to
 * documents neither side has or left content types out; the warnings are on stderr and in the
 * --json document), 4 an import --preview found conflicts. With --json, stdout holds exactly one
 * JSON document (nothing on failure); everything else goes to stderr.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { createInterface } from 'node:readline/promises';

import { parseCli, UsageError, USAGE, type CliCommand } from './args';
import { bootStrapi } from './boot';
import {
  backupsTable,
  describeBackup,
  describeChecks,
  describeImport,
  describeOffsiteCheck,
  describePreview,
  describePurge,
  describeRestore,
  describeVerify,
  formatBytes,
  offsiteTable,
  progressLine,
} from './output';
import type {
  BackupsService,
  CliApplyBody,
  CliBackup,
  CliCheck,
  CliImportPolicy,
  CliImportReport,
  CliImportSource,
  CliJob,
  ConfigService,
  ExportsService,
  ImportsService,
  JobsService,
  StrapiLike,
} from './types';

export const EXIT = { ok: 0, failure: 1, usage: 2, warning: 3, conflicts: 4 } as const;

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

/** Follows a job to its end (failed or not), drawing a progress bar on stderr when asked. */
const followToEnd = async (jobs: JobsService, started: CliJob, progress: boolean): Promise<CliJob> => {
  for (const warning of started.warnings ?? []) stderr(`warning: ${warning}`);
  for (;;) {
    const job = jobs.get(started.id) ?? started;
    if (progress) process.stderr.write(`\r${progressLine(job, process.stderr.columns || 80)}\x1b[K`);
    if (job.finishedAt) {
      if (progress) process.stderr.write('\r\x1b[K');
      return job;
    }
    await sleep(100);
  }
};

const failure = (job: CliJob) => {
  const error = job.error ?? { message: 'unknown error', code: 'FAILED' };
  return new CliError(`The ${job.type} failed: ${error.message} (${error.code})`);
};

/** Follows a job to its end; a failed job is a CliError. */
const follow = async (jobs: JobsService, started: CliJob, progress: boolean): Promise<CliJob> => {
  const job = await followToEnd(jobs, started, progress);
  if (job.status === 'failed') throw failure(job);
  return job;
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

/** The policies of an apply: --policy for every type of the preview, --policy-for over it. */
export const policiesFor = (uids: string[], policy: CliImportPolicy | null, policyFor: Record<string, CliImportPolicy>): Record<string, CliImportPolicy> | undefined => {
  const unknown = Object.keys(policyFor).filter((uid) => !uids.includes(uid));
  if (unknown.length) throw new CliError(`--policy-for: not a content type of this import: ${unknown.join(', ')} (it has ${uids.join(', ') || 'none'})`, EXIT.usage);
  const out: Record<string, CliImportPolicy> = {};
  for (const uid of uids) {
    const chosen = policyFor[uid] ?? policy;
    if (chosen) out[uid] = chosen;
  }
  return Object.keys(out).length ? out : undefined;
};

/** Writes to `target` through a temporary file beside it: a failed export leaves no partial file. */
const writeAtomically = async (target: string, write: (out: fs.WriteStream) => Promise<{ documents: number; bytes: number }>) => {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.partial-${process.pid}`);
  // The export holds every document of the backup, private attributes included.
  const out = fs.createWriteStream(temp, { flags: 'wx', mode: 0o600 });
  try {
    await once(out, 'open');
    const result = await write(out);
    if (!out.closed) await once(out, 'close');
    if (fs.existsSync(target)) throw new CliError(`${target} appeared meanwhile: not overwritten`);
    fs.renameSync(temp, target);
    return result;
  } catch (error) {
    out.destroy();
    fs.rmSync(temp, { force: true });
    throw error;
  }
};

const execute = async (strapi: StrapiLike, cli: Command, progress: boolean, cwd: string): Promise<{ json: unknown; text: string; code?: number }> => {
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
      if (cli.offsite) {
        const objects = (await backups.offsiteList()).map((o) => ({ id: o.id, size: o.size, modifiedAt: o.modifiedAt.toISOString(), deduplicated: o.deduplicated }));
        return { json: objects, text: offsiteTable(objects) };
      }
      const all = await backups.list();
      return { json: all, text: backupsTable(all) };
    }
    case 'copy': {
      const backup = await find(cli.id);
      const state = await backups.copyOffsite(backup.id);
      if (!state) throw new CliError('Off-site copies are not enabled (offsite.enabled in config/plugins)');
      if (state.status === 'failed') throw new CliError(`The off-site copy of ${backup.id} failed: ${state.error ?? 'unknown error'}`);
      return { json: state, text: `Copied ${backup.id} to ${state.location} in ${state.seconds} s (SHA-256 ${state.sha256})` };
    }
    case 'check': {
      const job = await followToEnd(jobs, await backups.startCheck({ ...(cli.samplePercent === null ? {} : { samplePercent: cli.samplePercent }), trigger: 'cli' }), progress);
      const check = job.result?.check as Parameters<typeof describeOffsiteCheck>[0] | undefined;
      // Damage: the report on stdout, and a failure.
      if (!check) throw failure(job);
      return { json: check, text: describeOffsiteCheck(check), code: job.status === 'failed' ? EXIT.failure : EXIT.ok };
    }
    case 'purge': {
      if (!cli.dryRun && !cli.yes) {
        const preview = await backups.purge({ dryRun: true, offsite: false });
        const ok = await confirm(
          `Apply the retention policy to ${location()}? It deletes ${preview.removed.length} ${preview.removed.length === 1 ? 'backup' : 'backups'} and their off-site copies. Type yes:`
        );
        if (!ok) throw new CliError('Purge cancelled: nothing was deleted.');
      }
      const result = await backups.purge({ dryRun: cli.dryRun, offsite: true });
      return { json: result, text: describePurge(result), code: result.offsite?.error ? EXIT.failure : EXIT.ok };
    }
    case 'fetch': {
      let id = cli.id;
      if (id === 'latest') {
        // Ids begin with their UTC time: the greatest is the newest.
        const newest = (await backups.offsiteList())[0];
        if (!newest) throw new CliError('The off-site storage holds no backups');
        id = newest.id;
      }
      const backup = await backups.fetchOffsite(id);
      return { json: backup, text: `Fetched ${backup.id} (${backup.name}) into ${location()}: pacta-backup restore ${backup.id} restores it\n${describeBackup(backup)}` };
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
    case 'import': {
      const imports = plugin.service('imports') as ImportsService;
      const source: CliImportSource =
        'latest' in cli.source ? { backupId: (await find('latest')).id } : 'backupId' in cli.source ? { backupId: (await find(cli.source.backupId)).id } : cli.source;
      // Never from the command line: from --passphrase-env's variable, or the configured key's.
      const keyVariable = cli.passphraseEnv ?? (plugin.service('config') as ConfigService).get().encryptionKeyEnv;
      const passphrase = process.env[keyVariable] || undefined;
      const secret = passphrase ? { passphrase } : {};

      const previewJob = await followToEnd(jobs, await imports.startPreview({ ...cli.preview, source, ...secret }, { trigger: 'cli' }), progress);
      if (previewJob.status === 'failed') {
        const checks = (previewJob.result?.checks ?? []) as CliCheck[];
        if (checks.length) stderr(`Checks:\n${describeChecks(checks)}`);
        throw failure(previewJob);
      }
      const preview = await imports.getPreview(String(previewJob.result?.previewId));
      const conflicts = preview.types.reduce((n, t) => n + t.counts.conflict, 0);
      // Left out because they do not fit here (not the types merely not asked for).
      const leftOut = preview.compatibility.filter((c) => c.skipped && c.status !== 'compatible').map((c) => c.uid);
      const warnings = [
        ...(preview.dangling.length ? [`${preview.dangling.length} relations point to documents neither side has`] : []),
        ...(leftOut.length ? [`content types left out: ${leftOut.join(', ')}`] : []),
      ];
      const policies = policiesFor(
        preview.types.map((t) => t.uid),
        cli.policy,
        cli.policyFor
      );
      if (cli.previewOnly) {
        for (const warning of warnings) stderr(`warning: ${warning}`);
        const summary = conflicts
          ? `\n\n${conflicts} document versions are in conflict: an import settles them by ${policies ? 'the policies given' : 'the policy keep (this app\'s version)'}; --policy or --policy-for to choose.`
          : '';
        return { json: { preview }, text: `${describePreview(preview)}${summary}`, code: conflicts ? EXIT.conflicts : warnings.length ? EXIT.warning : EXIT.ok };
      }
      if (!cli.yes) {
        stderr(describePreview(preview));
        const ok = await confirm(`Import into ${cli.app}? A safety backup is taken first. Type yes:`);
        if (!ok) throw new CliError('Import cancelled: nothing was changed.');
      }
      const body: CliApplyBody = { confirm: true, ...secret };
      if (policies) body.policies = policies;
      if (cli.dangling) body.dangling = cli.dangling;
      const applyJob = await follow(jobs, await imports.startApply(preview.id, body, { trigger: 'cli' }), progress);
      const report = applyJob.result as unknown as CliImportReport;
      const reportWarnings = [
        ...(report.dangling.length ? [`${report.dangling.length} links to documents neither side has were dropped`] : []),
        ...(leftOut.length ? [`content types left out: ${leftOut.join(', ')}`] : []),
      ];
      for (const warning of reportWarnings) stderr(`warning: ${warning}`);
      const text = `${cli.yes ? `${describePreview(preview)}\n\n` : ''}${describeImport(report, cli.app)}`;
      return { json: { preview, report }, text, code: reportWarnings.length ? EXIT.warning : EXIT.ok };
    }
    case 'export': {
      const backup = await find(cli.id);
      if (backup.status === 'damaged') throw new CliError(`Backup ${backup.id} is damaged: ${backup.error ?? 'its manifest cannot be read'}`);
      const prepared = await (plugin.service('exports') as ExportsService).open(backup.id, { format: cli.format, ...(cli.contentTypes ? { contentTypes: cli.contentTypes } : {}) });
      const target = cli.out ?? path.resolve(cwd, prepared.fileName);
      if (fs.existsSync(target)) {
        await prepared.close();
        throw new CliError(`${target} exists: not overwritten (--out names another file)`);
      }
      const result = await writeAtomically(target, (out) => prepared.write(out));
      return {
        json: { backupId: backup.id, format: cli.format, contentTypes: prepared.contentTypes, file: target, documents: result.documents, bytes: result.bytes },
        text: `Exported ${result.documents} document versions of ${prepared.contentTypes.length} content types from backup ${backup.id} to ${target} (${formatBytes(result.bytes)}).`,
      };
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
  if (cli.command === 'import' && !cli.previewOnly && !cli.yes && !process.stdin.isTTY) {
    stderr('pacta-backup: an import writes to the app and this is not a terminal to confirm it on: pass --yes to import (or --preview to see what it would do).');
    return EXIT.usage;
  }
  if (cli.command === 'import' && cli.passphraseEnv && !process.env[cli.passphraseEnv]) {
    stderr(`pacta-backup: --passphrase-env ${cli.passphraseEnv}: that environment variable is not set.`);
    return EXIT.usage;
  }
  const cwd = process.cwd();

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
    const result = await execute(strapi, cli, progress, cwd);
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
