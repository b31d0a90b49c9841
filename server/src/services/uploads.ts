import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';

import type { Core } from '@strapi/strapi';
import { errors } from '@strapi/utils';

import { PLUGIN_ID } from '../constants';
import type { ImportUpload } from '../contracts/imports';
import { getService } from '../utils';

/**
 * Import uploads: an archive (or a JSON export) sent to POST /imports/uploads as
 * multipart/form-data, field `file`, streamed to `<storage>/.imports/uploads/<uploadId>/`
 * (mode 0700) and never held in memory. The cap (`import.maxUploadBytes`) is enforced while
 * the bytes arrive: past it the upload stops, its file is deleted and the answer is 413. An
 * upload the client breaks off leaves nothing behind.
 *
 * Strapi's global `strapi::body` middleware (koa-body → formidable) would parse a multipart
 * body itself, before routing and so before the admin's login and permission are checked, into
 * the system's temporary folder under its own size limit (formidable's 200 MB unless the host
 * app configures another). `uploadPassthrough`, installed ahead of the app's middlewares
 * (register), hides the multipart type of this one route from it; the controller then parses
 * the raw request here, after the route's policies, with our folder and our limit.
 */

/** The upload route as the admin router serves it. */
export const UPLOAD_ROUTE = `/${PLUGIN_ID}/imports/uploads`;

/** Where the passthrough keeps the request's own Content-Type. */
const ORIGINAL_TYPE = Symbol.for('pacta-backup.upload.content-type');
/** What koa-body sees instead: a type it does not parse, so it leaves the stream unread. */
const PASSTHROUGH_TYPE = 'application/x-pacta-backup-upload';

type RequestWithType = IncomingMessage & { [ORIGINAL_TYPE]?: string };

/**
 * Koa middleware for `strapi.server.use` in register (it then runs before `strapi::body`):
 * a multipart POST to the upload route reaches the controller unparsed.
 */
export const uploadPassthrough = async (ctx: { method: string; path: string; req: IncomingMessage }, next: () => Promise<unknown>) => {
  const type = ctx.req.headers['content-type'];
  if (ctx.method === 'POST' && ctx.path.replace(/\/+$/, '') === UPLOAD_ROUTE && typeof type === 'string' && /^multipart\//i.test(type.trim())) {
    (ctx.req as RequestWithType)[ORIGINAL_TYPE] = type;
    ctx.req.headers['content-type'] = PASSTHROUGH_TYPE;
  }
  return next();
};

/** An upload id: 128 random bits in hex, made here, never a name or path from the client. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;
const DATA_FILE = 'upload';
const META_FILE = 'upload.json';
/** Multipart framing around the file (boundaries, part headers): allowed over the cap in Content-Length. */
const MULTIPART_OVERHEAD = 64 * 1024;
/** Complete uploads are kept this long (a preview and its apply read the file). */
export const UPLOAD_TTL_MS = 24 * 3600 * 1000;
/** An unfinished upload whose file has not grown for this long belongs to a process that is gone. */
const STALLED_MS = 3600 * 1000;

/** The part of formidable (v2, what koa-body uses) this service drives. */
interface FormidablePart {
  name: string | null;
  originalFilename: string | null;
  mimetype: string | null;
}
interface FormidableFile {
  filepath: string;
  originalFilename: string | null;
  size: number;
}
interface FormidableForm {
  onPart(part: FormidablePart): void;
  _handlePart(part: FormidablePart): void;
  _error(error: Error): void;
  parse(req: IncomingMessage, callback: (error: (Error & { httpCode?: number; code?: number }) | null, fields: unknown, files: Record<string, FormidableFile | FormidableFile[]>) => void): void;
}
type Formidable = (options: Record<string, unknown>) => FormidableForm;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const formidable = (): Formidable => require('formidable') as Formidable;
/** formidable's code for "options.maxFileSize exceeded". */
const FORMIDABLE_TOO_BIG = 1009;

/** A file name fit to show: no folders, no control characters, at most 255 characters. */
export const displayName = (raw: string | null | undefined): string => {
  const base = String(raw ?? '')
    .split(/[/\\]/)
    .pop()!
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();
  return (base || 'upload').slice(0, 255);
};

const tooLarge = (limit: number) =>
  new errors.PayloadTooLargeError(
    `The file is larger than the import upload limit of ${limit} bytes (${formatLimit(limit)}): nothing was kept. The limit is the plugin setting import.maxUploadBytes.`,
    { limit }
  );

const formatLimit = (bytes: number) => {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
};

const badRequest = (message: string) => new errors.ValidationError(message, { errors: [{ path: ['file'], message, name: 'ValidationError' }] });

/** What a refused upload may still send before its connection is cut. */
const DRAIN_MAX = 32 * 1024 * 1024;

/**
 * After a refusal: the rest of the body is read and dropped (a client that is still sending
 * then reads the 413 instead of a broken pipe), up to DRAIN_MAX more bytes; past that the
 * connection is cut, so a 5 GB upload is not received in vain.
 */
const discardRest = (req: IncomingMessage) => {
  if (req.complete) return;
  let drained = 0;
  const onData = (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_MAX) {
      req.off('data', onData);
      req.socket?.destroy();
    }
  };
  req.on('data', onData);
  req.resume();
};

/** The minimal Koa context receive() needs: the raw request (and what koa-body made of it, if it ran). */
export interface UploadContext {
  req: IncomingMessage;
  request: { files?: unknown };
}

const createUploadsService = ({ strapi }: { strapi: Core.Strapi }) => {
  /** Uploads this process is receiving: never cleaned up under its feet. */
  const receiving = new Set<string>();

  const root = () => path.join(getService('config', { strapi }).storageFolder(), '.imports', 'uploads');
  const limit = () => getService('config', { strapi }).get().import.maxUploadBytes;

  const ensureRoot = async () => {
    const dir = root();
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is masked by the umask and skipped for existing folders.
    await fs.promises.chmod(path.dirname(dir), 0o700).catch(() => undefined);
    await fs.promises.chmod(dir, 0o700);
    return dir;
  };

  const readMeta = async (uploadId: string): Promise<ImportUpload | null> => {
    if (!UPLOAD_ID.test(uploadId)) return null;
    try {
      const meta = JSON.parse(await fs.promises.readFile(path.join(root(), uploadId, META_FILE), 'utf8')) as ImportUpload;
      return meta.uploadId === uploadId ? meta : null;
    } catch {
      return null;
    }
  };

  const notFound = (uploadId: string) => new errors.NotFoundError(`No import upload ${UPLOAD_ID.test(uploadId) ? uploadId : '(not an upload id)'}: upload the file again`);

  /** Streams the multipart body into `dir`/upload; resolves with the file, or null when the body had none. */
  const parseInto = (req: IncomingMessage, dir: string, max: number): Promise<FormidableFile | null> =>
    new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | null, file?: FormidableFile | null) => {
        if (settled) return;
        settled = true;
        req.off('close', onClose);
        if (error) reject(error);
        else resolve(file ?? null);
      };
      const form = formidable()({
        uploadDir: dir,
        filename: () => DATA_FILE,
        maxFileSize: max,
        maxFields: 20,
        maxFieldsSize: 64 * 1024,
        allowEmptyFiles: true,
        minFileSize: 0,
        multiples: false,
        enabledPlugins: ['multipart'],
      });
      let files = 0;
      form.onPart = (part) => {
        // A plain field (no file name, no type): formidable reads it under the small caps above.
        if (!part.originalFilename && !part.mimetype) {
          form._handlePart(part);
          return;
        }
        if (part.name !== 'file') {
          form._error(badRequest(`Unexpected file field "${String(part.name).slice(0, 100)}": send the archive in the field "file"`));
          return;
        }
        files += 1;
        if (files > 1) {
          form._error(badRequest('Send one file per upload (the field "file" came twice)'));
          return;
        }
        form._handlePart(part);
      };
      // A client that goes away mid-upload: formidable hears 'aborted' on most Node versions;
      // 'close' before the body ended covers the rest.
      const onClose = () => {
        if (!req.complete) finish(new UploadAborted());
      };
      req.on('close', onClose);
      form.parse(req, (error, _fields, parsed) => {
        if (error) {
          if (error.code === FORMIDABLE_TOO_BIG) finish(tooLarge(max));
          else if (error instanceof errors.ApplicationError) finish(error);
          else if (/aborted/i.test(error.message) || !req.complete) finish(new UploadAborted());
          else finish(badRequest(`Not a readable multipart/form-data upload: ${error.message}`));
          return;
        }
        const file = parsed.file;
        finish(null, Array.isArray(file) ? file[0] : (file ?? null));
      });
    });

  const service = {
    /** The cap of one upload, in bytes (config `import.maxUploadBytes`). */
    maxBytes: limit,

    /**
     * Receives the upload of a request (the upload route's controller): the multipart body is
     * streamed to a new staging folder; anything but one complete file within the cap is
     * refused and leaves nothing behind.
     */
    async receive(ctx: UploadContext): Promise<ImportUpload> {
      const max = limit();
      const req = ctx.req as RequestWithType;
      const parsedByBody = (ctx.request.files as { file?: unknown } | undefined)?.file;
      if (parsedByBody) return service.adopt(parsedByBody, max);

      const type = req[ORIGINAL_TYPE] ?? req.headers['content-type'];
      if (typeof type !== 'string' || !/^multipart\/form-data/i.test(type.trim())) {
        throw badRequest('Send the archive as multipart/form-data, in the field "file"');
      }
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > max + MULTIPART_OVERHEAD) {
        // Refused before a byte is stored.
        discardRest(req);
        throw tooLarge(max);
      }
      // formidable reads the type from the headers.
      req.headers['content-type'] = type;

      await service.cleanup().catch((error) => strapi.log.warn(`[${PLUGIN_ID}] import uploads cleanup: ${(error as Error).message}`));
      const uploadId = randomBytes(16).toString('hex');
      const dir = path.join(await ensureRoot(), uploadId);
      await fs.promises.mkdir(dir, { mode: 0o700 });
      receiving.add(uploadId);
      try {
        const file = await parseInto(req, dir, max);
        if (!file) throw badRequest('No file in the upload: send the archive in the field "file"');
        const { size } = await fs.promises.stat(path.join(dir, DATA_FILE));
        if (size === 0) throw badRequest('The uploaded file is empty');
        const upload: ImportUpload = { uploadId, name: displayName(file.originalFilename), size, createdAt: new Date().toISOString() };
        // The metadata marks the upload complete: written last, atomically.
        const temp = path.join(dir, `${META_FILE}.tmp`);
        await fs.promises.writeFile(temp, JSON.stringify(upload), { mode: 0o600 });
        await fs.promises.rename(temp, path.join(dir, META_FILE));
        return upload;
      } catch (error) {
        await fs.promises.rm(dir, { recursive: true, force: true });
        if (error instanceof errors.PayloadTooLargeError) discardRest(req);
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
          throw new errors.ApplicationError('No space left in the storage folder for this upload: nothing was kept');
        }
        throw error;
      } finally {
        receiving.delete(uploadId);
      }
    },

    /**
     * A file the host's body parser already wrote to its temporary folder (when the passthrough
     * is not installed): moved into the staging folder under the same rules.
     */
    async adopt(parsed: unknown, max: number): Promise<ImportUpload> {
      const file = (Array.isArray(parsed) ? parsed[0] : parsed) as { filepath?: string; originalFilename?: string | null; size?: number };
      if (Array.isArray(parsed) && parsed.length > 1) throw badRequest('Send one file per upload (the field "file" came twice)');
      if (!file?.filepath) throw badRequest('No file in the upload: send the archive in the field "file"');
      const { size } = await fs.promises.stat(file.filepath);
      if (size > max) throw tooLarge(max);
      if (size === 0) throw badRequest('The uploaded file is empty');
      const uploadId = randomBytes(16).toString('hex');
      const dir = path.join(await ensureRoot(), uploadId);
      await fs.promises.mkdir(dir, { mode: 0o700 });
      try {
        await fs.promises.copyFile(file.filepath, path.join(dir, DATA_FILE));
        const upload: ImportUpload = { uploadId, name: displayName(file.originalFilename), size, createdAt: new Date().toISOString() };
        await fs.promises.writeFile(path.join(dir, META_FILE), JSON.stringify(upload), { mode: 0o600 });
        return upload;
      } catch (error) {
        await fs.promises.rm(dir, { recursive: true, force: true });
        throw error;
      }
    },

    /** The upload's metadata (NotFoundError when unknown). */
    async get(uploadId: string): Promise<ImportUpload> {
      const meta = await readMeta(uploadId);
      if (!meta) throw notFound(uploadId);
      return meta;
    },

    /** Where a complete upload's file is, and the name the client gave it (NotFoundError when unknown). */
    async resolve(uploadId: string): Promise<{ path: string; name: string }> {
      const meta = await service.get(uploadId);
      const file = path.join(root(), uploadId, DATA_FILE);
      if (!(await fs.promises.stat(file).catch(() => null))?.isFile()) throw notFound(uploadId);
      return { path: file, name: meta.name };
    },

    /** Deletes an upload (NotFoundError when unknown). */
    async remove(uploadId: string): Promise<{ uploadId: string }> {
      await service.get(uploadId);
      await fs.promises.rm(path.join(root(), uploadId), { recursive: true, force: true });
      return { uploadId };
    },

    /**
     * Removes complete uploads older than `maxAgeMs` (24 h) and unfinished ones nobody has
     * written to for an hour (a process that died mid-upload). Called at bootstrap and before
     * each new upload. Returns the ids removed.
     */
    async cleanup({ maxAgeMs = UPLOAD_TTL_MS, now = Date.now() }: { maxAgeMs?: number; now?: number } = {}): Promise<string[]> {
      const dir = root();
      const names = await fs.promises.readdir(dir).catch(() => [] as string[]);
      const removed: string[] = [];
      for (const name of names) {
        const folder = path.join(dir, name);
        if (receiving.has(name)) continue;
        const meta = await readMeta(name);
        let stale: boolean;
        if (meta) {
          stale = now - Date.parse(meta.createdAt) > maxAgeMs;
        } else {
          // Unfinished (or not ours): judged by when anything in it last changed.
          const times = [folder, path.join(folder, DATA_FILE), path.join(folder, `${META_FILE}.tmp`)].map(
            async (file) => (await fs.promises.stat(file).catch(() => null))?.mtimeMs ?? 0
          );
          stale = now - Math.max(...(await Promise.all(times))) > Math.min(STALLED_MS, maxAgeMs);
        }
        if (!stale) continue;
        await fs.promises.rm(folder, { recursive: true, force: true });
        removed.push(name);
      }
      return removed;
    },
  };
  return service;
};

/** The client went away before the upload ended: nothing is kept, and there is nobody to answer. */
export class UploadAborted extends errors.ApplicationError {
  constructor() {
    super('The upload was interrupted before the end of the file: nothing was kept');
  }
}

export default createUploadsService;
