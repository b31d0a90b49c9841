export default ({ env }) => ({
  // The demo prints the URL; no browser tab is opened from a headless machine.
  autoOpen: false,
  auth: {
    secret: env('ADMIN_JWT_SECRET'),
  },
  apiToken: {
    salt: env('API_TOKEN_SALT'),
  },
  transfer: {
    token: {
      salt: env('TRANSFER_TOKEN_SALT'),
    },
  },
  secrets: {
    encryptionKey: env('ENCRYPTION_KEY'),
  },
  // The ownership tests restore admin users, which ends every admin session, and log in again
  // after each restore: more logins than the default limit (5 in 5 minutes) allows.
  rateLimit: {
    enabled: false,
  },
  flags: {
    nps: false,
    promoteEE: false,
  },
});
