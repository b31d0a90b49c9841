'use strict';

/**
 * The three engines the bench runs on: where a dataset's database lives, the environment that
 * points the example app at it, and the engine's own tools (the "native" backup and restore the
 * bench sets ours beside). Administrative statements (create, drop, copy, size) go through the
 * engine's command-line client and are not measured.
 *
 *   sqlite    a file per dataset; native = `tar czf` of the file and the uploads (the floor)
 *   postgres  a database per dataset; native = `pg_dump -Fc` + `tar czf` of the uploads,
 *             restored with `pg_restore -c --if-exists -1` + `tar xzf`
 *   mysql     (MariaDB) a database per dataset; native = `mariadb-dump --single-transaction | gzip`
 *             + `tar czf` of the uploads, restored with `gunzip < dump | mariadb` + `tar xzf`
 *
 * Server, user: --host/--port/--user, else PGHOST/PGPORT/PGUSER (PostgreSQL) or
 * MYSQL_HOST/MYSQL_TCP_PORT/MYSQL_USER (MariaDB), else 127.0.0.1, the default port, postgres/root.
 * The password only from the environment (PGPASSWORD / MYSQL_PWD), never from a flag.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ENGINES = ['sqlite', 'postgres', 'mysql'];

/** A database name the bench made itself: lowercase letters, digits and underscores only. */
const safeName = (name) => {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`not a bench database name: ${name}`);
  return name;
};

const runTool = (command, args, env, input) => {
  const result = spawnSync(command, args, { env, encoding: 'utf8', input, maxBuffer: 16 * 1024 * 1024 });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.filter((a) => !a.startsWith('-')).slice(-1)} failed (exit ${result.status}): ${(result.stderr || '').trim()}`);
  return result.stdout.trim();
};

const sqlite = () => ({
  name: 'sqlite',
  label: 'SQLite',
  server: null,
  /** The dataset's database: a file in its folder. */
  databaseOf: (dir) => path.join(dir, 'data.db'),
  appEnv: (database) => ({ DATABASE_CLIENT: 'sqlite', DATABASE_FILENAME: database }),
  reset: (database) => {
    for (const f of fs.existsSync(path.dirname(database)) ? fs.readdirSync(path.dirname(database)) : []) {
      if (f === path.basename(database) || f.startsWith(`${path.basename(database)}-`)) fs.rmSync(path.join(path.dirname(database), f), { force: true });
    }
  },
  exists: (database) => fs.existsSync(database),
  drop: (database) => sqlite().reset(database),
  copy: (from, to) => {
    sqlite().reset(to);
    for (const f of fs.readdirSync(path.dirname(from))) {
      if (f === path.basename(from) || f.startsWith(`${path.basename(from)}-`)) {
        fs.copyFileSync(path.join(path.dirname(from), f), path.join(path.dirname(to), f.replace(path.basename(from), path.basename(to))));
      }
    }
  },
  sizeOf: (database) => fs.statSync(database).size,
});

const postgres = (flags) => {
  const server = {
    host: flags.host || process.env.PGHOST || '127.0.0.1',
    port: Number(flags.port || process.env.PGPORT || 5432),
    user: flags.user || process.env.PGUSER || 'postgres',
  };
  const password = process.env.PGPASSWORD || '';
  const env = { ...process.env, PGPASSWORD: password };
  const conn = ['-h', server.host, '-p', String(server.port), '-U', server.user];
  const sql = (query, database = 'postgres') => runTool('psql', [...conn, '-d', database, '-v', 'ON_ERROR_STOP=1', '-X', '-A', '-t', '-q', '-c', query], env);
  const engine = {
    name: 'postgres',
    label: 'PostgreSQL',
    server,
    databaseOf: (_dir, dataset, template = false) => `bench_${template ? 'tpl_' : ''}${dataset.toLowerCase()}`,
    appEnv: (database) => ({
      DATABASE_CLIENT: 'postgres',
      DATABASE_HOST: server.host,
      DATABASE_PORT: String(server.port),
      DATABASE_NAME: database,
      DATABASE_USERNAME: server.user,
      DATABASE_PASSWORD: password,
    }),
    version: () => sql('SHOW server_version'),
    exists: (database) => sql(`SELECT 1 FROM pg_database WHERE datname = '${safeName(database)}'`) === '1',
    drop: (database) => sql(`DROP DATABASE IF EXISTS "${safeName(database)}" WITH (FORCE)`),
    reset: (database) => {
      engine.drop(database);
      sql(`CREATE DATABASE "${safeName(database)}"`);
    },
    /** A copy through CREATE DATABASE … TEMPLATE (nobody may be connected to the template). */
    copy: (from, to) => {
      engine.drop(to);
      sql(`CREATE DATABASE "${safeName(to)}" TEMPLATE "${safeName(from)}"`);
    },
    sizeOf: (database) => Number(sql(`SELECT pg_database_size('${safeName(database)}')`)),
    native: {
      dumpFile: 'dump.pgc',
      dump: (database, file) => ({ command: 'pg_dump', args: [...conn, '-Fc', '-f', file, database], env }),
      /** Over the data in place: drops every object the dump holds and recreates it, in one transaction. */
      load: (database, file) => ({ command: 'pg_restore', args: [...conn, '-c', '--if-exists', '-1', '-d', database, file], env }),
      dumpText: 'pg_dump -Fc',
      loadText: 'pg_restore -c --if-exists -1 -d <db> (over the data in place, one transaction)',
    },
  };
  return engine;
};

const mysql = (flags) => {
  const server = {
    host: flags.host || process.env.MYSQL_HOST || '127.0.0.1',
    port: Number(flags.port || process.env.MYSQL_TCP_PORT || 3306),
    user: flags.user || process.env.MYSQL_USER || 'root',
  };
  const password = process.env.MYSQL_PWD || '';
  const env = { ...process.env, MYSQL_PWD: password };
  const conn = ['-h', server.host, '-P', String(server.port), '-u', server.user];
  const sql = (query) => runTool('mariadb', [...conn, '-N', '-B', '-e', query], env);
  /** A pipeline in bash with pipefail, so that a failing dump is not hidden by gzip's exit 0. */
  const pipeline = (script, ...args) => ({ command: 'bash', args: ['-o', 'pipefail', '-c', script, 'bench', ...args], env });
  const quoted = conn.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const engine = {
    name: 'mysql',
    label: 'MariaDB',
    server,
    databaseOf: (_dir, dataset, template = false) => `bench_${template ? 'tpl_' : ''}${dataset.toLowerCase()}`,
    appEnv: (database) => ({
      DATABASE_CLIENT: 'mysql',
      DATABASE_HOST: server.host,
      DATABASE_PORT: String(server.port),
      DATABASE_NAME: database,
      DATABASE_USERNAME: server.user,
      DATABASE_PASSWORD: password,
    }),
    version: () => sql('SELECT VERSION()'),
    exists: (database) => sql(`SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '${safeName(database)}'`) === '1',
    drop: (database) => sql(`DROP DATABASE IF EXISTS \`${safeName(database)}\``),
    reset: (database) => {
      engine.drop(database);
      sql(`CREATE DATABASE \`${safeName(database)}\``);
    },
    /** A copy through a dump piped into the new database. */
    copy: (from, to) => {
      engine.reset(to);
      const { command, args } = pipeline(`mariadb-dump ${quoted} --single-transaction "$1" | mariadb ${quoted} "$2"`, safeName(from), safeName(to));
      runTool(command, args, env);
    },
    sizeOf: (database) =>
      Number(sql(`SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables WHERE table_schema = '${safeName(database)}'`)),
    native: {
      dumpFile: 'dump.sql.gz',
      dump: (database, file) => pipeline(`mariadb-dump ${quoted} --single-transaction "$1" | gzip > "$2"`, database, file),
      /** The dump drops and recreates each table (mariadb-dump's default), over the data in place. */
      load: (database, file) => pipeline(`gunzip < "$2" | mariadb ${quoted} "$1"`, database, file),
      dumpText: 'mariadb-dump --single-transaction | gzip',
      loadText: 'gunzip < dump | mariadb <db> (over the data in place: DROP TABLE + CREATE + INSERTs per table, not one transaction)',
    },
  };
  return engine;
};

const engineFor = (name, flags = {}) => {
  if (name === 'sqlite') return sqlite();
  if (name === 'postgres') return postgres(flags);
  if (name === 'mysql') return mysql(flags);
  throw new Error(`--db: one of ${ENGINES.join(', ')}, got ${name}`);
};

module.exports = { ENGINES, engineFor };
