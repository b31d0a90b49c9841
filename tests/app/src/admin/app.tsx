import type { StrapiApp } from '@strapi/strapi/admin';

export default {
  config: {
    // PACTA's editors work in Spanish and English.
    locales: ['es'],
  },
  bootstrap(_app: StrapiApp) {},
};
