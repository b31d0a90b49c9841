'use strict';

/**
 * The three databases the suite runs on, and how to make a fresh one for a test file.
 * Plain CommonJS so that tests/run.js (outside jest) and the TypeScript tests share it.
 */
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
 * Creates an empty database and returns the environment that points the example app at it,
 * plus a function that drops it.
 */
const createDatabase = async (client) => {
  const name = `${runPrefix()}${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

  if (client === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-test-'));
    return {
      name,
      env: { DATABASE_CLIENT: 'sqlite', DATABASE_FILENAME: path.join(dir, `${name}.db`) },
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }

  const server = servers[client];
  await admin(client, `CREATE DATABASE ${name}`);
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

module.exports = { CLIENTS, servers, assertReachable, createDatabase, dropLeftovers };
