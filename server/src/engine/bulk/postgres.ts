import type { BulkDialect } from './index';

/** PostgreSQL: the portable paths for now (bulk paths: COPY, see index.ts). */
export const postgres: BulkDialect = {};
