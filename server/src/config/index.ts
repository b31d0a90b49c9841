import { configSchema, formatIssues } from './schema';

export default {
  default: configSchema.parse({}),
  /**
   * Strapi calls this synchronously with the merged configuration and refuses to start when it
   * throws, so a bad value stops the app with a message that names the field.
   */
  validator(config: unknown) {
    const result = configSchema.safeParse(config);
    if (!result.success) {
      throw new Error(`Invalid pacta-backup configuration: ${formatIssues(result.error)}`);
    }
  },
};
