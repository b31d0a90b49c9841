/** Settings → Backups edits a flat draft keyed by dotted field names ('retention.daily'). */
export type Values = Record<string, unknown>;

/** What a section of the settings page needs from the page's form. */
export interface SettingsForm {
  draft: Values;
  /** Field errors of the last save, keyed by dotted path ('notifications.webhooks.targets.0.url'). */
  errors: Record<string, string>;
  /** The admin may change it: the settings permission, and config/plugins.ts does not fix it. */
  editable(field: string): boolean;
  /** "Set in config/plugins.ts" for a fixed field, else the given help. */
  hint(field: string, text?: string): string;
  set(field: string, value: unknown): void;
  /** Fields whose draft differs from the saved value. */
  changed: string[];
}
