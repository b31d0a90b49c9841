import type { BulkDialect } from './index';

/** MariaDB / MySQL: the portable paths for now (bulk paths, see index.ts). */
export const mysql: BulkDialect = {};
