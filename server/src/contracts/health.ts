/**
 * GET /pacta-backup/health — what the plugin runs with. Shared by the server (response) and
 * the admin panel (request).
 */
export interface Health {
  plugin: { id: string; version: string };
  strapiVersion: string;
  database: { client: string };
  storage: { folder: string };
}

export declare namespace GetHealth {
  export interface Response {
    data: Health;
  }
}
