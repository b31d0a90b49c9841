import { z } from 'zod';

import { validate } from './backups';

/** POST /notifications/test: which channel to try (both by default). */
export const testNotificationSchema = z.object({ channel: z.enum(['email', 'webhook', 'all']).optional() }).strict();

export const validateTestNotification = (body: unknown) => validate(testNotificationSchema, body);
