import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import type { CliBackupBody, CliImportPolicy, CliImportSource, CliPreviewOptions, CliRestoreBody, Compression } from './types';

export const USAGE = `Usage: pacta-backup <command> [options]

Commands:
  list                 list the backups, newest first (--offsite: those in the off-site copy)
  fetch <id|latest>    bring a backup back from the off-site copy into the local storage (its
                       SHA-256 checked): then restore it as any other, e.g. into a new empty app
  copy <id|latest>     copy a backup off-site now (one made before off-site copies
                       were enabled, or whose copy failed)
  check                check the off-site copies: every index, every object looked for, a
                       random sample read whole against its SHA-256; names damaged backups
  purge                apply the retention policy now (and delete the off-site objects no
                       backup uses any more, older than an hour)
  backup               write a backup now
  verify <id|latest>   check every entry of a backup against its checksums
  restore <id|latest>  restore a backup (a safety backup of the current data is taken first)
  import <file|id>     merge the content of an archive, a JSON export or a backup of the list
                       into the app: a preview first (what is created, updated, unchanged, in
                       conflict), then the import (a safety backup of the current data first)
  export <id|latest>   write a backup's documents as JSON or CSV

Options:
  --app DIR                   the Strapi app (default: the current folder)
  --json                      print one JSON document on stdout and nothing else
  --compile                   compile a TypeScript app first (default: only when a source
                              file is newer than its dist/ folder)
  list:
    --offsite                 list the archives off-site (read from the bucket or folder alone)
  check:
    --sample PERCENT          the share of the objects read whole (default: offsite.check.samplePercent)
  purge:
    --dry-run                 list what would be deleted, here and off-site; delete nothing
    --yes                     do not ask for confirmation (required when not on a terminal)
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
  import (the source: a file, or a backup id of the list, or latest):
    --preview                 show the preview and stop: nothing is written
    --policy keep|incoming|newer|skip
                              what to do with every conflict (default: keep): keep this app's
                              version, take the incoming one, the newer by updatedAt, or skip
    --policy-for UID=POLICY   the same for one content type (repeatable; wins over --policy)
    --match UID=ATTRIBUTE     identify that type's documents by a unique attribute (e.g.
                              api::contract.contract=number) instead of documentId (repeatable)
    --content-types UID,UID   import only these content types (default: all both sides have)
    --skip-incompatible       leave out content types whose schema differs here
    --mirror                  delete documents here that the archive does not have
    --dangling drop|stop      relations to documents neither side has: drop the link and
                              report it (default), or stop
    --passphrase-env VAR      the environment variable holding the passphrase of an encrypted
                              archive (default: the configured key variable, PACTA_BACKUP_KEY)
    --yes                     do not ask for confirmation (required when not on a terminal)
  export:
    --format json|csv         JSON (default): every document version, components nested,
                              relations and media by documentId / SHA-256, an import source;
                              CSV: one row per document version (several types: a zip)
    --content-types UID,UID   only these content types (default: all the backup holds)
    --out FILE                where to write (default: <id>-documents.json, <id>-<type>.csv or
                              <id>-csv.zip in the current folder); never overwrites a file
  -h, --help                  this help
  -v, --version               the plugin's version

Exit codes: 0 success, 1 failure, 2 usage error, 3 completed with warnings (a backup whose
media files the database names were missing on disk; an import that dropped links to documents
neither side has or left out content types: listed on stderr and in --json), 4 an import
--preview found conflicts (an import settles them by the policies: keep unless told otherwise).`;

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
  | ({ command: 'list'; offsite: boolean } & Common)
  | ({ command: 'fetch'; id: string } & Common)
  | ({ command: 'copy'; id: string } & Common)
  | ({ command: 'check'; samplePercent: number | null } & Common)
  | ({ command: 'purge'; dryRun: boolean; yes: boolean } & Common)
  | ({ command: 'backup'; body: CliBackupBody } & Common)
  | ({ command: 'verify'; id: string } & Common)
  | ({ command: 'restore'; id: string; yes: boolean; body: CliRestoreBody } & Common)
  | ({
      command: 'import';
      source: CliImportSource | { latest: true };
      /** Stop after the preview. */
      previewOnly: boolean;
      yes: boolean;
      /** The variable with the passphrase (null: the configured key variable). */
      passphraseEnv: string | null;
      preview: CliPreviewOptions;
      /** The policy of every type's conflicts (null: the service's default, keep). */
      policy: CliImportPolicy | null;
      policyFor: Record<string, CliImportPolicy>;
      dangling: 'drop' | 'stop' | null;
    } & Common)
  | ({ command: 'export'; id: string; format: 'json' | 'csv'; contentTypes?: string[]; out: string | null } & Common);

const OPTIONS = {
  app: { type: 'string' },
  json: { type: 'boolean' },
  compile: { type: 'boolean' },
  offsite: { type: 'boolean' },
  sample: { type: 'string' },
  'dry-run': { type: 'boolean' },
  name: { type: 'string' },
  'content-types': { type: 'string' },
  'no-media': { type: 'boolean' },
  'admin-users': { type: 'boolean' },
  config: { type: 'boolean' },
  compression: { type: 'string' },
  encrypt: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  preview: { type: 'boolean' },
  policy: { type: 'string' },
  'policy-for': { type: 'string', multiple: true },
  match: { type: 'string', multiple: true },
  'passphrase-env': { type: 'string' },
  mirror: { type: 'boolean' },
  'skip-incompatible': { type: 'boolean' },
  dangling: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

type OptionName = keyof typeof OPTIONS;

const COMMON: OptionName[] = ['app', 'json', 'compile', 'help', 'version'];
const ALLOWED: Record<'list' | 'fetch' | 'copy' | 'check' | 'purge' | 'backup' | 'verify' | 'restore' | 'import' | 'export', OptionName[]> = {
  list: [...COMMON, 'offsite'],
  fetch: COMMON,
  copy: COMMON,
  check: [...COMMON, 'sample'],
  purge: [...COMMON, 'dry-run', 'yes'],
  backup: [...COMMON, 'name', 'content-types', 'no-media', 'admin-users', 'config', 'compression', 'encrypt'],
  verify: COMMON,
  restore: [...COMMON, 'content-types', 'no-media', 'admin-users', 'config', 'yes'],
  import: [...COMMON, 'preview', 'policy', 'policy-for', 'match', 'passphrase-env', 'mirror', 'skip-incompatible', 'dangling', 'content-types', 'yes'],
  export: [...COMMON, 'format', 'content-types', 'out'],
};
const COMMANDS = 'list, fetch, copy, check, purge, backup, verify, restore, import or export';

const UID = /^[a-z0-9-]+::[a-z0-9-]+\.[a-z0-9-]+$/i;
const ID = /^(latest|[0-9A-Za-z-]+)$/;
const COMPRESSIONS: Compression[] = ['none', 'fast', 'best'];
const POLICIES: CliImportPolicy[] = ['keep', 'incoming', 'newer', 'skip'];
/** A backup id as the plugin makes them: 20260501-102030-a1b2c3. */
const BACKUP_ID = /^\d{8}-\d{6}-[0-9a-z]+$/i;
const ATTRIBUTE = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const policyOf = (option: string, value: string): CliImportPolicy => {
  if (!POLICIES.includes(value as CliImportPolicy)) throw new UsageError(`${option}: the policy must be one of ${POLICIES.join(', ')}, got "${value}"`);
  return value as CliImportPolicy;
};

/** `--policy-for a=b --policy-for c=d` → { a: b, c: d }, each uid once. */
const pairsOf = <T>(option: string, raw: string[] | undefined, what: string, read: (value: string) => T): Record<string, T> => {
  const out: Record<string, T> = {};
  for (const pair of raw ?? []) {
    const at = pair.indexOf('=');
    const uid = at < 0 ? pair : pair.slice(0, at).trim();
    const value = at < 0 ? '' : pair.slice(at + 1).trim();
    if (at < 0 || !value) throw new UsageError(`--${option} needs UID=${what}, e.g. --${option} api::contract.contract=${what === 'POLICY' ? 'incoming' : 'number'}; got "${pair}"`);
    if (!UID.test(uid)) throw new UsageError(`--${option}: not a content type uid: ${uid} (expected e.g. api::contract.contract)`);
    if (uid in out) throw new UsageError(`--${option}: ${uid} is given twice`);
    out[uid] = read(value);
  }
  return out;
};

/**
 * The source of an import: `latest`, a backup id of the list, or a file (resolved from the
 * working folder; a file of that name wins over a backup id).
 */
const importSourceOf = (raw: string, cwd: string): CliImportSource | { latest: true } => {
  const file = path.resolve(cwd, raw);
  const exists = fs.existsSync(file);
  if (raw === 'latest' && !exists) return { latest: true };
  if (BACKUP_ID.test(raw) && !exists) return { backupId: raw };
  if (!exists) throw new UsageError(`import: no such file: ${file} (nor a backup id such as 20260501-102030-a1b2c3, or latest)`);
  if (!fs.statSync(file).isFile()) throw new UsageError(`import: not a file: ${file}`);
  return { file };
};

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
  if (!command) throw new UsageError(`Missing command: ${COMMANDS}`);
  if (!(command in ALLOWED)) throw new UsageError(`Unknown command "${command}": use ${COMMANDS}`);
  const name = command as keyof typeof ALLOWED;

  const given = (Object.keys(values) as OptionName[]).filter((key) => values[key] !== undefined);
  const notHere = given.filter((key) => !ALLOWED[name].includes(key));
  if (notHere.length) throw new UsageError(`${notHere.map((key) => `--${key}`).join(', ')} cannot be used with ${name}`);

  if (values.app !== undefined && !values.app.trim()) throw new UsageError('--app needs the folder of a Strapi app');
  const common: Common = { app: path.resolve(cwd, values.app ?? '.'), json: Boolean(values.json), compile: Boolean(values.compile) };

  const takesId = name === 'verify' || name === 'restore' || name === 'export' || name === 'fetch' || name === 'copy';
  if (name === 'import') {
    if (rest.length !== 1) throw new UsageError('import needs one source: a file, a backup id or latest, e.g. pacta-backup import staging.pacta.zip --app DIR --preview');
  } else if (takesId) {
    if (rest.length !== 1) throw new UsageError(`${name} needs one backup id (or "latest"), e.g. pacta-backup ${name} latest --app DIR`);
    if (!ID.test(rest[0])) throw new UsageError(`Not a backup id: ${rest[0]}`);
  } else if (rest.length) {
    throw new UsageError(`${name} takes no argument, got ${rest.join(' ')}`);
  }

  switch (name) {
    case 'list':
      return { command: 'list', offsite: Boolean(values.offsite), ...common };
    case 'fetch':
      return { command: 'fetch', id: rest[0], ...common };
    case 'copy':
      return { command: 'copy', id: rest[0], ...common };
    case 'check': {
      if (values.sample === undefined) return { command: 'check', samplePercent: null, ...common };
      const percent = Number(values.sample.replace(/%$/, ''));
      if (!values.sample.trim() || !Number.isFinite(percent) || percent < 0 || percent > 100) {
        throw new UsageError(`--sample needs a percentage from 0 to 100, got "${values.sample}"`);
      }
      return { command: 'check', samplePercent: percent, ...common };
    }
    case 'purge':
      return { command: 'purge', dryRun: Boolean(values['dry-run']), yes: Boolean(values.yes), ...common };
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
    case 'import': {
      const preview: CliPreviewOptions = {};
      const contentTypes = contentTypesOf(values['content-types']);
      if (contentTypes) preview.contentTypes = contentTypes;
      if (values['skip-incompatible']) preview.skipIncompatible = true;
      if (values.mirror) preview.mirror = true;
      const match = pairsOf('match', values.match, 'ATTRIBUTE', (attribute) => {
        if (!ATTRIBUTE.test(attribute)) throw new UsageError(`--match: not an attribute name: ${attribute}`);
        return attribute;
      });
      if (Object.keys(match).length) preview.match = match;
      const passphraseEnv = values['passphrase-env'] ?? null;
      if (passphraseEnv !== null && !ENV_NAME.test(passphraseEnv)) {
        throw new UsageError(`--passphrase-env takes the name of an environment variable (the passphrase itself never goes on the command line), got "${passphraseEnv}"`);
      }
      const dangling = values.dangling ?? null;
      if (dangling !== null && dangling !== 'drop' && dangling !== 'stop') throw new UsageError(`--dangling must be drop or stop, got "${dangling}"`);
      return {
        command: 'import',
        source: importSourceOf(rest[0], cwd),
        previewOnly: Boolean(values.preview),
        yes: Boolean(values.yes),
        passphraseEnv,
        preview,
        policy: values.policy === undefined ? null : policyOf('--policy', values.policy),
        policyFor: pairsOf('policy-for', values['policy-for'], 'POLICY', (value) => policyOf('--policy-for', value)),
        dangling,
        ...common,
      };
    }
    case 'export': {
      const format = values.format ?? 'json';
      if (format !== 'json' && format !== 'csv') throw new UsageError(`--format must be json or csv, got "${format}"`);
      if (values.out !== undefined && !values.out.trim()) throw new UsageError('--out needs a file name');
      const contentTypes = contentTypesOf(values['content-types']);
      return {
        command: 'export',
        id: rest[0],
        format,
        ...(contentTypes ? { contentTypes } : {}),
        out: values.out === undefined ? null : path.resolve(cwd, values.out),
        ...common,
      };
    }
  }
};
