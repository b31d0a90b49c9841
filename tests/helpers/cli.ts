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
