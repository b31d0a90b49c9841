import type { Knex } from 'knex';

import type { BulkDialect } from './index';

/** Rows per progress report (SQLite's inserts are synchronous, one statement per row). */
const REPORT_EVERY = 5000;

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

interface SqliteConnection {
  prepare(sql: string): { run(...values: unknown[]): unknown; all(...values: unknown[]): unknown[] };
  exec(sql: string): void;
}

const connectionOf = async (trx: Knex.Transaction) => (await trx.client.acquireConnection()) as SqliteConnection;

/**
 * SQLite (better-sqlite3, in the process): the snapshot reads its private copy with one
 * statement per table (snapshot.ts); a restore writes through one prepared INSERT run per row
 * and builds the indexes of the tables it empties once, after their rows.
 */
export const sqlite: BulkDialect = {
  /**
   * One prepared INSERT on the transaction's own connection, run per row (synchronous, no SQL
   * text to build per batch: several times the speed of knex's multi-row insert, which SQLite
   * runs as SELECT … UNION ALL).
   */
  async inserter(trx, table, columns, onInserted) {
    const connection = await connectionOf(trx);
    const statement = connection.prepare(
      `INSERT INTO ${quote(table)} (${columns.map((c) => quote(c.name)).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`
    );
    let pending = 0;
    return {
      add(values) {
        statement.run(...values);
        pending += 1;
        if (pending >= REPORT_EVERY) {
          onInserted(pending);
          pending = 0;
        }
      },
      async end() {
        if (pending) onInserted(pending);
        pending = 0;
      },
    };
  },

  /**
   * Drops the indexes of the tables a restore empties and creates them again after their rows.
   * Deleting and inserting millions of rows while every index is kept up to date row by row
   * costs several times more than building each index once at the end (Strapi's link tables
   * carry four or five indexes). DDL is transactional in SQLite: a rollback brings the indexes
   * back with the rows, and a duplicate makes CREATE UNIQUE INDEX fail, which rolls back like
   * any other error. The foreign-key checks of the deletes stay cheap: children are emptied
   * before their parents.
   */
  async prepareLoad(trx, { emptied }) {
    const aside = new Map<string, string[]>();
    if (emptied.length) {
      const connection = await connectionOf(trx);
      const list = connection.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name");
      for (const table of emptied) {
        const indexes = list.all(table) as Array<{ name: string; sql: string }>;
        for (const index of indexes) connection.exec(`DROP INDEX ${quote(index.name)}`);
        aside.set(table, indexes.map((index) => index.sql));
      }
    }
    return {
      deleted: new Map(),
      rebuild: async (table) => {
        const statements = aside.get(table);
        if (!statements?.length) return;
        const connection = await connectionOf(trx);
        for (const sql of statements) connection.exec(sql);
        aside.delete(table);
      },
      finish: async () => undefined,
    };
  },
};
