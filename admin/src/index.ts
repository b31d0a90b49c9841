import type { StrapiApp } from '@strapi/strapi/admin';

import { PluginIcon } from './components/PluginIcon';
import { PERMISSIONS } from './permissions';
import { PLUGIN_ID } from './pluginId';
import { getTranslation, prefixPluginTranslations } from './utils/translations';

export default {
  register(app: StrapiApp) {
    app.addMenuLink({
      to: `plugins/${PLUGIN_ID}`,
      icon: PluginIcon,
      intlLabel: { id: getTranslation('plugin.name'), defaultMessage: 'Backups' },
      permissions: PERMISSIONS.read,
      Component: () => import('./pages/App'),
    });

    app.addSettingsLink(
      { id: PLUGIN_ID, intlLabel: { id: getTranslation('plugin.name'), defaultMessage: 'Backups' } },
      {
        id: 'settings',
        to: PLUGIN_ID,
        intlLabel: { id: getTranslation('settings.title'), defaultMessage: 'Backup settings' },
        permissions: PERMISSIONS.read,
        Component: () => import('./pages/SettingsPage'),
      }
    );

    app.registerPlugin({ id: PLUGIN_ID, name: PLUGIN_ID });
  },

  async registerTrads({ locales }: { locales: string[] }) {
    return Promise.all(
      locales.map(async (locale) => {
        try {
          const { default: data } = await import(`./translations/${locale}.json`);
          return { data: prefixPluginTranslations(data), locale };
        } catch {
          // A locale the plugin has no translation for falls back to the English defaults.
          return { data: {}, locale };
        }
      })
    );
  },
};
