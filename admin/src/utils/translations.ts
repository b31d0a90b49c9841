import { PLUGIN_ID } from '../pluginId';

/** Translation ids are namespaced by the plugin id, like every Strapi plugin's. */
export const getTranslation = (id: string) => `${PLUGIN_ID}.${id}`;

export const prefixPluginTranslations = (trad: Record<string, string>) =>
  Object.fromEntries(Object.entries(trad).map(([key, value]) => [getTranslation(key), value]));
