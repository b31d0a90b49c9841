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

describe(`a ${SOURCE[databaseClient]} backup restores into ${databaseClient}`, () => {
  const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-cross-'));

  afterAll(() => fs.rmSync(storageDir, { recursive: true, force: true }));

  it('brings every table and media file back exactly', async () => {
    const source = await startApp({ client: SOURCE[databaseClient], storageDir });
    let tables: string[];
    let expected: Awaited<ReturnType<typeof dumpDatabase>>;
    let uploads: Record<string, string>;
    let backupId: string;
    try {
      await seed(source.strapi, { documents: 25, media: 5, seed: 21 });
      const admin = await loginAsSuperAdmin(source.strapi);
      const job = await runJob(admin, '/pacta-backup/backups', { compression: 'best' });
      expect(job.status).toBe('succeeded');
      backupId = job.backupId!;
      const details = await admin.get(`/pacta-backup/backups/${backupId}`);
      tables = details.body.data.manifest.tables.map((t: { name: string }) => t.name);
      expected = await dumpDatabase(source.strapi, { only: tables });
      uploads = hashUploads(source.publicDir);
    } finally {
      await source.stop();
    }

    const target = await startApp({ storageDir });
    try {
      const admin = await loginAsSuperAdmin(target.strapi);
      const listed = await admin.get('/pacta-backup/backups');
      expect(listed.body.data.map((b: { id: string; database: string }) => [b.id, b.database])).toEqual([[backupId, SOURCE[databaseClient]]]);
      const restore = await runJob(admin, `/pacta-backup/backups/${backupId}/restore`, { confirm: true });
      expect(restore.error).toBeNull();
      expect(await dumpDatabase(target.strapi, { only: tables })).toEqual(expected);
      expect(hashUploads(target.publicDir)).toEqual(expect.objectContaining(uploads));
      // The app works on the restored data: the document service reads a contract with its relations.
      const [contract] = await target.strapi.documents('api::contract.contract').findMany({ locale: 'es', populate: ['clauses', 'supplier', 'tags'] as never });
      expect(contract).toMatchObject({ locale: 'es', clauses: expect.any(Array) });
    } finally {
      await target.stop();
    }
  });
});
