export const PLUGIN_ID = 'pacta-backup';
