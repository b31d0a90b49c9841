import type { Core } from '@strapi/strapi';

import { login, type Agent } from './agent';

export interface Permission {
  action: string;
  subject?: string | null;
}

let counter = 0;

/**
 * Builds an admin role with exactly the given permissions and a user in it, and logs that user
 * in. Used to prove that a route refuses a role without its action (403).
 */
export const createRestrictedAdmin = async (
  strapi: Core.Strapi,
  { name, permissions }: { name: string; permissions: Permission[] }
): Promise<Agent & { credentials: { email: string; password: string } }> => {
  counter += 1;
  const role = await strapi.service('admin::role').create({
    name: `${name} ${counter}`,
    description: `Test role: ${permissions.map((p) => p.action).join(', ') || 'no permissions'}`,
  });
  await strapi.service('admin::role').assignPermissions(
    role.id,
    permissions.map((permission) => ({ subject: null, properties: {}, conditions: [], ...permission }))
  );

  const credentials = { email: `restricted-${counter}@pacta.test`, password: 'Restricted-Pass-1' };
  await strapi.service('admin::user').create({
    ...credentials,
    firstname: 'Restricted',
    lastname: name,
    isActive: true,
    registrationToken: null,
    roles: [role.id],
  });
  return Object.assign(await login(strapi, credentials), { credentials });
};

/** What an editor typically has: the content manager on contracts, nothing of this plugin. */
export const editorPermissions: Permission[] = [
  { action: 'plugin::content-manager.explorer.read', subject: 'api::contract.contract' },
  { action: 'plugin::content-manager.explorer.update', subject: 'api::contract.contract' },
];
