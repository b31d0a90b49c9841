import { createHash } from "node:crypto";
import fs from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type ListObjectsV2CommandOutput,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

import { EngineError } from "./errors";
import type { StoredFile } from "./storage";

/**
 * The off-site copy of the backups: an S3-compatible bucket (AWS S3, Ceph's RADOS Gateway,
 * MinIO…) that holds a copy of each archive under `<prefix><id>.pacta.zip`, with the SHA-256 of
 * its bytes in the object's metadata. That digest is ours, computed from the local file before
 * the upload and checked on every download; the ETag is not (multipart ETags are no digest of
 * the content). The same archive as on the local disk: a copy fetched back is listed, verified
 * and restored like any other.
 */
export interface OffsiteOptions {
  endpoint?: string;
  region: string;
  bucket: string;
  prefix: string;
  forcePathStyle: boolean;
  accessKeyIdEnv: string;
  secretAccessKeyEnv: string;
}

export interface OffsiteObject extends StoredFile {
  sha256: string | null;
}

export interface OffsiteTarget {
  /** `s3://bucket/prefix` (and the endpoint when not AWS): never a credential. */
  readonly location: string;
  /** Uploads `file` as `name`; `onProgress` gets the bytes sent so far and the file's size. */
  put(
    name: string,
    file: string,
    sha256: string,
    onProgress?: (sent: number, total: number) => void,
  ): Promise<void>;
  /** Downloads `name` into `file`, checking its SHA-256; a bad or missing copy leaves no file. */
  fetch(name: string, file: string): Promise<{ size: number; sha256: string }>;
  list(): Promise<OffsiteObject[]>;
  stat(name: string): Promise<OffsiteObject | null>;
  delete(name: string): Promise<void>;
  /** Closes the client's connections (the target is made for a task and closed after it). */
  close(): void;
}

/** Parts of a multipart upload: S3's minimum is 5 MiB; two in flight bound the memory. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

const SHA256_KEY = "sha256";

const isNotFound = (error: unknown) => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    e?.name === "NotFound" ||
    e?.name === "NoSuchKey" ||
    e?.$metadata?.httpStatusCode === 404
  );
};

/** What went wrong, in words an operator can act on; never the request's signature or keys. */
const describe = (error: unknown, location: string): EngineError => {
  if (error instanceof EngineError) return error;
  const e = error as {
    name?: string;
    message?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const status = e?.$metadata?.httpStatusCode;
  // An S3 error answer the SDK does not model comes as message "UnknownError", its code as the name.
  const message = (
    e?.message && e.message !== "UnknownError"
      ? e.message
      : (e?.name ?? String(error))
  )
    .split("\n")[0]
    .slice(0, 300);
  const reason = [
    e?.name !== message ? e?.name : null,
    status ? `HTTP ${status}` : null,
    e?.code,
  ]
    .filter(Boolean)
    .join(", ");
  const hint =
    status === 403
      ? ": check the access key, its secret and its rights on the bucket"
      : status === 404
        ? ": check the bucket name and the endpoint"
        : "";
  return new EngineError(
    "OFFSITE_FAILED",
    `Off-site storage ${location}: ${message}${reason ? ` (${reason})` : ""}${hint}`,
  );
};

export const offsiteLocation = (
  options: Pick<OffsiteOptions, "endpoint" | "bucket" | "prefix">,
) =>
  `s3://${options.bucket}/${options.prefix}${options.endpoint ? ` at ${new URL(options.endpoint).origin}` : ""}`;

export const createOffsiteTarget = (
  options: OffsiteOptions,
  environment: NodeJS.ProcessEnv = process.env,
): OffsiteTarget => {
  const location = offsiteLocation(options);
  const accessKeyId = environment[options.accessKeyIdEnv];
  const secretAccessKey = environment[options.secretAccessKeyEnv];
  if (!accessKeyId || !secretAccessKey) {
    throw new EngineError(
      "OFFSITE_FAILED",
      `Off-site storage ${location}: no credentials in the ${options.accessKeyIdEnv} and ${options.secretAccessKeyEnv} environment variables`,
    );
  }
  const client = new S3Client({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    credentials: { accessKeyId, secretAccessKey },
    // S3-compatible servers do not all know the SDK's newer default checksums; ours is the SHA-256.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 3,
  });
  const key = (name: string) => {
    if (!/^[0-9A-Za-z][0-9A-Za-z._-]*$/.test(name) || name.includes(".."))
      throw new Error(`Invalid stored file name ${JSON.stringify(name)}`);
    return `${options.prefix}${name}`;
  };
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw describe(error, location);
    }
  };

  const target: OffsiteTarget = {
    location,

    put: (name, file, sha256, onProgress) =>
      guard(async () => {
        const size = (await fs.promises.stat(file)).size;
        const upload = new Upload({
          client,
          params: {
            Bucket: options.bucket,
            Key: key(name),
            Body: fs.createReadStream(file),
            ContentType: "application/zip",
            Metadata: { [SHA256_KEY]: sha256 },
          },
          partSize: PART_SIZE,
          queueSize: QUEUE_SIZE,
          // A failed multipart upload is aborted: no orphan parts billed in the bucket.
          leavePartsOnError: false,
        });
        if (onProgress)
          upload.on("httpUploadProgress", (progress) =>
            onProgress(progress.loaded ?? 0, size),
          );
        await upload.done();
        const stored = await target.stat(name);
        if (!stored || stored.size !== size || stored.sha256 !== sha256) {
          throw new EngineError(
            "OFFSITE_FAILED",
            `Off-site storage ${location}: the copy of ${name} does not match what was sent`,
          );
        }
      }),

    fetch: (name, file) =>
      guard(async () => {
        const response = await client
          .send(
            new GetObjectCommand({ Bucket: options.bucket, Key: key(name) }),
          )
          .catch((error: unknown) => {
            if (isNotFound(error))
              throw new EngineError(
                "NOT_FOUND",
                `Off-site storage ${location} has no ${name}`,
              );
            throw error;
          });
        const expected = response.Metadata?.[SHA256_KEY] ?? null;
        const hash = createHash("sha256");
        let size = 0;
        try {
          await pipeline(
            response.Body as Readable,
            async function* (source: AsyncIterable<Buffer>) {
              for await (const chunk of source) {
                hash.update(chunk);
                size += chunk.length;
                yield chunk;
              }
            },
            fs.createWriteStream(file, { mode: 0o600 }),
          );
          const sha256 = hash.digest("hex");
          if (!expected || sha256 !== expected) {
            throw new EngineError(
              "CHECKSUM",
              `The off-site copy of ${name} is damaged: its SHA-256 does not match the one recorded when it was copied`,
            );
          }
          return { size, sha256 };
        } catch (error) {
          await fs.promises.rm(file, { force: true });
          throw error;
        }
      }),

    list: () =>
      guard(async () => {
        const objects: OffsiteObject[] = [];
        let token: string | undefined;
        do {
          const page: ListObjectsV2CommandOutput = await client.send(
            new ListObjectsV2Command({
              Bucket: options.bucket,
              Prefix: options.prefix,
              ContinuationToken: token,
            }),
          );
          for (const object of page.Contents ?? []) {
            const name = object.Key!.slice(options.prefix.length);
            if (name.includes("/")) continue;
            objects.push({
              name,
              size: object.Size ?? 0,
              modifiedAt: object.LastModified ?? new Date(0),
              sha256: null,
            });
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
        return objects;
      }),

    stat: (name) =>
      guard(async () => {
        try {
          const head = await client.send(
            new HeadObjectCommand({ Bucket: options.bucket, Key: key(name) }),
          );
          return {
            name,
            size: head.ContentLength ?? 0,
            modifiedAt: head.LastModified ?? new Date(0),
            sha256: head.Metadata?.[SHA256_KEY] ?? null,
          };
        } catch (error) {
          if (isNotFound(error)) return null;
          throw error;
        }
      }),

    delete: (name) =>
      guard(async () => {
        await client.send(
          new DeleteObjectCommand({ Bucket: options.bucket, Key: key(name) }),
        );
      }),

    close: () => client.destroy(),
  };
  return target;
};
