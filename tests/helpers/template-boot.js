'use strict';

/**
 * `node tests/helpers/template-boot.js <pacta|atlas>`: boots an example app once on the database
 * its environment names (DATABASE_*), as tests/helpers/app.ts boots it for a test file, and stops
 * it: what the first boot writes is then the template each test file's database copies
 * (makeTemplate in databases.js). Its folders are temporary and removed.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { appSecrets } = require('./secrets');

const apps = { pacta: '../app/scripts/boot', atlas: '../app-atlas/scripts/boot' };

const main = async () => {
  const app = process.argv[2];
  if (!apps[app]) throw new Error(`Usage: template-boot.js ${Object.keys(apps).join('|')}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-template-boot-'));
  fs.mkdirSync(path.join(tmp, 'public', 'uploads'), { recursive: true });
  for (const key of Object.keys(process.env)) if (key.startsWith('PACTA_BACKUP_')) delete process.env[key];
  Object.assign(process.env, appSecrets(), {
    PACTA_BACKUP_ENABLED: 'false',
    PACTA_BACKUP_LOG_DIR: path.join(tmp, 'logs'),
    PUBLIC_DIR: path.join(tmp, 'public'),
    PACTA_BACKUP_STORAGE: path.join(tmp, 'backups'),
    ENV_PATH: path.join(__dirname, 'no-such.env'),
    NODE_ENV: 'test',
    STRAPI_TELEMETRY_DISABLED: 'true',
  });
  try {
    const strapi = await require(apps[app]).bootApp({ compile: false, listen: false, logLevel: 'error' });
    await strapi.destroy();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
};

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  }
);
