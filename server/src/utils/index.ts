import type { Core } from '@strapi/strapi';

import { PLUGIN_ID } from '../constants';
import type services from '../services';

type Services = {
  [Name in keyof typeof services]: ReturnType<(typeof services)[Name]>;
};

/** The plugin's services, typed by the factory that builds each one. */
export const getService = <Name extends keyof Services>(
  name: Name,
  { strapi }: { strapi: Core.Strapi }
): Services[Name] => strapi.plugin(PLUGIN_ID).service(name) as Services[Name];
