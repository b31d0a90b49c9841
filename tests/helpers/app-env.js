'use strict';

/**
 * The environment an example app boots with in the tests: one place for the test files' apps
 * (tests/helpers/app.ts) and the first boot that makes their template databases
 * (tests/helpers/template-boot.js), so that a template is what a test file's own boot would make.
 * Plain CommonJS so that both can use it.
 */
const path = require('node:path');

const { appSecrets } = require('./secrets');

/**
 * Sets process.env for a boot: fresh secrets, the app's folders, the schedule off, no .env and no
 * telemetry. What an earlier boot of this process set for the plugin does not carry over.
 */
const useTestAppEnv = ({ publicDir, backupsDir, logDir }) => {
  for (const key of Object.keys(process.env)) if (key.startsWith('PACTA_BACKUP_')) delete process.env[key];
  Object.assign(process.env, appSecrets(), {
    // The schedule stays off unless a test turns it on: a 02:00 backup must not land in a count.
    PACTA_BACKUP_ENABLED: 'false',
    PACTA_BACKUP_LOG_DIR: logDir,
    PUBLIC_DIR: publicDir,
    PACTA_BACKUP_STORAGE: backupsDir,
    // Never read the demo's .env: a test sees only what it sets.
    ENV_PATH: path.join(__dirname, 'no-such.env'),
    NODE_ENV: 'test',
    // No telemetry: nothing leaves the machine, and Strapi writes no metrics state meanwhile.
    STRAPI_TELEMETRY_DISABLED: 'true',
  });
};

module.exports = { useTestAppEnv };
