import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

const SCRIPT = path.resolve(__dirname, '..', 's3', 'rgw.sh');
const run = promisify(execFile);

/** The fixed test user of tests/s3/rgw.sh (loopback only, no secret). */
export const RGW_ACCESS_KEY = 'PACTATESTACCESSKEY01';
export const RGW_SECRET_KEY = 'pacta-test-secret-key-not-a-secret-000';

export interface Rgw {
  endpoint: string;
  client: S3Client;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real S3 server for a test file: Ceph's RADOS Gateway on a one-node cluster on loopback
 * (tests/s3/rgw.sh; Debian's ceph-mon, ceph-osd, radosgw and ceph-common, which .ci/run installs).
 * About 15 s to start; call in beforeAll, stop in afterAll.
 */
export const startRgw = async (): Promise<Rgw> => {
  for (const tool of ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool']) {
    if (!fs.existsSync(`/usr/bin/${tool}`)) {
      throw new Error(`${tool} is missing: apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw ceph-common (as .ci/run does)`);
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-rgw-'));
  const port = String(7480 + (process.pid % 400));
  const env = { ...process.env, PACTA_RGW_PORT: port, PACTA_RGW_MON_PORT: String(Number(port) + 1000) };
  try {
    await run('bash', [SCRIPT, 'start', dir], { env, timeout: 120_000 });
  } catch (error) {
    const logs = fs.existsSync(path.join(dir, 'log')) ? fs.readdirSync(path.join(dir, 'log')) : [];
    await run('bash', [SCRIPT, 'stop', dir], { env }).catch(() => undefined);
    throw new Error(`Ceph RGW did not start (${(error as Error).message.split('\n')[0]}); logs were ${logs.join(', ')}`);
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: RGW_ACCESS_KEY, secretAccessKey: RGW_SECRET_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async stop() {
      client.destroy();
      await run('bash', [SCRIPT, 'stop', dir], { env });
    },
  };
};
