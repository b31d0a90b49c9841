'use strict';

/**
 * Boots an example app in this process, the way the Strapi CLI does: compile the TypeScript
 * app into dist/, then load it. Used by the seeder, the demo, the tests and the benchmark.
 *
 * The exports boot this app (tests/app); `forApp(appDir)` gives the same functions for another
 * example app (tests/app-atlas uses it).
 */
const path = require('node:path');

/** Compilations of this process, by app folder: each app compiles once. */
const compilations = new Map();

/** @param {string} appDir the app's folder (holds package.json, config/, src/) */
const forApp = (appDir) => {
  /** Strapi reads `.env` from ENV_PATH (default: the working directory); point it at the app. */
  const useAppEnv = () => {
    process.env.ENV_PATH = process.env.ENV_PATH || path.join(appDir, '.env');
  };

  /** Compiles the app once per process (about 5 s); later calls reuse the result. */
  const compileApp = async () => {
    useAppEnv();
    const { compileStrapi } = require('@strapi/strapi');
    if (!compilations.has(appDir)) compilations.set(appDir, await compileStrapi({ appDir, ignoreDiagnostics: false }));
    return compilations.get(appDir);
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

  return { appDir, bootApp, compileApp };
};

module.exports = { ...forApp(path.resolve(__dirname, '..')), forApp };
