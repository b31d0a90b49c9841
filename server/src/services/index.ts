import backups from './backups';
import config from './config';
import health from './health';
import jobs from './jobs';
import scope from './scope';

export default {
  backups,
  config,
  health,
  jobs,
  scope,
};
