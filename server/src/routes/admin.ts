import { actionId, type ActionUid } from '../constants';

/** Every admin route needs a logged-in admin whose role holds the route's action. */
export const guard = (action: ActionUid) => ({
  policies: [
    'admin::isAuthenticatedAdmin',
    { name: 'admin::hasPermissions', config: { actions: [actionId(action)] } },
  ],
});

export default {
  type: 'admin' as const,
  routes: [
    { method: 'GET' as const, path: '/health', handler: 'health.index', config: guard('read') },
    { method: 'GET' as const, path: '/backups', handler: 'backups.find', config: guard('read') },
    { method: 'POST' as const, path: '/backups', handler: 'backups.create', config: guard('create') },
    { method: 'GET' as const, path: '/backups/:id', handler: 'backups.findOne', config: guard('read') },
    { method: 'GET' as const, path: '/backups/:id/download', handler: 'backups.download', config: guard('download') },
    { method: 'DELETE' as const, path: '/backups/:id', handler: 'backups.delete', config: guard('delete') },
    // keep protects a backup from retention: changing it is part of managing deletions.
    { method: 'PATCH' as const, path: '/backups/:id', handler: 'backups.update', config: guard('delete') },
    // The same for clients without PATCH (the admin panel's fetch client has get/post/put/del).
    { method: 'PUT' as const, path: '/backups/:id', handler: 'backups.update', config: guard('delete') },
    // Verify takes the global job lock: it needs the right to start jobs.
    { method: 'POST' as const, path: '/backups/:id/verify', handler: 'backups.verify', config: guard('create') },
    { method: 'POST' as const, path: '/backups/:id/restore', handler: 'backups.restore', config: guard('restore') },
    { method: 'POST' as const, path: '/backups/:id/drill', handler: 'backups.drill', config: guard('create') },
    { method: 'POST' as const, path: '/purge', handler: 'backups.purge', config: guard('delete') },
    { method: 'GET' as const, path: '/purge/preview', handler: 'backups.purgePreview', config: guard('read') },
    { method: 'GET' as const, path: '/jobs', handler: 'jobs.find', config: guard('read') },
    { method: 'GET' as const, path: '/jobs/:id', handler: 'jobs.findOne', config: guard('read') },
    { method: 'GET' as const, path: '/alerts', handler: 'monitoring.alerts', config: guard('read') },
    { method: 'GET' as const, path: '/metrics', handler: 'monitoring.metrics', config: guard('read') },
    { method: 'GET' as const, path: '/schedule', handler: 'monitoring.schedule', config: guard('read') },
    { method: 'GET' as const, path: '/schedule/preview', handler: 'monitoring.schedulePreview', config: guard('read') },
    { method: 'GET' as const, path: '/settings', handler: 'monitoring.settings', config: guard('read') },
    { method: 'PUT' as const, path: '/settings', handler: 'monitoring.updateSettings', config: guard('settings') },
    { method: 'POST' as const, path: '/notifications/test', handler: 'notifications.test', config: guard('settings') },
    { method: 'POST' as const, path: '/offsite/test', handler: 'backups.testOffsite', config: guard('settings') },
    { method: 'GET' as const, path: '/offsite', handler: 'backups.offsite', config: guard('read') },
    // Bringing a backup back writes one into the storage and takes the job lock, as creating one does.
    { method: 'POST' as const, path: '/offsite/:id/fetch', handler: 'backups.fetchOffsite', config: guard('create') },
    // The check only reads, but it takes the job lock for as long as a verify does.
    { method: 'POST' as const, path: '/offsite/check', handler: 'backups.checkOffsite', config: guard('create') },
    { method: 'GET' as const, path: '/notifications/events', handler: 'notifications.events', config: guard('read') },
    { method: 'GET' as const, path: '/storage', handler: 'backups.storage', config: guard('read') },
    { method: 'GET' as const, path: '/content-types', handler: 'backups.contentTypes', config: guard('read') },
    // A backup's documents as JSON or CSV: as much of the data as a download of the archive.
    { method: 'GET' as const, path: '/backups/:id/export', handler: 'exports.export', config: guard('download') },
    // Import: upload (streamed, capped), preview (a job), its documents and diffs, apply (a job), log.
    { method: 'POST' as const, path: '/imports/uploads', handler: 'imports.upload', config: guard('import') },
    { method: 'DELETE' as const, path: '/imports/uploads/:id', handler: 'imports.deleteUpload', config: guard('import') },
    { method: 'POST' as const, path: '/imports/preview', handler: 'imports.preview', config: guard('import') },
    { method: 'GET' as const, path: '/imports/previews', handler: 'imports.listPreviews', config: guard('import') },
    { method: 'GET' as const, path: '/imports/previews/:id', handler: 'imports.getPreview', config: guard('import') },
    { method: 'GET' as const, path: '/imports/previews/:id/documents', handler: 'imports.listDocuments', config: guard('import') },
    { method: 'GET' as const, path: '/imports/previews/:id/documents/:key', handler: 'imports.getDocument', config: guard('import') },
    { method: 'POST' as const, path: '/imports/previews/:id/apply', handler: 'imports.apply', config: guard('import') },
    { method: 'GET' as const, path: '/imports/previews/:id/log', handler: 'imports.log', config: guard('import') },
  ],
};
