import path from 'node:path';

import { checkedBackend } from './checked';
import { FAULTS_ENV, faultyDriver, parseFaults } from './faulty';
import { createLocalDriver } from './local';
import { createS3Driver, s3Location, type S3Options } from './s3';
import type { Backend, BackendType } from './types';

export type { Backend, BackendDriver, BackendObject, BackendType } from './types';
export { checkedBackend } from './checked';
export { faultyDriver, parseFaults, type Fault } from './faulty';
export { createLocalDriver } from './local';
export { createS3Driver } from './s3';

/** Where a backend is and how to reach it (the `offsite` config, its folder resolved). */
export interface BackendOptions extends S3Options {
  backend: BackendType;
  /** The local backend's folder (absolute). */
  folder?: string;
  idleTimeoutSeconds: number;
}

export const backendLocation = (options: Pick<BackendOptions, 'backend' | 'folder' | 'endpoint' | 'bucket' | 'prefix'>) =>
  options.backend === 'local' ? path.resolve(options.folder ?? '') : s3Location(options);

/**
 * The checked backend for these options. Throws OFFSITE_FAILED when an S3 backend's credentials
 * are missing from the environment.
 */
export const createBackend = (options: BackendOptions, environment: NodeJS.ProcessEnv = process.env): Backend => {
  let driver = options.backend === 'local' ? createLocalDriver(options.folder ?? '') : createS3Driver(options, environment);
  const faults = parseFaults(environment[FAULTS_ENV]);
  if (faults.length) driver = faultyDriver(driver, faults);
  return checkedBackend(driver, { idleTimeoutMs: options.idleTimeoutSeconds * 1000 });
};
