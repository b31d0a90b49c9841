export const PLUGIN_ID = 'pacta-backup';

/**
 * RBAC actions of the plugin. Strapi prefixes them, so `uid: 'read'` becomes the action
 * `plugin::pacta-backup.read` that roles are granted in Settings → Roles.
 */
export const ACTIONS = [
  { uid: 'read', displayName: 'Read backups, jobs and storage' },
  // An archive holds every row, private attributes and password hashes included.
  { uid: 'download', displayName: 'Download backup archives' },
  // Verify and drill take the global job lock, like a backup.
  { uid: 'create', displayName: 'Create, verify and drill backups' },
  { uid: 'restore', displayName: 'Restore backups' },
  { uid: 'delete', displayName: 'Delete backups' },
  // Preview and apply an import: merges content from another archive into this app.
  { uid: 'import', displayName: 'Import content from archives' },
  { uid: 'settings', displayName: 'Manage backup settings' },
].map((action) => ({ section: 'plugins' as const, pluginName: PLUGIN_ID, ...action }));

export type ActionUid = (typeof ACTIONS)[number]['uid'];

export const actionId = (uid: ActionUid) => `plugin::${PLUGIN_ID}.${uid}`;
