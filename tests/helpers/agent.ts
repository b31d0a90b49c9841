import type { Core } from '@strapi/strapi';
import request from 'supertest';

export interface Credentials {
  email: string;
  password: string;
}

export const superAdminCredentials = {
  email: 'admin@pacta.test',
  password: 'Pacta-Admin-2026',
  firstname: 'Ada',
  lastname: 'Admin',
};

/** An HTTP client bound to the booted app's server, optionally with an admin token. */
export const createAgent = (strapi: Core.Strapi, token?: string) => {
  const withAuth = (test: request.Test) => (token ? test.set('Authorization', `Bearer ${token}`) : test);
  const server = strapi.server.httpServer;
  return {
    token,
    get: (url: string) => withAuth(request(server).get(url)),
    post: (url: string, body?: object) => withAuth(request(server).post(url)).send(body ?? {}),
    put: (url: string, body?: object) => withAuth(request(server).put(url)).send(body ?? {}),
    patch: (url: string, body?: object) => withAuth(request(server).patch(url)).send(body ?? {}),
    delete: (url: string) => withAuth(request(server).delete(url)),
  };
};

export type Agent = ReturnType<typeof createAgent>;

/** Logs in through the admin API, as the admin panel does, and returns an authenticated agent. */
export const login = async (strapi: Core.Strapi, credentials: Credentials): Promise<Agent> => {
  const res = await request(strapi.server.httpServer)
    .post('/admin/login')
    .send({ email: credentials.email, password: credentials.password });
  if (res.status !== 200 || !res.body?.data?.token) {
    throw new Error(`POST /admin/login for ${credentials.email} answered ${res.status}: ${res.text}`);
  }
  return createAgent(strapi, res.body.data.token);
};

/** Creates the first super admin (as the registration screen does) and logs it in. */
export const loginAsSuperAdmin = async (strapi: Core.Strapi): Promise<Agent> => {
  const userService = strapi.service('admin::user');
  if (!(await userService.exists({ email: superAdminCredentials.email }))) {
    const superAdminRole = await strapi.service('admin::role').getSuperAdmin();
    await userService.create({
      ...superAdminCredentials,
      isActive: true,
      registrationToken: null,
      roles: [superAdminRole.id],
    });
  }
  return login(strapi, superAdminCredentials);
};
