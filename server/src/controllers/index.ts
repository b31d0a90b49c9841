import backups from './backups';
import exportsController from './exports';
import health from './health';
import imports from './imports';
import jobs from './jobs';
import monitoring from './monitoring';
import notifications from './notifications';

export default {
  backups,
  exports: exportsController,
  health,
  imports,
  jobs,
  monitoring,
  notifications,
};
