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
    {
      method: 'GET' as const,
      path: '/health',
      handler: 'health.index',
      config: guard('read'),
    },
  ],
};
