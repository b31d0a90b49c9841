import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { loginAsSuperAdmin } from '../helpers/agent';
import { databaseClient, startApp, type DatabaseClient } from '../helpers/app';
import { dumpDatabase, hashUploads } from '../helpers/dump';
import { runJob } from '../helpers/jobs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

/** Each database run restores a backup taken on another engine: SQLite → PostgreSQL, PostgreSQL → MariaDB, PostgreSQL → SQLite. */
const SOURCE: Record<DatabaseClient, DatabaseClient> = { postgres: 'sqlite', mysql: 'postgres', sqlite: 'postgres' };

/** Values of a JSON field that are not objects: a boolean, a number, an array. */
const JSON_VALUES = [true, 42, ['a', 1]];
const jsonDocuments: Array<{ documentId: string; metadata: unknown }> = [];

/** The same key on both sides: admin users and the config store come back from sealed archives only. */
const KEY = 'cross engine passphrase';

describe(`a ${SOURCE[databaseClient]} backup restores into ${databaseClient}`, () => {
  const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-cross-'));

  afterAll(() => fs.rmSync(storageDir, { recursive: true, force: true }));

  it('holds every table of the app and brings every table and media file back exactly', async () => {
    const source = await startApp({ client: SOURCE[databaseClient], storageDir, env: { PACTA_BACKUP_KEY: KEY } });
    let expected: Awaited<ReturnType<typeof dumpDatabase>>;
    let uploads: Record<string, string>;
    let backupId: string;
    try {
      await seed(source.strapi, { documents: 25, media: 5, seed: 21 });
      // JSON fields hold any JSON value, not only objects: a bare string, a boolean, a number.
      const contracts = source.strapi.documents('api::contract.contract');
      const picked = await contracts.findMany({ locale: 'en', limit: JSON_VALUES.length, sort: 'id:asc' } as never);
      for (const [index, value] of JSON_VALUES.entries()) {
        await contracts.update({ documentId: picked[index].documentId, locale: 'en', data: { metadata: value } as never });
        // What this engine gives back is the truth a restore must keep (SQLite hands a JSON true back as 1).
        const stored = await contracts.findOne({ documentId: picked[index].documentId, locale: 'en' } as never);
        jsonDocuments.push({ documentId: picked[index].documentId, metadata: (stored as { metadata?: unknown } | null)?.metadata });
      }
      const admin = await loginAsSuperAdmin(source.strapi);
      const job = await runJob(admin, '/pacta-backup/backups', { compression: 'best', adminUsers: true, config: true });
      expect(job.status).toBe('succeeded');
      backupId = job.backupId!;
      const details = await admin.get(`/pacta-backup/backups/${backupId}`);
      const tables: string[] = details.body.data.manifest.tables.map((t: { name: string }) => t.name);
      // Every table of the app's data is in a full backup: the dump's list comes from the
      // database itself (all tables but migrations, sessions and the plugin's own).
      expected = await dumpDatabase(source.strapi);
      expect(Object.keys(expected).filter((table) => !tables.includes(table))).toEqual([]);
      uploads = hashUploads(source.publicDir);
    } finally {
      await source.stop();
    }

    const target = await startApp({ storageDir, env: { PACTA_BACKUP_KEY: KEY } });
    try {
      const admin = await loginAsSuperAdmin(target.strapi);
      const listed = await admin.get('/pacta-backup/backups');
      expect(listed.body.data.map((b: { id: string; database: string }) => [b.id, b.database])).toEqual([[backupId, SOURCE[databaseClient]]]);
      const started = await admin.post(`/pacta-backup/backups/${backupId}/restore`, { confirm: true, adminUsers: true, config: true });
      expect(started.status).toBe(202);
      // Admin sessions end with the restore of admin users: follow the job from the server side.
      const restore = await target.strapi.plugin('pacta-backup').service('jobs').wait(started.body.data.id, { timeoutMs: 170_000 });
      expect(restore.error).toBeNull();
      expect(await dumpDatabase(target.strapi)).toEqual(expected);
      // Both ways: no file missing, none left over.
      expect(hashUploads(target.publicDir)).toEqual(uploads);
      // The app works on the restored data: the document service reads a contract with its relations.
      const [contract] = await target.strapi.documents('api::contract.contract').findMany({ locale: 'es', populate: ['clauses', 'supplier', 'tags'] as never });
      expect(contract).toMatchObject({ locale: 'es', clauses: expect.any(Array) });
      // …and the JSON values as the source app gave them back.
      const documents = target.strapi.documents('api::contract.contract');
      for (const { documentId, metadata } of jsonDocuments) {
        const restored = await documents.findOne({ documentId, locale: 'en' } as never);
        expect({ documentId, metadata: (restored as { metadata?: unknown } | null)?.metadata }).toEqual({ documentId, metadata });
      }
    } finally {
      await target.stop();
    }
  });
});
