'use strict';

/**
 * The three databases the suite runs on, and how to make a fresh one for a test file.
 * Plain CommonJS so that tests/run.js (outside jest) and the TypeScript tests share it.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CLIENTS = ['sqlite', 'postgres', 'mysql'];

const servers = {
  postgres: {
    label: 'PostgreSQL',
    host: process.env.TEST_POSTGRES_HOST || '127.0.0.1',
    port: Number(process.env.TEST_POSTGRES_PORT || 5432),
    user: process.env.TEST_POSTGRES_USER || 'postgres',
    password: process.env.TEST_POSTGRES_PASSWORD || '',
    start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  },
  mysql: {
    label: 'MariaDB/MySQL',
    host: process.env.TEST_MYSQL_HOST || '127.0.0.1',
    port: Number(process.env.TEST_MYSQL_PORT || 3306),
    user: process.env.TEST_MYSQL_USER || 'root',
    password: process.env.TEST_MYSQL_PASSWORD || '',
    start: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
  },
};

/**
 * Every database made by one `npm test` run shares a prefix with the run's id, so the run drops
 * its own leftovers at the end and never touches another run's databases.
 */
const RUN_ID = process.env.PACTA_TEST_RUN || `p${process.pid}`;
const runPrefix = (runId = RUN_ID) => `pacta_test_${runId}_`;

/** Runs one statement on the server's maintenance database. */
const admin = async (client, sql) => {
  const { host, port, user, password } = servers[client];
  const server = { host, port, user, password };
  if (client === 'postgres') {
    const { Client } = require('pg');
    const pg = new Client({ ...server, database: 'postgres', connectionTimeoutMillis: 5000 });
    await pg.connect();
    try {
      return (await pg.query(sql)).rows;
    } finally {
      await pg.end();
    }
  }
  const mysql = require('mysql2/promise');
  const conn = await mysql.createConnection({ ...server, connectTimeout: 5000 });
  try {
    const [rows] = await conn.query(sql);
    return rows;
  } finally {
    await conn.end();
  }
};

/** Resolves when the server answers; rejects with how to start it otherwise. */
const assertReachable = async (client) => {
  if (client === 'sqlite') return;
  const server = servers[client];
  try {
    await admin(client, 'SELECT 1');
  } catch (error) {
    throw new Error(
      `${server.label} is not reachable at ${server.host}:${server.port} as ${server.user} ` +
        `(${error.code || error.message}). Start it with:\n  ${server.start}\n` +
        `or point TEST_${client.toUpperCase()}_HOST/PORT/USER/PASSWORD at a running server.`
    );
  }
};

/**
 * Creates a database and returns the environment that points the example app at it, plus a
 * function that drops it. Empty, unless `template` names a template (see makeTemplate): then a
 * copy of it.
 */
const createDatabase = async (client, { template } = {}) => {
  const name = `${runPrefix()}${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

  if (client === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-test-'));
    const file = path.join(dir, `${name}.db`);
    if (template) fs.copyFileSync(template, file);
    return {
      name,
      env: { DATABASE_CLIENT: 'sqlite', DATABASE_FILENAME: file },
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }

  const server = servers[client];
  if (client === 'postgres' && template) {
    await admin(client, `CREATE DATABASE ${name} TEMPLATE ${template}`);
  } else {
    await admin(client, `CREATE DATABASE ${name}`);
    if (template) runMysqlScript(name, fs.readFileSync(template));
  }
  return {
    name,
    env: {
      DATABASE_CLIENT: client,
      DATABASE_HOST: server.host,
      DATABASE_PORT: String(server.port),
      DATABASE_NAME: name,
      DATABASE_USERNAME: server.user,
      DATABASE_PASSWORD: server.password,
    },
    drop: async () => {
      await admin(client, `DROP DATABASE IF EXISTS ${name}`);
    },
  };
};

/** Runs a script of SQL statements (a dump) in a MariaDB/MySQL database, through the client. */
const runMysqlScript = (database, sql) => {
  const { host, port, user, password } = servers.mysql;
  const result = spawnSync('mariadb', ['-h', host, '-P', String(port), '-u', user, database], {
    input: sql,
    env: { ...process.env, MYSQL_PWD: password },
  });
  if (result.status !== 0) throw new Error(`mariadb ${database} failed: ${result.stderr || result.error}`);
};

/**
 * A template of an example app's database on a client: a database as the app's first boot leaves
 * it (its ~60 tables, admin roles and permissions, the default locale), made once per run and
 * app, so that each test file's app starts from a copy instead of creating and seeding all of it
 * again: a first boot takes about 4 s longer than a later one on PostgreSQL and MariaDB, 2 s on
 * SQLite. The app boots in a process of its own (tests/helpers/template-boot.js). Returns what
 * createDatabase takes as `template` (a database on PostgreSQL, a dump on MariaDB, a file on
 * SQLite) and a function that removes it.
 */
const makeTemplate = async (client, app) => {
  const database = await createDatabase(client);
  const script = path.join(__dirname, 'template-boot.js');
  const boot = spawnSync(process.execPath, [script, app], { env: { ...process.env, ...database.env }, encoding: 'utf8' });
  if (boot.status !== 0) {
    await database.drop();
    throw new Error(`The ${app} app did not boot on a new ${client} database:\n${boot.stderr}`);
  }
  if (client === 'sqlite') return { template: database.env.DATABASE_FILENAME, drop: database.drop };
  if (client === 'postgres') return { template: database.name, drop: database.drop };
  const { host, port, user, password } = servers.mysql;
  const dump = spawnSync('mariadb-dump', ['-h', host, '-P', String(port), '-u', user, '--skip-comments', database.name], {
    env: { ...process.env, MYSQL_PWD: password },
    maxBuffer: 256 * 1024 * 1024,
  });
  await database.drop();
  if (dump.status !== 0) throw new Error(`mariadb-dump of the ${app} template failed: ${dump.stderr}`);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-template-')), `${app}.sql`);
  fs.writeFileSync(file, dump.stdout);
  return { template: file, drop: async () => fs.rmSync(path.dirname(file), { recursive: true, force: true }) };
};

/** The variable that hands a template to the test files (tests/helpers/app.ts reads it). */
const templateVariable = (app) => `PACTA_TEST_TEMPLATE_${app.toUpperCase()}`;

/** Drops the databases of a run that a crashed test file left behind. */
const dropLeftovers = async (client, runId) => {
  if (client === 'sqlite') return 0;
  const prefix = runPrefix(runId);
  const rows =
    client === 'postgres'
      ? await admin(client, `SELECT datname AS name FROM pg_database WHERE datname LIKE '${prefix}%'`)
      : await admin(client, `SHOW DATABASES LIKE '${prefix}%'`);
  const names = rows.map((row) => row.name || Object.values(row)[0]);
  for (const name of names) {
    await admin(client, `DROP DATABASE IF EXISTS ${name}`);
  }
  return names.length;
};

module.exports = { CLIENTS, servers, assertReachable, createDatabase, dropLeftovers, makeTemplate, templateVariable };
