import { PLUGIN_ID } from './pluginId';

const action = (uid: string) => [{ action: `plugin::${PLUGIN_ID}.${uid}`, subject: null }];

/** The RBAC actions the server registers, in the shape the admin panel checks. */
export const PERMISSIONS = {
  read: action('read'),
  download: action('download'),
  // Create also starts verify and drill jobs (they take the global job lock).
  create: action('create'),
  restore: action('restore'),
  delete: action('delete'),
  settings: action('settings'),
  // Preview and apply an import (merge an archive or a JSON export into this app).
  import: action('import'),
};
