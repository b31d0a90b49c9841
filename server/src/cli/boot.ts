import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { UsageError } from './args';
import type { StrapiLike } from './types';

interface StrapiModule {
  compileStrapi(options: { appDir: string }): Promise<{ appDir: string; distDir: string }>;
  createStrapi(options: { appDir: string; distDir: string; serveAdminPanel?: boolean; autoReload?: boolean }): StrapiLike;
}

/**
 * Loads the app's own @strapi/strapi (resolved from the app folder, not from this package, so
 * the app's version and its plugins are used).
 */
export const requireStrapi = (appDir: string): StrapiModule => {
  if (!fs.existsSync(appDir) || !fs.statSync(appDir).isDirectory()) throw new UsageError(`--app ${appDir}: no such folder`);
  if (!fs.existsSync(path.join(appDir, 'package.json'))) throw new UsageError(`--app ${appDir}: not a Strapi app (no package.json)`);
  const appRequire = createRequire(path.join(appDir, 'package.json'));
  let entry: string;
  try {
    entry = appRequire.resolve('@strapi/strapi');
  } catch {
    throw new UsageError(`--app ${appDir}: not a Strapi app (@strapi/strapi is not installed there; run npm install in it)`);
  }
  return appRequire(entry) as StrapiModule;
};

/** Newest and oldest modification times of the files under a folder (none: null). */
const mtimes = (dir: string, skip: (name: string) => boolean = () => false) => {
  let newest: number | null = null;
  let oldest: number | null = null;
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      if (skip(entry.name)) continue;
      const file = path.join(current, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.isFile()) {
        const { mtimeMs } = fs.statSync(file);
        newest = newest === null ? mtimeMs : Math.max(newest, mtimeMs);
        oldest = oldest === null ? mtimeMs : Math.min(oldest, mtimeMs);
      }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return { newest, oldest } as { newest: number | null; oldest: number | null };
};

/**
 * The folder the app runs from without compiling: a JavaScript app's own folder, or the
 * compiled output of a TypeScript app when it is up to date: every file the compiler
 * wrote is newer than every source (src/, config/, tsconfig.json). Strapi's own `strapi start`
 * runs from dist/ without compiling; compiling loads the TypeScript compiler (~5 s and ~270 MB
 * of memory), so the CLI does it only when a source changed. The output folder is read from
 * tsconfig.json's compilerOptions.outDir when that file is plain JSON, else Strapi's `dist`;
 * anything unexpected means "compile".
 */
export const runnableDir = (appDir: string): string | null => {
  const tsconfig = path.join(appDir, 'tsconfig.json');
  if (!fs.existsSync(tsconfig)) return appDir;
  let outDir = 'dist';
  try {
    const parsed = JSON.parse(fs.readFileSync(tsconfig, 'utf8')) as { extends?: unknown; compilerOptions?: { outDir?: unknown } };
    if (parsed.extends !== undefined && parsed.compilerOptions?.outDir === undefined) return null;
    if (typeof parsed.compilerOptions?.outDir === 'string') outDir = parsed.compilerOptions.outDir;
  } catch {
    return null;
  }
  const distDir = path.resolve(appDir, outDir);
  const built = mtimes(distDir);
  if (built.oldest === null || !fs.existsSync(path.join(distDir, 'config'))) return null;
  const newestSource = Math.max(
    fs.statSync(tsconfig).mtimeMs,
    mtimes(path.join(appDir, 'src'), (name) => name === 'admin').newest ?? 0,
    mtimes(path.join(appDir, 'config')).newest ?? 0
  );
  return newestSource <= built.oldest ? distDir : null;
};

/**
 * Boots the app headless the way `strapi start` does, without the HTTP server: a TypeScript
 * app runs from its compiled output (compiled first when a source is newer; `compile: true`
 * forces it), a JavaScript app from its own folder; every plugin is registered and bootstrapped
 * and the database connected. Strapi logs errors only.
 */
export const bootStrapi = async (appDir: string, { logLevel = 'error', compile = false } = {}): Promise<StrapiLike> => {
  // Strapi's config reads .env from ENV_PATH (default: the working folder).
  process.env.ENV_PATH ??= path.join(appDir, '.env');
  // The plugin does not start its schedule in a CLI run (one command, then exit).
  process.env.PACTA_BACKUP_CLI = '1';
  const { compileStrapi, createStrapi } = requireStrapi(appDir);
  // Config files may use paths relative to the working folder, as with `strapi start` in the app.
  process.chdir(appDir);
  const fresh = compile ? null : runnableDir(appDir);
  const { distDir } = fresh ? { distDir: fresh } : await compileStrapi({ appDir });
  const strapi = createStrapi({ appDir, distDir, serveAdminPanel: false, autoReload: false });
  strapi.log.level = logLevel;
  await strapi.load();
  strapi.log.level = logLevel;
  if (!strapi.plugin('pacta-backup')) {
    await strapi.destroy();
    throw new Error(`The app ${appDir} does not have the pacta-backup plugin enabled`);
  }
  return strapi;
};
