import { z } from 'zod';

/**
 * The plugin's configuration, as written by the host app in `config/plugins.ts` under
 * `pacta-backup.config`. Every field has a default, so `{}` is a valid configuration.
 */
export const configSchema = z
  .object({
    storage: z
      .object({
        /** Folder that holds the backup archives; relative paths are resolved from the app root. */
        folder: z.string().trim().min(1, 'must be a non-empty path').default('backups'),
      })
      .strict()
      .default({ folder: 'backups' }),
    /**
     * Name of the environment variable that holds the encryption passphrase. The passphrase
     * itself never goes in a config file, a log or a backup.
     */
    encryptionKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
      .default('PACTA_BACKUP_KEY'),
    /** Deflate level of manual backups: none (store), fast (level 1) or best (level 9). */
    compression: z.enum(['none', 'fast', 'best']).default('best'),
  })
  .strict();

export type PluginConfig = z.infer<typeof configSchema>;

/** Formats zod issues as `storage.folder: must be a non-empty path` lines. */
export const formatIssues = (error: z.ZodError) =>
  error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
