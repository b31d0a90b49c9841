import type { Readable } from 'node:stream';

/**
 * The parts of a mysql2 connection (the driver knex uses for MariaDB and MySQL) that the bulk
 * paths use. knex hands out these connections as they are: the snapshot's, and a transaction's
 * through `trx.client.acquireConnection()`.
 */
export interface MysqlResult {
  affectedRows: number;
  warningStatus: number;
}

export interface MysqlQuery {
  on(event: 'result', listener: (row: unknown[]) => void): MysqlQuery;
  on(event: 'error', listener: (error: Error) => void): MysqlQuery;
  on(event: 'end', listener: () => void): MysqlQuery;
}

export interface MysqlQueryOptions {
  sql: string;
  values?: readonly unknown[];
  rowsAsArray?: boolean;
  infileStreamFactory?: (path: string) => Readable;
}

export interface MysqlConnection {
  query(options: MysqlQueryOptions): MysqlQuery;
  query(options: MysqlQueryOptions | string, callback: (error: Error | null, result: unknown) => void): MysqlQuery;
  /** The value as SQL text, the way the driver formats a bound value (dates in the connection's time zone). */
  escape(value: unknown): string;
  escapeId(name: string): string;
  pause(): void;
  resume(): void;
  config: { timezone?: string };
}

/** One statement on the connection, its result as the driver gives it. */
export const run = <T = unknown>(connection: MysqlConnection, options: MysqlQueryOptions | string) =>
  new Promise<T>((resolve, reject) => {
    connection.query(options, (error, result) => (error ? reject(error) : resolve(result as T)));
  });

/**
 * The database's words of a driver error, without what the driver attaches to it (mysql2 keeps
 * the statement in `sql`: an extended INSERT holds row values). The code stays for the report.
 */
export const databaseError = (error: unknown): Error => {
  if (!(error instanceof Error)) return new Error(String(error));
  const clean = new Error(error.message) as Error & { code?: unknown; errno?: unknown; sqlState?: unknown };
  const source = error as Error & { code?: unknown; errno?: unknown; sqlState?: unknown };
  if (source.code !== undefined) clean.code = source.code;
  if (source.errno !== undefined) clean.errno = source.errno;
  if (source.sqlState !== undefined) clean.sqlState = source.sqlState;
  return clean;
};
