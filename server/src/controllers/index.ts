import backups from './backups';
import health from './health';
import jobs from './jobs';
import monitoring from './monitoring';

export default {
  backups,
  health,
  jobs,
  monitoring,
};
