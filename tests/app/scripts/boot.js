'use strict';

/**
 * Boots the example app in this process, the way the Strapi CLI does: compile the TypeScript
 * app into dist/, then load it. Used by the seeder, the demo, the tests and the benchmark.
 */
const path = require('node:path');

const appDir = path.resolve(__dirname, '..');

/** Strapi reads `.env` from ENV_PATH (default: the working directory); point it at the app. */
const useAppEnv = () => {
  process.env.ENV_PATH = process.env.ENV_PATH || path.join(appDir, '.env');
};

let compiled;

/** Compiles the app once per process (about 5 s); later calls reuse the result. */
const compileApp = async () => {
  useAppEnv();
  const { compileStrapi } = require('@strapi/strapi');
  compiled = compiled || (await compileStrapi({ appDir, ignoreDiagnostics: false }));
  return compiled;
};

/**
 * @param {{ logLevel?: string, compile?: boolean, listen?: boolean }} [options]
 * compile: false reuses an existing dist/ (the test harness compiles once before jest starts).
 */
const bootApp = async ({ logLevel = 'error', compile = true, listen = false } = {}) => {
  useAppEnv();
  const { createStrapi } = require('@strapi/strapi');
  const context = compile ? await compileApp() : { appDir, distDir: path.join(appDir, 'dist') };
  const strapi = createStrapi(context);
  strapi.log.level = logLevel;
  await strapi.load();
  strapi.log.level = logLevel;
  if (listen) {
    await strapi.server.listen();
  }
  return strapi;
};

module.exports = { appDir, bootApp, compileApp };
