import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { errors } from '@strapi/utils';

import createUploadsService, { displayName, uploadPassthrough, UPLOAD_ROUTE } from '../uploads';

const HOUR = 3600 * 1000;

/** The service over a storage folder of its own, with the config service it reads. */
const setup = () => {
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-uploads-'));
  const config = { storageFolder: () => storage, get: () => ({ import: { maxUploadBytes: 1024 } }) };
  const strapi = {
    plugin: () => ({ service: (name: string) => (name === 'config' ? config : undefined) }),
    log: { warn: () => undefined },
  };
  const service = createUploadsService({ strapi } as never);
  const root = path.join(storage, '.imports', 'uploads');
  /** A complete upload made `ageMs` ago. */
  const complete = (id: string, ageMs: number) => {
    fs.mkdirSync(path.join(root, id), { recursive: true });
    fs.writeFileSync(path.join(root, id, 'upload'), 'PK');
    fs.writeFileSync(path.join(root, id, 'upload.json'), JSON.stringify({ uploadId: id, name: 'a.zip', size: 2, createdAt: new Date(Date.now() - ageMs).toISOString() }));
  };
  /** An upload whose file stopped growing `ageMs` ago, without its metadata (a crash). */
  const unfinished = (id: string, ageMs: number) => {
    fs.mkdirSync(path.join(root, id), { recursive: true });
    fs.writeFileSync(path.join(root, id, 'upload'), 'P');
    const then = new Date(Date.now() - ageMs);
    fs.utimesSync(path.join(root, id, 'upload'), then, then);
    fs.utimesSync(path.join(root, id), then, then);
  };
  return { storage, root, service, complete, unfinished, done: () => fs.rmSync(storage, { recursive: true, force: true }) };
};

const id = (n: number) => String(n).repeat(32).slice(0, 32);

describe('import uploads service', () => {
  it('resolves a complete upload, and answers NotFoundError for anything else, a path never', async () => {
    const t = setup();
    try {
      t.complete(id(1), 0);
      t.unfinished(id(2), 0);
      t.complete('a'.repeat(32), 0);
      await expect(t.service.resolve('a'.repeat(32))).resolves.toMatchObject({ name: 'a.zip' });
      await expect(t.service.resolve(id(1))).resolves.toEqual({ path: path.join(t.root, id(1), 'upload'), name: 'a.zip' });
      for (const bad of [id(2), id(3), '..', '../../etc', 'A'.repeat(32), `${id(1)}/../${id(1)}`]) {
        await expect(t.service.resolve(bad)).rejects.toBeInstanceOf(errors.NotFoundError);
      }
      await t.service.remove(id(1));
      expect(fs.existsSync(path.join(t.root, id(1)))).toBe(false);
      await expect(t.service.remove(id(1))).rejects.toBeInstanceOf(errors.NotFoundError);
    } finally {
      t.done();
    }
  });

  it('cleans up complete uploads after 24 h and unfinished ones after an hour without a write, keeping those asked', async () => {
    const t = setup();
    try {
      t.complete(id(1), 23 * HOUR);
      t.complete(id(2), 25 * HOUR);
      t.complete(id(3), 25 * HOUR);
      t.unfinished(id(4), 10 * 60 * 1000);
      t.unfinished(id(5), 2 * HOUR);
      expect((await t.service.cleanup({ keep: [id(3)] })).sort()).toEqual([id(2), id(5)]);
      expect(fs.readdirSync(t.root).sort()).toEqual([id(1), id(3), id(4)]);
      expect(await t.service.cleanup({ maxAgeMs: 0 })).toEqual(expect.arrayContaining([id(1), id(3), id(4)]));
      expect(fs.readdirSync(t.root)).toEqual([]);
      // No staging folder yet: nothing to do.
      fs.rmSync(t.root, { recursive: true });
      expect(await t.service.cleanup()).toEqual([]);
    } finally {
      t.done();
    }
  });

  it('shows the browser file name without folders or control characters', () => {
    expect(displayName('C:\\Users\\ana\\staging.pacta.zip')).toBe('staging.pacta.zip');
    expect(displayName('../../etc/passwd')).toBe('passwd');
    expect(displayName('a\u0000b\u001f.zip')).toBe('ab.zip');
    expect(displayName('')).toBe('upload');
    expect(displayName(null)).toBe('upload');
    expect(displayName('x'.repeat(300))).toHaveLength(255);
  });

  it('hides a multipart upload from the body parser on its route only', async () => {
    const ctx = (method: string, pathname: string, type: string) => ({ method, path: pathname, req: { headers: { 'content-type': type } } }) as never;
    const next = async () => undefined;
    const upload = ctx('POST', UPLOAD_ROUTE, 'multipart/form-data; boundary=x');
    await uploadPassthrough(upload, next);
    expect((upload as { req: { headers: Record<string, string> } }).req.headers['content-type']).toBe('application/x-pacta-backup-upload');
    for (const other of [ctx('POST', '/upload', 'multipart/form-data; boundary=x'), ctx('GET', UPLOAD_ROUTE, 'multipart/form-data; boundary=x'), ctx('POST', UPLOAD_ROUTE, 'application/json')]) {
      const before = (other as { req: { headers: Record<string, string> } }).req.headers['content-type'];
      await uploadPassthrough(other, next);
      expect((other as { req: { headers: Record<string, string> } }).req.headers['content-type']).toBe(before);
    }
  });
});
