import path from 'node:path';

import type { Backup, CreateBackupBody, Job, RestoreBody } from '../../contracts/backups';
import { parseCli, UsageError } from '../args';
import { backupsTable, formatBytes, progressLine } from '../output';
import type { CliBackup, CliBackupBody, CliJob, CliRestoreBody } from '../types';

// The CLI is compiled on its own and declares the shapes it reads; they must stay compatible
// with the contracts of the services (checked by the type checker of this test).
const _backup: CliBackup = {} as Backup;
const _job: CliJob = {} as Job;
const _body: CreateBackupBody = {} as CliBackupBody;
const _restore: RestoreBody = {} as CliRestoreBody;

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
    expect(parse('list --app ../app --json')).toEqual({ command: 'list', app: path.resolve(cwd, '../app'), json: true, compile: false });
    expect(parse('list')).toEqual({ command: 'list', app: cwd, json: false, compile: false });
    expect(parse('list --compile')).toMatchObject({ compile: true });
    expect(parse('list --app=/abs/app')).toMatchObject({ app: '/abs/app' });
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
