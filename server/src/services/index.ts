import config from './config';
import health from './health';

export default {
  config,
  health,
};
