'use strict';

/**
 * `node tests/helpers/template-boot.js <pacta|atlas>`: boots an example app once on the database
 * its environment names (DATABASE_*), with the environment a test file's boot has (app-env.js), and stops
 * it: what the first boot writes is then the template each test file's database copies
 * (makeTemplate in databases.js). Its folders are temporary and removed.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { useTestAppEnv } = require('./app-env');

const apps = { pacta: '../app/scripts/boot', atlas: '../app-atlas/scripts/boot' };

const main = async () => {
  const app = process.argv[2];
  if (!apps[app]) throw new Error(`Usage: template-boot.js ${Object.keys(apps).join('|')}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-template-boot-'));
  fs.mkdirSync(path.join(tmp, 'public', 'uploads'), { recursive: true });
  useTestAppEnv({ publicDir: path.join(tmp, 'public'), backupsDir: path.join(tmp, 'backups'), logDir: path.join(tmp, 'logs') });
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
