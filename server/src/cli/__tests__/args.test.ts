import path from 'node:path';

import fs from 'node:fs';
import os from 'node:os';

import type { Backup, CreateBackupBody, Job, RestoreBody } from '../../contracts/backups';
import type { ApplyBody, ImportPreview, ImportReport, PreviewBody } from '../../contracts/imports';
import { parseCli, UsageError } from '../args';
import { policiesFor } from '../index';
import { backupsTable, describeChecks, describeImport, describePreview, formatBytes, progressLine, undoCommand } from '../output';
import type { CliApplyBody, CliBackup, CliBackupBody, CliImportReport, CliJob, CliPreview, CliPreviewBody, CliRestoreBody } from '../types';

// The CLI is compiled on its own and declares the shapes it reads; they must stay compatible
// with the contracts of the services (checked by the type checker of this test).
const _backup: CliBackup = {} as Backup;
const _job: CliJob = {} as Job;
const _body: CreateBackupBody = {} as CliBackupBody;
const _restore: RestoreBody = {} as CliRestoreBody;
const _preview: CliPreview = {} as ImportPreview;
const _report: CliImportReport = {} as ImportReport;
const _previewBody: Omit<PreviewBody, 'source'> = {} as Omit<CliPreviewBody, 'source'>;
const _previewSource: PreviewBody['source'] | { file: string } = {} as CliPreviewBody['source'];
const _apply: ApplyBody = {} as CliApplyBody;

const cwd = '/srv/site';
const parse = (line: string) => parseCli(line.split(' ').filter(Boolean), cwd);
const usageError = (line: string) => {
  try {
    parse(line);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`"${line}" parsed without error`);
};

describe('pacta-backup command line', () => {
  it('parses list, with the app folder resolved from the working folder', () => {
    expect(parse('list --app ../app --json')).toEqual({ command: 'list', offsite: false, app: path.resolve(cwd, '../app'), json: true, compile: false });
    expect(parse('list')).toEqual({ command: 'list', offsite: false, app: cwd, json: false, compile: false });
    expect(parse('list --compile')).toMatchObject({ compile: true });
    expect(parse('list --app=/abs/app')).toMatchObject({ app: '/abs/app' });
  });

  it('parses the off-site list and fetch, and refuses what they do not take', () => {
    expect(parse('list --offsite --json')).toMatchObject({ command: 'list', offsite: true, json: true });
    expect(parse('fetch 20260501-102030-a1b2c3')).toEqual({ command: 'fetch', id: '20260501-102030-a1b2c3', app: cwd, json: false, compile: false });
    expect(parse('fetch latest --json')).toMatchObject({ command: 'fetch', id: 'latest' });
    expect(() => parse('fetch')).toThrow('fetch needs one backup id');
    expect(() => parse('fetch ../x')).toThrow('Not a backup id');
    expect(() => parse('fetch latest --offsite')).toThrow('--offsite cannot be used with fetch');
    expect(() => parse('backup --offsite')).toThrow('--offsite cannot be used with backup');
    expect(parse('copy latest')).toEqual({ command: 'copy', id: 'latest', app: cwd, json: false, compile: false });
    expect(() => parse('copy')).toThrow('copy needs one backup id');
  });

  it('parses the off-site check and the purge, and refuses what they do not take', () => {
    expect(parse('check')).toEqual({ command: 'check', samplePercent: null, app: cwd, json: false, compile: false });
    expect(parse('check --sample 25 --json')).toMatchObject({ command: 'check', samplePercent: 25, json: true });
    expect(parse('check --sample 2.5%')).toMatchObject({ samplePercent: 2.5 });
    expect(parse('check --sample 0')).toMatchObject({ samplePercent: 0 });
    for (const line of ['check --sample 101', 'check --sample=-1', 'check --sample all']) expect(() => parse(line)).toThrow('--sample needs a percentage from 0 to 100');
    expect(() => parse('check latest')).toThrow('check takes no argument');
    expect(() => parse('check --dry-run')).toThrow('--dry-run cannot be used with check');
    expect(parse('purge')).toEqual({ command: 'purge', dryRun: false, yes: false, app: cwd, json: false, compile: false });
    expect(parse('purge --dry-run --json')).toMatchObject({ command: 'purge', dryRun: true, json: true });
    expect(parse('purge -y')).toMatchObject({ command: 'purge', yes: true });
    expect(() => parse('purge --sample 5')).toThrow('--sample cannot be used with purge');
    expect(() => parse('backup --dry-run')).toThrow('--dry-run cannot be used with backup');
  });

  it('parses backup with every option into the body the API takes', () => {
    expect(
      parse('backup --app a --name Nightly --content-types api::tag.tag,,api::contract.contract,api::tag.tag --no-media --admin-users --config --compression best --encrypt --json')
    ).toEqual({
      command: 'backup',
      app: path.resolve(cwd, 'a'),
      json: true,
      compile: false,
      body: {
        name: 'Nightly',
        contentTypes: ['api::tag.tag', 'api::contract.contract'],
        media: false,
        adminUsers: true,
        config: true,
        compression: 'best',
        encrypt: true,
      },
    });
  });

  it('leaves the options not given out of the backup body, so the service defaults apply', () => {
    expect(parse('backup --app a')).toMatchObject({ command: 'backup', body: {} });
    expect(parseCli(['backup', '--name', '  Before the upgrade  '], cwd)).toMatchObject({ body: { name: 'Before the upgrade' } });
  });

  it('parses verify and restore with an id or latest', () => {
    expect(parse('verify latest --app a')).toEqual({ command: 'verify', id: 'latest', app: path.resolve(cwd, 'a'), json: false, compile: false });
    expect(parse('verify 20260501-102030-a1b2c3 --json')).toMatchObject({ id: '20260501-102030-a1b2c3', json: true });
    expect(parse('restore latest --app a --yes --json')).toEqual({
      command: 'restore',
      id: 'latest',
      app: path.resolve(cwd, 'a'),
      json: true,
      compile: false,
      yes: true,
      body: { confirm: true },
    });
    expect(parse('restore 20260501-102030-a1b2c3 -y --content-types api::tag.tag --no-media')).toMatchObject({
      yes: true,
      body: { confirm: true, contentTypes: ['api::tag.tag'], media: false },
    });
    expect(parse('restore latest')).toMatchObject({ yes: false });
  });

  it('answers help and version before anything else', () => {
    expect(parse('--help')).toEqual({ command: 'help' });
    expect(parse('restore latest -h')).toEqual({ command: 'help' });
    expect(parse('help')).toEqual({ command: 'help' });
    expect(parse('--version')).toEqual({ command: 'version' });
  });

  it('refuses a missing or unknown command', () => {
    expect(usageError('')).toMatch(/Missing command/);
    expect(usageError('--app a')).toMatch(/Missing command/);
    expect(usageError('frobnicate --app a')).toMatch(/Unknown command "frobnicate"/);
  });

  it('refuses unknown options and options of another command', () => {
    expect(usageError('list --force')).toMatch(/--force/);
    expect(usageError('list --yes')).toMatch(/--yes cannot be used with list/);
    expect(usageError('verify latest --no-media')).toMatch(/--no-media cannot be used with verify/);
    expect(usageError('restore latest --name x --encrypt')).toMatch(/--name, --encrypt cannot be used with restore/);
    expect(usageError('backup --yes')).toMatch(/--yes cannot be used with backup/);
  });

  it('refuses missing, extra and malformed ids', () => {
    expect(usageError('verify --app a')).toMatch(/verify needs one backup id/);
    expect(usageError('restore a b --yes')).toMatch(/restore needs one backup id/);
    expect(usageError('restore ../../etc --yes')).toMatch(/Not a backup id/);
    expect(usageError('list extra')).toMatch(/list takes no argument/);
    expect(usageError('backup latest')).toMatch(/backup takes no argument/);
  });

  it('refuses bad option values', () => {
    expect(usageError('backup --compression max')).toMatch(/--compression must be one of none, fast, best/);
    expect(usageError('backup --content-types contracts')).toMatch(/not a content type uid: contracts/);
    expect(usageError('backup --content-types ,')).toMatch(/--content-types needs/);
    expect(usageError('backup --app')).toMatch(/--app/);
    expect(usageError('list --json=yes')).toMatch(/--json/);
    expect(() => parseCli(['backup', '--name', '   '], cwd)).toThrow('--name cannot be empty');
    expect(() => parseCli(['list', '--app', ''], cwd)).toThrow(UsageError);
  });
});

describe('pacta-backup output', () => {
  it('formats sizes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(50 * 1024 * 1024)).toBe('50 MB');
  });

  it('draws a progress line that fits the terminal', () => {
    expect(progressLine({ phase: 'rows', progress: { done: 50, total: 200, bytes: 0 } })).toBe('rows           [######------------------]  25%  50/200');
    expect(progressLine({ phase: 'starting', progress: { done: 0, total: 0, bytes: 0 } })).toBe('starting       ...');
    expect(progressLine({ phase: 'rows', progress: { done: 5, total: 4, bytes: 2048 } }, 30)).toHaveLength(29);
  });

  it('lists backups as a table, damaged ones marked', () => {
    const backup: CliBackup = {
      id: '20260501-102030-a1b2c3',
      name: 'Nightly',
      createdAt: '2026-05-01T10:20:30.000Z',
      kind: 'manual',
      status: 'ok',
      size: 2048,
      compression: 'fast',
      encrypted: true,
      verifiedAt: null,
      rows: 10,
      media: { files: 0, bytes: 0 },
    };
    const text = backupsTable([backup, { ...backup, id: 'x', status: 'damaged', error: 'bad zip' }]);
    expect(text.split('\n')[0]).toBe('id                      name              created           kind    size    encrypted  verified');
    expect(text).toContain('20260501-102030-a1b2c3  Nightly           2026-05-01 10:20  manual  2.0 KB  yes        no');
    expect(text).toContain('DAMAGED: bad zip');
    expect(backupsTable([])).toBe('No backups yet.');
  });
});

describe('pacta-backup import and export command lines', () => {
  let dir: string;
  let archive: string;
  const parseIn = (line: string) => parseCli(line.split(' ').filter(Boolean), dir);
  const usageIn = (line: string) => {
    try {
      parseIn(line);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return (error as Error).message;
    }
    throw new Error(`"${line}" parsed without error`);
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-cli-args-'));
    archive = path.join(dir, 'staging.pacta.zip');
    fs.writeFileSync(archive, 'PK');
    fs.writeFileSync(path.join(dir, '20260501-102030-a1b2c3'), 'a file named like a backup id');
    fs.mkdirSync(path.join(dir, 'folder'));
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('parses an import of a file with every option', () => {
    expect(
      parseIn(
        'import staging.pacta.zip --app site --preview --policy newer --policy-for api::contract.contract=incoming --policy-for api::tag.tag=skip ' +
          '--match api::contract.contract=number --match api::supplier.supplier=taxId --passphrase-env STAGING_KEY --content-types api::contract.contract,api::tag.tag ' +
          '--skip-incompatible --mirror --dangling stop --yes --json'
      )
    ).toEqual({
      command: 'import',
      app: path.join(dir, 'site'),
      json: true,
      compile: false,
      source: { file: archive },
      previewOnly: true,
      yes: true,
      passphraseEnv: 'STAGING_KEY',
      preview: {
        contentTypes: ['api::contract.contract', 'api::tag.tag'],
        skipIncompatible: true,
        mirror: true,
        match: { 'api::contract.contract': 'number', 'api::supplier.supplier': 'taxId' },
      },
      policy: 'newer',
      policyFor: { 'api::contract.contract': 'incoming', 'api::tag.tag': 'skip' },
      dangling: 'stop',
    });
  });

  it('takes a backup id or latest when no file has that name, and a file when one does', () => {
    expect(parseIn('import 20260601-000000-ffffff --yes')).toMatchObject({ source: { backupId: '20260601-000000-ffffff' }, previewOnly: false, policy: null, policyFor: {}, dangling: null, passphraseEnv: null, preview: {} });
    expect(parseIn('import latest --preview')).toMatchObject({ source: { latest: true } });
    expect(parseIn('import 20260501-102030-a1b2c3 --preview')).toMatchObject({ source: { file: path.join(dir, '20260501-102030-a1b2c3') } });
    expect(parseIn(`import ${archive}`)).toMatchObject({ source: { file: archive } });
  });

  it('refuses a missing source, a missing file, a folder and bad option values', () => {
    expect(usageIn('import --preview')).toMatch(/import needs one source/);
    expect(usageIn('import a.zip b.zip')).toMatch(/import needs one source/);
    expect(usageIn('import nope.zip')).toBe(`import: no such file: ${path.join(dir, 'nope.zip')} (nor a backup id such as 20260501-102030-a1b2c3, or latest)`);
    expect(usageIn('import folder')).toMatch(/not a file/);
    expect(usageIn('import staging.pacta.zip --policy mine')).toBe('--policy: the policy must be one of keep, incoming, newer, skip, got "mine"');
    expect(usageIn('import staging.pacta.zip --policy-for api::tag.tag')).toMatch(/--policy-for needs UID=POLICY/);
    expect(usageIn('import staging.pacta.zip --policy-for tags=keep')).toMatch(/--policy-for: not a content type uid: tags/);
    expect(usageIn('import staging.pacta.zip --policy-for api::tag.tag=keep --policy-for api::tag.tag=skip')).toBe('--policy-for: api::tag.tag is given twice');
    expect(usageIn('import staging.pacta.zip --policy-for api::tag.tag=mine')).toMatch(/--policy-for: the policy must be one of/);
    expect(usageIn('import staging.pacta.zip --match api::contract.contract=')).toMatch(/--match needs UID=ATTRIBUTE/);
    expect(usageIn('import staging.pacta.zip --match api::contract.contract=num.ber')).toBe('--match: not an attribute name: num.ber');
    expect(usageIn('import staging.pacta.zip --dangling keep')).toBe('--dangling must be drop or stop, got "keep"');
    expect(usageIn('import staging.pacta.zip --no-media')).toBe('--no-media cannot be used with import');
  });

  it('never takes a passphrase on the command line: only the name of a variable', () => {
    expect(usageIn('import staging.pacta.zip --passphrase-env correct-horse-battery')).toMatch(/--passphrase-env takes the name of an environment variable/);
    expect(usageIn('import staging.pacta.zip --passphrase secret')).toMatch(/Unknown option '--passphrase'/);
  });

  it('parses export, json by default, the output file resolved from the working folder', () => {
    expect(parseIn('export latest --app site')).toEqual({ command: 'export', id: 'latest', format: 'json', out: null, app: path.join(dir, 'site'), json: false, compile: false });
    expect(parseIn('export 20260601-000000-ffffff --format csv --content-types api::contract.contract --out out/contracts.csv')).toMatchObject({
      id: '20260601-000000-ffffff',
      format: 'csv',
      contentTypes: ['api::contract.contract'],
      out: path.join(dir, 'out/contracts.csv'),
    });
    expect(usageIn('export latest --format xml')).toBe('--format must be json or csv, got "xml"');
    expect(usageIn('export')).toMatch(/export needs one backup id/);
    expect(usageIn('export ../x')).toMatch(/Not a backup id/);
    expect(usageIn('export latest --policy keep')).toBe('--policy cannot be used with export');
    expect(usageIn('backup --format json')).toBe('--format cannot be used with backup');
  });

  it('builds the policies of an apply from --policy and --policy-for, refusing a type the import lacks', () => {
    const uids = ['api::contract.contract', 'api::tag.tag'];
    expect(policiesFor(uids, null, {})).toBeUndefined();
    expect(policiesFor(uids, 'incoming', {})).toEqual({ 'api::contract.contract': 'incoming', 'api::tag.tag': 'incoming' });
    expect(policiesFor(uids, 'newer', { 'api::tag.tag': 'skip' })).toEqual({ 'api::contract.contract': 'newer', 'api::tag.tag': 'skip' });
    expect(policiesFor(uids, null, { 'api::tag.tag': 'skip' })).toEqual({ 'api::tag.tag': 'skip' });
    expect(() => policiesFor(uids, null, { 'api::ghost.ghost': 'keep' })).toThrow('--policy-for: not a content type of this import: api::ghost.ghost (it has api::contract.contract, api::tag.tag)');
  });
});

describe('pacta-backup import output', () => {
  const preview: CliPreview = {
    id: 'p1',
    source: { name: 'staging.pacta.zip', encrypted: true },
    mirror: false,
    checks: [
      { id: 'structure', ok: true, message: '41 entries, no unsafe name' },
      { id: 'key', ok: true, message: 'the passphrase opens the archive' },
    ],
    compatibility: [
      { uid: 'api::contract.contract', displayName: 'Contract', status: 'compatible', differences: [], skipped: false },
      { uid: 'api::note.note', displayName: 'Note', status: 'missing', differences: [], skipped: true },
      {
        uid: 'api::tag.tag',
        displayName: 'Tag',
        status: 'different',
        differences: [
          { attribute: 'color', kind: 'archive-only' },
          { attribute: 'rank', kind: 'type', archiveType: 'integer', hereType: 'string' },
        ],
        skipped: false,
      },
    ],
    mode: 'three-way',
    modeReason: 'archive and this app both descend from backup 20260101-000000-aaaaaa',
    base: '20260101-000000-aaaaaa',
    types: [
      { uid: 'api::contract.contract', displayName: 'Contract', matchBy: 'number', counts: { create: 3, update: 2, unchanged: 10, conflict: 1, absent: 4 } },
      { uid: 'api::tag.tag', displayName: 'Tag', matchBy: null, counts: { create: 0, update: 0, unchanged: 5, conflict: 0, absent: 0 } },
    ],
    dangling: [{ uid: 'api::contract.contract', documentId: 'abc', locale: 'en', field: 'supplier', targetUid: 'api::supplier.supplier', targetDocumentId: 'zzz' }],
    media: { reused: 2, added: 1 },
  };

  it('prints the checks, the schema differences, the mode and the per-type table', () => {
    const text = describePreview(preview);
    expect(text).toContain('ok    structure     41 entries, no unsafe name');
    expect(text).toContain('  api::note.note: not a content type of this app (left out)');
    expect(text).toContain('  api::tag.tag: color only in the archive; rank is integer in the archive, string here');
    expect(text).toContain('Mode: three-way (archive and this app both descend from backup 20260101-000000-aaaaaa)');
    expect(text).toContain('content type                        create  update  unchanged  conflict  absent');
    expect(text).toContain('api::contract.contract (by number)  3       2       10         1         4');
    expect(text).toContain('4 documents here and not in the archive stay as they are.');
    expect(text).toContain('api::contract.contract abc (en) supplier → api::supplier.supplier zzz');
    expect(text).toContain('Media: 2 files already here (reused), 1 to add.');
    expect(describeChecks([{ id: 'checksums', ok: false, message: 'data/x.ndjson: SHA-256 differs' }])).toBe('FAIL  checksums     data/x.ndjson: SHA-256 differs');
  });

  it('prints the report with the command that undoes the import', () => {
    const report: CliImportReport = {
      previewId: 'p1',
      mode: 'two-way',
      types: [{ uid: 'api::contract.contract', displayName: 'Contract', created: 3, updated: 2, unchanged: 10, skipped: 0, deleted: 0, conflicts: 1 }],
      conflicts: [{ key: 'k', uid: 'api::contract.contract', documentId: 'd', locale: 'en', version: 'draft', policy: 'incoming', fields: {} }],
      dangling: [],
      media: { reused: 2, added: 1 },
      remapped: 4,
      safetyBackupId: '20260601-000000-safe01',
      undo: { contentTypes: ['api::contract.contract', 'plugin::upload.file'], media: false, confirm: true },
      durationMs: 1500,
    };
    const text = describeImport(report, '/srv/my site');
    expect(text).toContain('Import done (two-way) in 1.5 s.');
    expect(text).toContain('api::contract.contract  3        2        10         0        0        1');
    expect(text).toContain('1 conflicts resolved: 1 incoming.');
    expect(text).toContain('4 rows got a new id (theirs is taken here).');
    expect(text).toContain(
      "  pacta-backup restore 20260601-000000-safe01 --app '/srv/my site' --content-types api::contract.contract,plugin::upload.file --no-media --yes"
    );
    expect(undoCommand({ ...report, undo: { contentTypes: [], media: true, confirm: true } }, '/srv/site')).toBe('pacta-backup restore 20260601-000000-safe01 --app /srv/site --yes');
  });
});
