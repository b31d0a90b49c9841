import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Core } from '@strapi/strapi';

import { createDatabase, templateVariable } from './databases';
import { useTestAppEnv } from './app-env';

type BootApp = (options: { logLevel?: string; compile?: boolean; listen?: boolean }) => Promise<Core.Strapi>;

/** The example apps: tests/app (PACTA's contract model) and tests/app-atlas (a travel guide). */
export type ExampleApp = 'pacta' | 'atlas';

const bootScripts: Record<ExampleApp, string> = {
  pacta: '../app/scripts/boot',
  atlas: '../app-atlas/scripts/boot',
};

export type DatabaseClient = 'sqlite' | 'postgres' | 'mysql';

/** The database of this jest run: tests/run.js starts one jest run per client. */
export const databaseClient = (process.env.TEST_DB || 'sqlite') as DatabaseClient;

/**
 * `describe` and `it` that run on the engines named and are skipped (counted as skipped) on the
 * others. Tests of an engine's own code run on that engine. Tests whose subject does not depend
 * on the database (HTTP validation, RBAC, archive parsing, the CLI's arguments and output,
 * notifications) run on SQLite only, to keep CI's three database runs short: each such file says
 * where the engine-dependent part of the same behaviour is tested on every engine.
 */
export const describeOn = (...clients: DatabaseClient[]) => (clients.includes(databaseClient) ? describe : describe.skip);
export const itOn = (...clients: DatabaseClient[]) => (clients.includes(databaseClient) ? it : it.skip);

export interface TestApp {
  strapi: Core.Strapi;
  client: DatabaseClient;
  /** The app's public folder; uploads are in its uploads/ folder. */
  publicDir: string;
  /** The plugin's storage folder (PACTA_BACKUP_STORAGE). */
  backupsDir: string;
  /** The plugin's log folder (PACTA_BACKUP_LOG_DIR). */
  logDir: string;
  /** Stops Strapi and drops the test file's database. */
  stop(): Promise<void>;
}

/**
 * Boots an example app (tests/app by default, tests/app-atlas with `app: 'atlas'`; the plugin
 * installed from this package's dist/) on a database of its own on the run's client, and starts
 * its HTTP server on a free port. One per test file: call in beforeAll, stop in afterAll. The
 * database is a copy of the app's first-boot template where tests/run.js made one, else empty
 * (a single test file run by hand): the app starts the same either way.
 */
export const startApp = async ({
  app = 'pacta',
  client = databaseClient,
  storageDir,
  env = {},
}: {
  /** Which example app to boot (its dist/ must be compiled: tests/run.js compiles both). */
  app?: ExampleApp;
  client?: DatabaseClient;
  storageDir?: string;
  /** More environment for the app's config (e.g. PACTA_BACKUP_ENABLED: 'true' to run the schedule). */
  env?: Record<string, string>;
} = {}): Promise<TestApp> => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { bootApp } = require(bootScripts[app]) as { bootApp: BootApp };
  // A copy of the app's first-boot database where tests/run.js made a template for this client.
  const template = client === databaseClient ? process.env[templateVariable(app)] : undefined;
  const database = await createDatabase(client, { template });
  // Uploads and backups of this app go to folders of their own, removed with it.
  const publicDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-public-'));
  fs.mkdirSync(path.join(publicDir, 'uploads'));
  const backupsDir = storageDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-backups-'));
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-logs-'));
  useTestAppEnv({ publicDir, backupsDir, logDir });
  Object.assign(process.env, database.env, { HOST: '127.0.0.1', PORT: '0', ...env });

  let strapi: Core.Strapi | undefined;
  try {
    strapi = await bootApp({ compile: false, listen: true, logLevel: 'error' });
  } catch (error) {
    await database.drop();
    fs.rmSync(publicDir, { recursive: true, force: true });
    if (!storageDir) fs.rmSync(backupsDir, { recursive: true, force: true });
    fs.rmSync(logDir, { recursive: true, force: true });
    throw error;
  }

  return {
    strapi,
    client,
    publicDir,
    backupsDir,
    logDir,
    async stop() {
      await strapi.destroy();
      await database.drop();
      fs.rmSync(publicDir, { recursive: true, force: true });
      if (!storageDir) fs.rmSync(backupsDir, { recursive: true, force: true });
      fs.rmSync(logDir, { recursive: true, force: true });
    },
  };
};
