import path from 'node:path';
import { parseArgs } from 'node:util';

import type { CliBackupBody, CliRestoreBody, Compression } from './types';

export const USAGE = `Usage: pacta-backup <command> [options]

Commands:
  list                 list the backups, newest first
  backup               write a backup now
  verify <id|latest>   check every entry of a backup against its checksums
  restore <id|latest>  restore a backup (a safety backup of the current data is taken first)

Options:
  --app DIR                   the Strapi app (default: the current folder)
  --json                      print one JSON document on stdout and nothing else
  --compile                   compile a TypeScript app first (default: only when a source
                              file is newer than its dist/ folder)
  backup:
    --name NAME               the backup's name
    --content-types UID,UID   only these content types (default: all)
    --no-media                leave out the media files
    --admin-users             include admin users, roles and API tokens (needs --encrypt)
    --config                  include the configuration (core store)
    --compression none|fast|best
    --encrypt                 encrypt with the passphrase of the configured key variable
  restore:
    --content-types UID,UID   restore only these content types
    --no-media                leave the media files as they are
    --admin-users             also restore admin users, roles and API tokens (encrypted
                              backups made with this app's key only; every admin logs in again)
    --config                  also restore the config store and webhooks (the same)
    --yes                     do not ask for confirmation (required when not on a terminal)
  -h, --help                  this help
  -v, --version               the plugin's version

Exit codes: 0 success, 1 failure, 2 usage error, 3 backup completed with warnings
(media files the database names were missing on disk: listed on stderr and in --json).`;

/** A wrong command line: the CLI prints the message and the usage, and exits with 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface Common {
  /** Absolute path of the app. */
  app: string;
  json: boolean;
  /** Compile a TypeScript app even when its dist/ is up to date. */
  compile: boolean;
}

export type CliCommand =
  | { command: 'help' }
  | { command: 'version' }
  | ({ command: 'list' } & Common)
  | ({ command: 'backup'; body: CliBackupBody } & Common)
  | ({ command: 'verify'; id: string } & Common)
  | ({ command: 'restore'; id: string; yes: boolean; body: CliRestoreBody } & Common);

const OPTIONS = {
  app: { type: 'string' },
  json: { type: 'boolean' },
  compile: { type: 'boolean' },
  name: { type: 'string' },
  'content-types': { type: 'string' },
  'no-media': { type: 'boolean' },
  'admin-users': { type: 'boolean' },
  config: { type: 'boolean' },
  compression: { type: 'string' },
  encrypt: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

type OptionName = keyof typeof OPTIONS;

const COMMON: OptionName[] = ['app', 'json', 'compile', 'help', 'version'];
const ALLOWED: Record<'list' | 'backup' | 'verify' | 'restore', OptionName[]> = {
  list: COMMON,
  backup: [...COMMON, 'name', 'content-types', 'no-media', 'admin-users', 'config', 'compression', 'encrypt'],
  verify: COMMON,
  restore: [...COMMON, 'content-types', 'no-media', 'admin-users', 'config', 'yes'],
};

const UID = /^[a-z0-9-]+::[a-z0-9-]+\.[a-z0-9-]+$/i;
const ID = /^(latest|[0-9A-Za-z-]+)$/;
const COMPRESSIONS: Compression[] = ['none', 'fast', 'best'];

const contentTypesOf = (raw: string | undefined): string[] | undefined => {
  if (raw === undefined) return undefined;
  const uids = [...new Set(raw.split(',').map((uid) => uid.trim()).filter(Boolean))];
  if (!uids.length) throw new UsageError('--content-types needs a comma-separated list of content type uids, e.g. api::contract.contract');
  const bad = uids.filter((uid) => !UID.test(uid));
  if (bad.length) throw new UsageError(`--content-types: not a content type uid: ${bad.join(', ')} (expected e.g. api::contract.contract)`);
  return uids;
};

const parse = (argv: string[]) => {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // e.g. "Unknown option '--force'", "Option '--app <value>' argument missing"
    throw new UsageError((error as Error).message);
  }
};

/**
 * Parses the command line (without `node` and the script) into one command, or throws a
 * UsageError naming what is wrong.
 */
export const parseCli = (argv: string[], cwd = process.cwd()): CliCommand => {
  const { values, positionals } = parse(argv);
  const [command, ...rest] = positionals;

  if (values.help || command === 'help') return { command: 'help' };
  if (values.version) return { command: 'version' };
  if (!command) throw new UsageError('Missing command: list, backup, verify or restore');
  if (!(command in ALLOWED)) throw new UsageError(`Unknown command "${command}": use list, backup, verify or restore`);
  const name = command as keyof typeof ALLOWED;

  const given = (Object.keys(values) as OptionName[]).filter((key) => values[key] !== undefined);
  const notHere = given.filter((key) => !ALLOWED[name].includes(key));
  if (notHere.length) throw new UsageError(`${notHere.map((key) => `--${key}`).join(', ')} cannot be used with ${name}`);

  if (values.app !== undefined && !values.app.trim()) throw new UsageError('--app needs the folder of a Strapi app');
  const common: Common = { app: path.resolve(cwd, values.app ?? '.'), json: Boolean(values.json), compile: Boolean(values.compile) };

  const takesId = name === 'verify' || name === 'restore';
  if (takesId) {
    if (rest.length !== 1) throw new UsageError(`${name} needs one backup id (or "latest"), e.g. pacta-backup ${name} latest --app DIR`);
    if (!ID.test(rest[0])) throw new UsageError(`Not a backup id: ${rest[0]}`);
  } else if (rest.length) {
    throw new UsageError(`${name} takes no argument, got ${rest.join(' ')}`);
  }

  switch (name) {
    case 'list':
      return { command: 'list', ...common };
    case 'verify':
      return { command: 'verify', id: rest[0], ...common };
    case 'backup': {
      const body: CliBackupBody = {};
      if (values.name !== undefined) {
        if (!values.name.trim()) throw new UsageError('--name cannot be empty');
        if (values.name.trim().length > 200) throw new UsageError('--name: at most 200 characters');
        body.name = values.name.trim();
      }
      const contentTypes = contentTypesOf(values['content-types']);
      if (contentTypes) body.contentTypes = contentTypes;
      if (values['no-media']) body.media = false;
      if (values['admin-users']) body.adminUsers = true;
      if (values.config) body.config = true;
      if (values.compression !== undefined) {
        if (!COMPRESSIONS.includes(values.compression as Compression)) {
          throw new UsageError(`--compression must be one of ${COMPRESSIONS.join(', ')}, got "${values.compression}"`);
        }
        body.compression = values.compression as Compression;
      }
      if (values.encrypt) body.encrypt = true;
      return { command: 'backup', body, ...common };
    }
    case 'restore': {
      const body: CliRestoreBody = { confirm: true };
      const contentTypes = contentTypesOf(values['content-types']);
      if (contentTypes) body.contentTypes = contentTypes;
      if (values['no-media']) body.media = false;
      if (values['admin-users']) body.adminUsers = true;
      if (values.config) body.config = true;
      return { command: 'restore', id: rest[0], yes: Boolean(values.yes), body, ...common };
    }
  }
};
