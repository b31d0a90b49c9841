import backups from './backups';
import health from './health';
import jobs from './jobs';

export default {
  backups,
  health,
  jobs,
};
