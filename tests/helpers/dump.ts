import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import type { Core } from '@strapi/strapi';

import { toCanonical, type Dialect } from '../../server/src/engine/values';

/** Tables whose content is not the app's data: never in a backup, free to differ. */
const IGNORED = /^(strapi_migrations|strapi_migrations_internal|strapi_database_schema|strapi_sessions|strapi_ai_.*|pacta_backup_.*)$/;

/**
 * Every row of every table of the app, in a canonical form that does not depend on the
 * database engine, ordered by id: two dumps are equal when the data is.
 */
export const dumpDatabase = async (strapi: Core.Strapi, { only, indexes = false }: { only?: string[]; indexes?: boolean } = {}) => {
  const dialect = strapi.db.dialect.client as Dialect;
  const schema = await strapi.db.dialect.schemaInspector.getSchema();
  const out: Record<string, unknown[][]> = {};
  for (const table of schema.tables.sort((a, b) => a.name.localeCompare(b.name))) {
    if (IGNORED.test(table.name) || (only && !only.includes(table.name))) continue;
    const columns = table.columns.map((c) => c.name).sort();
    const types = new Map(table.columns.map((c) => [c.name, c.type]));
    let rows = await strapi.db.connection(table.name).select(columns).orderBy(columns.includes('id') ? ['id'] : columns);
    if (table.name === 'strapi_core_store_settings') {
      // Strapi's upload and review-workflows plugins note their weekly metrics run here on their own.
      rows = rows.filter((row: { key: string }) => !String(row.key).endsWith('_metrics'));
    }
    out[table.name] = rows.map((row: Record<string, unknown>) =>
      columns.map((column) => [column, toCanonical(row[column], types.get(column)!, dialect)])
    );
    // A restore may rebuild indexes (it does on SQLite): they must all come back as they were.
    // (Compared on one engine only: inspectors list the columns of an index in their own order.)
    if (indexes) out[`${table.name}#indexes`] = (table.indexes ?? [])
      .map((index) => [index.name, index.columns.join(','), index.type ?? ''])
      .sort((a, b) => a[0].localeCompare(b[0]));
  }
  return out;
};

/** SHA-256 of every file under the app's uploads folder, by relative path. */
export const hashUploads = (publicDir: string) => {
  const uploads = path.join(publicDir, 'uploads');
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else out[path.relative(uploads, full)] = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
    }
  };
  if (fs.existsSync(uploads)) walk(uploads);
  return out;
};
