import fs from 'node:fs';
import path from 'node:path';

import type { Core } from '@strapi/strapi';
import { env, errors } from '@strapi/utils';

import { PLUGIN_ID } from '../constants';
import { configSchema, formatIssues, settingsSchema, SETTINGS_FIELDS, type PluginConfig, type Settings } from '../config/schema';
import { internalTargetReason } from '../notifications/url-guard';

const STORE_KEY = 'settings';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Dotted paths of the leaves of an object: { retention: { daily: 7 } } → ['retention.daily']. */
const leaves = (value: unknown, prefix = ''): string[] =>
  isObject(value) ? Object.entries(value).flatMap(([key, inner]) => leaves(inner, prefix ? `${prefix}.${key}` : key)) : prefix ? [prefix] : [];

const getPath = (value: unknown, dotted: string) => dotted.split('.').reduce<unknown>((v, key) => (isObject(v) ? v[key] : undefined), value);

const setPath = (target: Record<string, unknown>, dotted: string, value: unknown) => {
  const keys = dotted.split('.');
  let current = target;
  for (const key of keys.slice(0, -1)) {
    if (!isObject(current[key])) current[key] = {};
    current = current[key] as Record<string, unknown>;
  }
  current[keys[keys.length - 1]] = value;
};

const deepMerge = (base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> => {
  const out = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = isObject(value) && isObject(out[key]) ? deepMerge(out[key] as Record<string, unknown>, value) : value;
  return out;
};

/**
 * The pacta-backup entry of the app's own config/plugins file (and of config/env/<NODE_ENV>/),
 * read the way Strapi reads it: Strapi keeps only the merged result, in which defaults and
 * file values cannot be told apart.
 */
const readFileConfig = (configDir: string): Record<string, unknown> => {
  const load = (file: string): Record<string, unknown> => {
    if (!fs.existsSync(file)) return {};
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(file);
    const exported = loaded?.default ?? loaded;
    const value = typeof exported === 'function' ? exported({ env }) : exported;
    return isObject(value) ? value : {};
  };
  const merged = deepMerge(
    load(path.join(configDir, 'plugins.js')),
    load(path.join(configDir, 'env', process.env.NODE_ENV ?? 'development', 'plugins.js'))
  );
  const own = (merged[PLUGIN_ID] as { config?: unknown } | undefined)?.config;
  return isObject(own) ? own : {};
};

/**
 * The plugin's configuration: what `config/plugins.ts` sets is fixed; the settings an admin
 * edits in Settings → Backups (kept in Strapi's store) fill in the rest; defaults cover what
 * neither sets. `get()` is synchronous: the stored settings are loaded at bootstrap and kept
 * in memory.
 */
const createConfigService = ({ strapi }: { strapi: Core.Strapi }) => {
  let stored: Partial<Settings> = {};
  let file: Record<string, unknown> | null = null;
  const store = () => strapi.store({ type: 'plugin', name: PLUGIN_ID, key: STORE_KEY });

  /** What the host app's config/plugins.ts itself sets for the plugin (read once). */
  const fileConfig = (): Record<string, unknown> => {
    if (!file) {
      try {
        file = readFileConfig(strapi.dirs.dist.config);
      } catch (error) {
        strapi.log.warn(`[pacta-backup] could not read config/plugins: ${(error as Error).message}; every setting is shown as editable`);
        file = {};
      }
    }
    return file;
  };

  const service = {
    get(): PluginConfig {
      const merged = strapi.config.get(`plugin::${PLUGIN_ID}`) as PluginConfig;
      if (!Object.keys(stored).length) return merged;
      const fromFile = fileConfig();
      const out = structuredClone(merged) as unknown as Record<string, unknown>;
      for (const dotted of leaves(stored)) {
        if (!service.fixedBy(dotted, fromFile)) setPath(out, dotted, getPath(stored, dotted));
      }
      return configSchema.parse(out);
    },

    /** Whether config/plugins.ts sets this field (or a parent of it, e.g. `retention`). */
    fixedBy(dotted: string, fromFile = fileConfig()) {
      const parts = dotted.split('.');
      return parts.some((_, i) => {
        const value = getPath(fromFile, parts.slice(0, i + 1).join('.'));
        return value !== undefined && (i === parts.length - 1 || !isObject(value));
      });
    },

    /** The editable settings with, for each, whether config/plugins.ts fixes it. */
    settings() {
      const current = service.get();
      const fromFile = fileConfig();
      return {
        values: Object.fromEntries(SETTINGS_FIELDS.map((field) => [field, getPath(current, field)])) as Record<(typeof SETTINGS_FIELDS)[number], unknown>,
        fixed: SETTINGS_FIELDS.filter((field) => service.fixedBy(field, fromFile)),
      };
    },

    async load() {
      const value = await store().get({});
      const parsed = settingsSchema.safeParse(value ?? {});
      stored = parsed.success ? parsed.data : {};
      if (!parsed.success) strapi.log.warn(`[pacta-backup] stored settings ignored: ${formatIssues(parsed.error)}`);
    },

    /**
     * Saves settings an admin changed (only the editable fields; a field config/plugins.ts
     * fixes is refused with its name). Returns the new settings.
     */
    async update(body: unknown) {
      const parsed = settingsSchema.safeParse(body ?? {});
      if (!parsed.success) {
        const details = parsed.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message, name: 'ValidationError' }));
        throw new errors.ValidationError(formatIssues(parsed.error), { errors: details });
      }
      const fixed = leaves(parsed.data).filter((field) => service.fixedBy(field));
      if (fixed.length) {
        throw new errors.ValidationError(`Set in config/plugins.ts, not editable here: ${fixed.join(', ')}`, {
          errors: fixed.map((field) => ({ path: field.split('.'), message: 'set in config/plugins.ts', name: 'ValidationError' })),
        });
      }
      // In production an admin may not point a webhook into the server's own network (as Strapi's own webhooks).
      if (process.env.NODE_ENV === 'production') {
        const targets = parsed.data.notifications?.webhooks?.targets ?? [];
        const refused = (await Promise.all(targets.map(async (target, i) => ({ i, why: await internalTargetReason(target.url) })))).filter((r) => r.why);
        if (refused.length) {
          const message = refused.map((r) => `notifications.webhooks.targets.${r.i}.url: ${r.why}; an internal URL can only be set in config/plugins.ts`).join('; ');
          throw new errors.ValidationError(message, {
            errors: refused.map((r) => ({ path: ['notifications', 'webhooks', 'targets', String(r.i), 'url'], message: `${r.why}; an internal URL can only be set in config/plugins.ts`, name: 'ValidationError' })),
          });
        }
      }
      const next = structuredClone(stored) as Record<string, unknown>;
      for (const dotted of leaves(parsed.data)) setPath(next, dotted, getPath(parsed.data, dotted));
      // The result must be a valid configuration as a whole.
      const previous = stored;
      stored = next as Partial<Settings>;
      try {
        service.get();
      } catch (error) {
        stored = previous;
        throw new errors.ValidationError(error instanceof Error ? error.message : String(error));
      }
      await store().set({ value: stored });
      return service.settings();
    },

    storageFolder(): string {
      return path.resolve(strapi.dirs.app.root, service.get().storage.folder);
    },
  };
  return service;
};

export default createConfigService;
