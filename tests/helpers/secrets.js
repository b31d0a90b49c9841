'use strict';

const crypto = require('node:crypto');

const secret = () => crypto.randomBytes(16).toString('base64');

/** Fresh random secrets of the kind `create-strapi-app` writes into a new app's .env. */
const appSecrets = () => ({
  APP_KEYS: [secret(), secret(), secret(), secret()].join(','),
  API_TOKEN_SALT: secret(),
  ADMIN_JWT_SECRET: secret(),
  TRANSFER_TOKEN_SALT: secret(),
  ENCRYPTION_KEY: secret(),
  JWT_SECRET: secret(),
});

module.exports = { appSecrets };
