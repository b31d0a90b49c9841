#!/usr/bin/env node
'use strict';

/**
 * `npm run demo`: builds the plugin and the admin panel, seeds sample PACTA data on SQLite
 * (first run only), creates a super admin, prints its login and serves
 * http://localhost:1337/admin. Ctrl-C stops it.
 *
 *   npm run demo -- --no-build     reuse the last builds (starts in seconds)
 */
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const { appSecrets } = require('../../helpers/secrets');
const { appDir, bootApp } = require('./boot');

const root = path.resolve(appDir, '..', '..');
const envFile = path.join(appDir, '.env');

const SAMPLE = { documents: 200, media: 24, seed: 1 };

/** Writes tests/app/.env from .env.example with fresh secrets, once. */
const ensureEnvFile = () => {
  if (fs.existsSync(envFile)) return;
  const values = {
    ...appSecrets(),
    DEMO_ADMIN_PASSWORD: `Pacta-${crypto.randomBytes(6).toString('hex')}`,
  };
  const text = fs
    .readFileSync(path.join(appDir, '.env.example'), 'utf8')
    .replace(/^([A-Z_]+)=$/gm, (line, key) => (key in values ? `${key}=${values[key]}` : line));
  fs.writeFileSync(envFile, text, { mode: 0o600 });
  console.log(`Wrote ${path.relative(root, envFile)} with fresh secrets.`);
};

const step = (label, command, args, cwd) => {
  console.log(`\n▶ ${label}`);
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', env: process.env });
  if (result.status !== 0) throw new Error(`${label} failed (exit ${result.status}).`);
};

const ensureSuperAdmin = async (strapi, { email, password }) => {
  const users = strapi.service('admin::user');
  const existing = await strapi.db.query('admin::user').findOne({ where: { email } });
  if (existing) {
    // Keep the printed password true even if someone changed it in the panel.
    await users.updateById(existing.id, { password, isActive: true });
    return;
  }
  const superAdmin = await strapi.service('admin::role').getSuperAdmin();
  await users.create({
    email,
    password,
    firstname: 'Demo',
    lastname: 'Admin',
    isActive: true,
    registrationToken: null,
    roles: [superAdmin.id],
  });
};

const main = async () => {
  const build = !process.argv.includes('--no-build');
  ensureEnvFile();
  require('dotenv').config({ path: envFile });

  if (build) {
    step('Build the plugin', 'npx', ['strapi-plugin', 'build'], root);
    step('Build the admin panel of the example app', 'npx', ['strapi', 'build'], appDir);
  }

  console.log('\n▶ Start Strapi');
  const strapi = await bootApp({ compile: !build, logLevel: 'info' });

  const contracts = await strapi.db.query('api::contract.contract').count();
  if (contracts === 0) {
    console.log(`Seeding sample data (${SAMPLE.documents} contracts, ${SAMPLE.media} media files)…`);
    const summary = await require('./seed/index').seed(strapi, SAMPLE);
    console.log('Seeded:', JSON.stringify(summary));
  }

  const login = { email: process.env.DEMO_ADMIN_EMAIL, password: process.env.DEMO_ADMIN_PASSWORD };
  await ensureSuperAdmin(strapi, login);
  await strapi.listen();

  const url = `http://localhost:${strapi.config.get('server.port')}/admin`;
  console.log(
    [
      '',
      '  PACTA Backup demo is running.',
      `  Admin panel:  ${url}`,
      `  Email:        ${login.email}`,
      `  Password:     ${login.password}`,
      `  Backups page: ${url}/plugins/pacta-backup`,
      '  Stop with Ctrl-C.',
      '',
    ].join('\n')
  );
};

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
