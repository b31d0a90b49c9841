import backups from './backups';
import config from './config';
import exportsService from './exports';
import health from './health';
import imports from './imports';
import jobs from './jobs';
import lineage from './lineage';
import locks from './locks';
import logger from './logger';
import monitoring from './monitoring';
import notifications from './notifications';
import scheduler from './scheduler';
import scope from './scope';
import uploads from './uploads';

export default {
  backups,
  config,
  exports: exportsService,
  health,
  imports,
  jobs,
  lineage,
  locks,
  logger,
  monitoring,
  notifications,
  scheduler,
  scope,
  uploads,
};
