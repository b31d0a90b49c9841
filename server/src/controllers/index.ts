import backups from './backups';
import health from './health';
import imports from './imports';
import jobs from './jobs';
import monitoring from './monitoring';

export default {
  backups,
  health,
  imports,
  jobs,
  monitoring,
};
