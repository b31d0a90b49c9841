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
  /**
   * One cluster on loopback; a second try on other ports when the first does not come up (a
   * port still held by an earlier run's daemon, seen once in many runs).
   */
  const attempt = async (port: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-rgw-'));
    const env = { ...process.env, PACTA_RGW_PORT: port, PACTA_RGW_MON_PORT: String(Number(port) + 1000) };
    try {
      await run('bash', [SCRIPT, 'start', dir], { env, timeout: 120_000 });
      return { dir, env };
    } catch (error) {
      const logs = fs.existsSync(path.join(dir, 'log')) ? fs.readdirSync(path.join(dir, 'log')) : [];
      // The last lines of each log, before stop removes them: why it did not come up.
      for (const log of logs) {
        const lines = fs.readFileSync(path.join(dir, 'log', log), 'utf8').trim().split('\n').slice(-4).join('\n');
        process.stderr.write(`--- ${log}\n${lines}\n`);
      }
      await run('bash', [SCRIPT, 'stop', dir], { env }).catch(() => undefined);
      const output = `${(error as { stderr?: string }).stderr ?? ''}`.trim().split('\n').slice(-5).join(' | ');
      throw new Error(`Ceph RGW did not start on port ${port} (${(error as Error).message.split('\n')[0]}${output ? `: ${output}` : ''}); logs were ${logs.join(', ')}`);
    }
  };
  let port = String(7480 + (process.pid % 400));
  let started: { dir: string; env: NodeJS.ProcessEnv };
  try {
    started = await attempt(port);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}; trying other ports\n`);
    port = String(7480 + ((process.pid + 199) % 400));
    started = await attempt(port);
  }
  const { dir, env } = started;
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
