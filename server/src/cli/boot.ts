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

/**
 * Boots the app headless the way `strapi start` does, without the HTTP server: compiles a
 * TypeScript app into its dist folder (a JavaScript app runs from its own folder), registers
 * and bootstraps every plugin, and connects to the database. Strapi logs errors only.
 */
export const bootStrapi = async (appDir: string, logLevel = 'error'): Promise<StrapiLike> => {
  // Strapi's config reads .env from ENV_PATH (default: the working folder).
  process.env.ENV_PATH ??= path.join(appDir, '.env');
  const { compileStrapi, createStrapi } = requireStrapi(appDir);
  // Config files may use paths relative to the working folder, as with `strapi start` in the app.
  process.chdir(appDir);
  const { distDir } = await compileStrapi({ appDir });
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
