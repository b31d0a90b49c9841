import backups from './backups';
import config from './config';
import health from './health';
import imports from './imports';
import jobs from './jobs';
import lineage from './lineage';
import locks from './locks';
import logger from './logger';
import monitoring from './monitoring';
import scheduler from './scheduler';
import scope from './scope';

export default {
  backups,
  config,
  health,
  imports,
  jobs,
  lineage,
  locks,
  logger,
  monitoring,
  scheduler,
  scope,
};
