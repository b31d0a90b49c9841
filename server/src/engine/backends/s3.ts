import fs from 'node:fs';
import type { Readable } from 'node:stream';

import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

import { EngineError } from '../errors';
import { assertObjectName, sourceFile, sourceRange, type BackendDriver, type BackendObject } from './types';

/**
 * An S3-compatible bucket (AWS S3, Ceph's RADOS Gateway, MinIO…): each object under
 * `<prefix><name>`, the SHA-256 of its bytes in the object's metadata. Uploads are multipart
 * (a completed upload is the object's atomic appearance); a failed or aborted one is aborted on
 * the server, so no parts are left billed. The ETag is never used as a digest (a multipart ETag
 * is none).
 */
export interface S3Options {
  endpoint?: string;
  region: string;
  bucket: string;
  prefix: string;
  forcePathStyle: boolean;
  accessKeyIdEnv: string;
  secretAccessKeyEnv: string;
}

/** Parts of a multipart upload: S3's minimum is 5 MiB; two in flight bound the memory. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

const SHA256_KEY = 'sha256';
/** How long a stopped upload may take to abort its multipart upload itself before it is cut. */
const ABORT_GRACE_MS = 15_000;

const isNotFound = (error: unknown) => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
};

/** What went wrong, in words an operator can act on; never the request's signature or keys. */
const describe = (error: unknown, location: string): EngineError => {
  if (error instanceof EngineError) return error;
  const e = error as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  // An S3 error answer the SDK does not model comes as message "UnknownError", its code as the name.
  const message = (e?.message && e.message !== 'UnknownError' ? e.message : (e?.name ?? String(error))).split('\n')[0].slice(0, 300);
  const reason = [e?.name !== message ? e?.name : null, status ? `HTTP ${status}` : null, e?.code].filter(Boolean).join(', ');
  const hint =
    status === 403 ? ': check the access key, its secret and its rights on the bucket' : status === 404 ? ': check the bucket name and the endpoint' : '';
  return new EngineError('OFFSITE_FAILED', `Off-site storage ${location}: ${message}${reason ? ` (${reason})` : ''}${hint}`);
};

export const s3Location = (options: Pick<S3Options, 'endpoint' | 'bucket' | 'prefix'>) =>
  `s3://${options.bucket}/${options.prefix}${options.endpoint ? ` at ${new URL(options.endpoint).origin}` : ''}`;

export const createS3Driver = (options: S3Options, environment: NodeJS.ProcessEnv = process.env): BackendDriver => {
  const location = s3Location(options);
  const accessKeyId = environment[options.accessKeyIdEnv];
  const secretAccessKey = environment[options.secretAccessKeyEnv];
  if (!accessKeyId || !secretAccessKey) {
    throw new EngineError(
      'OFFSITE_FAILED',
      `Off-site storage ${location}: no credentials in the ${options.accessKeyIdEnv} and ${options.secretAccessKeyEnv} environment variables`
    );
  }
  const client = new S3Client({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    credentials: { accessKeyId, secretAccessKey },
    // S3-compatible servers do not all know the SDK's newer default checksums; ours is the SHA-256.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
  const key = (name: string) => {
    assertObjectName(name);
    return `${options.prefix}${name}`;
  };
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw describe(error, location);
    }
  };
  const head = async (name: string): Promise<BackendObject | null> => {
    try {
      const answer = await client.send(new HeadObjectCommand({ Bucket: options.bucket, Key: key(name) }));
      return { name, size: answer.ContentLength ?? 0, modifiedAt: answer.LastModified ?? new Date(0), sha256: answer.Metadata?.[SHA256_KEY] ?? null };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  };

  return {
    type: 's3',
    location,

    write: (name, source, sha256, { signal, onProgress }) =>
      guard(async () => {
        const body = fs.createReadStream(sourceFile(source), sourceRange(source));
        const upload = new Upload({
          client,
          params: {
            Bucket: options.bucket,
            Key: key(name),
            Body: body,
            ContentType: typeof source === 'string' ? 'application/zip' : 'application/octet-stream',
            Metadata: { [SHA256_KEY]: sha256 },
          },
          partSize: PART_SIZE,
          queueSize: QUEUE_SIZE,
          // A failed multipart upload is aborted: no orphan parts billed in the bucket.
          leavePartsOnError: false,
        });
        upload.on('httpUploadProgress', (progress) => onProgress(progress.loaded ?? 0));
        const done = upload.done();
        /**
         * Stopped: the source ends in an error, so the upload fails its next part and aborts the
         * multipart upload on the server before done() settles (upload.abort() would settle at
         * once and leave that abort racing the client's close). A server that hangs a request
         * gets the hard abort, and our own AbortMultipartUpload, after ABORT_GRACE_MS.
         */
        const stopped = new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          signal.addEventListener('abort', () => resolve(), { once: true });
        }).then(async () => {
          body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
          const settled = await Promise.race([done.then(() => true, () => true), new Promise<false>((r) => setTimeout(() => r(false), ABORT_GRACE_MS).unref())]);
          if (!settled) {
            await upload.abort().catch(() => undefined);
            const uploadId = (upload as unknown as { uploadId?: string }).uploadId;
            if (uploadId) {
              await client.send(new AbortMultipartUploadCommand({ Bucket: options.bucket, Key: key(name), UploadId: uploadId })).catch(() => undefined);
            }
          }
        });
        try {
          await Promise.race([done, stopped.then(() => done)]);
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          throw error;
        }
        // Completed although stopped (its last part was already sent): a whole object, but not in time.
        signal.throwIfAborted();
      }),

    read: (name, signal) =>
      guard(async () => {
        try {
          const answer = await client.send(new GetObjectCommand({ Bucket: options.bucket, Key: key(name) }), { abortSignal: signal });
          return { body: answer.Body as Readable, size: answer.ContentLength ?? 0, sha256: answer.Metadata?.[SHA256_KEY] ?? null };
        } catch (error) {
          if (isNotFound(error)) return null;
          throw error;
        }
      }),

    list: () =>
      guard(async () => {
        const objects: BackendObject[] = [];
        let token: string | undefined;
        do {
          const page: ListObjectsV2CommandOutput = await client.send(
            new ListObjectsV2Command({ Bucket: options.bucket, Prefix: options.prefix, ContinuationToken: token })
          );
          for (const object of page.Contents ?? []) {
            const name = object.Key!.slice(options.prefix.length);
            if (name.includes('/')) continue;
            objects.push({ name, size: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0), sha256: null });
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
        return objects;
      }),

    stat: (name) => guard(() => head(name)),

    delete: (name) =>
      guard(async () => {
        await client.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: key(name) }));
      }),

    close: () => client.destroy(),
  };
};
