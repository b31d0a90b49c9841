import { spawn } from 'node:child_process';
import path from 'node:path';

/** The repository, the example app and the built CLI (what `npm install` gives a user). */
export const ROOT = path.resolve(__dirname, '..', '..');
export const EXAMPLE_APP = path.join(ROOT, 'tests', 'app');
export const CLI = path.join(ROOT, 'dist', 'cli', 'index.js');

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a node script in a process of its own, as an operator would: stdin not a terminal, the
 * environment given (default: this process's), killed after `timeoutMs`.
 */
export const runNode = (args: string[], { env = process.env, timeoutMs = 150_000 }: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) =>
  new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end();
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });

/** `pacta-backup <args> --app <app>` from the built dist/cli. */
export const runCli = (args: string[], { app = EXAMPLE_APP, ...options }: { app?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) =>
  runNode([CLI, ...args, '--app', app], options);

/** The variable faulty.ts reads its injected off-site faults from (e.g. `write:1:stall`). */
export const OFFSITE_FAULTS = 'PACTA_BACKUP_TEST_OFFSITE_FAULTS';

/**
 * Runs the CLI with `faults` that stall an off-site call, and kill -9s it once the call is under
 * way (faulty.ts prints `PACTA_BACKUP_TEST_PAUSED <marker> <pid>`, e.g. offsite-write). The pid.
 */
export const killCliWhenPaused = async (
  args: string[],
  { faults, marker, env = process.env, app = EXAMPLE_APP }: { faults: string; marker: string; env?: NodeJS.ProcessEnv; app?: string }
) => {
  const child = spawn(process.execPath, [CLI, ...args, '--app', app], { cwd: ROOT, env: { ...env, [OFFSITE_FAULTS]: faults }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end();
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const timer = setTimeout(() => reject(new Error(`the CLI did not reach ${marker}:\n${stderr}`)), 150_000);
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.includes(`PACTA_BACKUP_TEST_PAUSED ${marker} ${child.pid}`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`the CLI exited (${code}) before ${marker}:\n${stderr}\n${stdout}`)));
  });
  await new Promise<void>((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
  return child.pid!;
};
