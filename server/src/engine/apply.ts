import type { Knex } from 'knex';

import { EngineError } from './errors';
import type { RowFilter } from './manifest';
import { bulkFor, plainLoad, type Inserter, type InserterOptions } from './bulk';
import { applyFilter } from './sql';
import { fromCanonical, type Dialect } from './values';

/**
 * Writes the rows of an archive into the database in ONE transaction, so a failure at any point
 * leaves the database exactly as it was. Works the same on SQLite, PostgreSQL and MariaDB,
 * without privileges beyond those Strapi itself needs (no disabling of foreign keys):
 *
 *  1. the rows each restored table will lose are named: all of them (replace), the rows a
 *     filter selects (filtered), none (upsert: rows are updated in place or added, never
 *     deleted, so nothing that points at them cascades away — `files` rows that other content
 *     links to; incoming: link rows another model owns, see 4);
 *  2. rows that stay (tables not restored, and the rows a restored table keeps) and point at
 *     rows about to go are kept aside, since deleting what they point at would cascade to them
 *     (a link from a clause to a restored supplier) or null them (created_by of content when
 *     admin users are restored);
 *  3. deletes run children first, inserts parents first (foreign-key order). A reference to a
 *     table that is not restored and no longer has the row is handled as the database would on
 *     delete: the link row is dropped (CASCADE) or the column set to null (SET NULL), and
 *     reported;
 *  4. the rows kept aside come back where what they point at exists again, the others are
 *     reported; incoming link tables get the archive's links of the documents the restore
 *     brought back (whose row was not there before) where the other side still exists;
 *  5. sequences are set so the next insert gets the id it would have got at backup time.
 */

export interface TargetColumn {
  name: string;
  type: string;
  nullable: boolean;
  hasDefault: boolean;
}

export interface ForeignKey {
  table: string;
  column: string;
  refTable: string;
  refColumn: string;
  onDelete: string;
}

export interface TargetSchema {
  tables: Map<string, TargetColumn[]>;
  foreignKeys: ForeignKey[];
}

export type ApplyMode = 'replace' | 'filtered' | 'upsert' | 'incoming';

export interface TablePlan {
  name: string;
  /** The archive's columns, in the order of the row arrays. */
  columns: Array<{ name: string; type: string }>;
  mode: ApplyMode;
  /**
   * Link rows other models own that point at a restored content type: the column holding its
   * row id, and its table. With mode 'incoming' the table keeps its rows; with 'filtered' the
   * rows the filter selects are replaced and the others kept. Either way the archive's links of
   * the rows the restore brings back are added (see 4).
   */
  incoming?: { column: string; table: string };
  filter: RowFilter | null;
  nextId: number | null;
  /** Canonical rows from the archive, in batches (a fresh iterable on each call). */
  rows: () => AsyncIterable<unknown[][]>;
  /** Every row of the table in the archive, unfiltered (incoming links); default: rows. */
  allRows?: () => AsyncIterable<unknown[][]>;
}

export interface TableOutcome {
  name: string;
  deleted: number;
  inserted: number;
  /** Link rows dropped / columns nulled because what they point at is not in the database. */
  dropped: number;
  nulled: number;
}

/**
 * Links (rows of link tables, or reference columns) that did not survive a restore because the
 * row they point at is not in the database afterwards: dropped rows and nulled columns, per
 * table and column. A restore reports them; it never drops one silently.
 */
export interface LinkOutcome {
  table: string;
  column: string;
  refTable: string;
  dropped: number;
  nulled: number;
}

export interface ApplyResult {
  tables: TableOutcome[];
  links: LinkOutcome[];
}

export interface ApplyOptions {
  onProgress?: (progress: { table: string; rows: number }) => void;
  /** Runs inside the transaction after the data is written; a throw rolls everything back. */
  beforeCommit?: (trx: Knex.Transaction) => Promise<void>;
  /** Test hook: throw after this many tables were written (proves the rollback). */
  failAfterTables?: number;
}

const CHUNK = 500;

const chunks = <T>(items: T[], size = CHUNK) => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/**
 * A database error as the job reports it: the table and the database's own words, without the
 * SQL statement knex puts first (a multi-row INSERT is kilobytes long and holds row values).
 */
const asEngineError = (error: unknown, table: string): Error => {
  if (error instanceof EngineError || !(error instanceof Error)) return error as Error;
  const words = error.message.includes(' - ') ? error.message.slice(error.message.lastIndexOf(' - ') + 3) : error.message;
  const code = (error as { code?: unknown }).code;
  return new EngineError(
    'RESTORE_FAILED',
    `The database refused the restore${table ? ` of table ${table}` : ''}: ${words.slice(0, 300)}; nothing was changed`,
    { table, ...(typeof code === 'string' ? { databaseCode: code } : {}) }
  );
};

/** Parents before children, by the foreign keys between the restored tables. */
export const foreignKeyOrder = (tables: string[], foreignKeys: ForeignKey[]) => {
  const set = new Set(tables);
  const parents = new Map(tables.map((t) => [t, new Set<string>()]));
  for (const fk of foreignKeys) {
    if (set.has(fk.table) && set.has(fk.refTable) && fk.table !== fk.refTable) parents.get(fk.table)!.add(fk.refTable);
  }
  const order: string[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (table: string) => {
    if (done.has(table)) return;
    if (visiting.has(table)) {
      throw new EngineError('RESTORE_FAILED', `Circular foreign keys around table ${table}`);
    }
    visiting.add(table);
    for (const parent of [...parents.get(table)!].sort()) visit(parent);
    visiting.delete(table);
    done.add(table);
    order.push(table);
  };
  [...tables].sort().forEach(visit);
  return order;
};

const batchSize = (dialect: Dialect, columns: number) =>
  dialect === 'sqlite' ? Math.max(1, Math.min(500, Math.floor(32000 / columns))) : Math.max(1, Math.min(1000, Math.floor(60000 / columns)));

/**
 * Inserts rows given as value arrays in the order of `columns`: through the engine's bulk path
 * (bulk/), or multi-row INSERTs through knex, as large as the bind-parameter limits allow, one
 * round trip per batch.
 */
const inserter = async (
  trx: Knex.Transaction,
  dialect: Dialect,
  table: string,
  columns: Array<{ name: string; type: string }>,
  onInserted: (rows: number) => void,
  options: InserterOptions = {}
): Promise<Inserter> => {
  const bulk = bulkFor(dialect).inserter;
  if (bulk) return bulk(trx, table, columns, onInserted, options);
  const names = columns.map((c) => c.name);
  const size = batchSize(dialect, columns.length);
  let batch: Record<string, unknown>[] = [];
  const flush = async () => {
    if (!batch.length) return;
    await trx(table).insert(batch);
    onInserted(batch.length);
    batch = [];
  };
  return {
    async add(values) {
      const record: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i += 1) record[names[i]] = values[i];
      batch.push(record);
      if (batch.length >= size) await flush();
    },
    end: flush,
  };
};

/**
 * MariaDB/MySQL: sets the AUTO_INCREMENT of the tables whose counter is not already the one
 * wanted. Each ALTER TABLE is a DDL statement with its own commit; read in one query, most
 * counters are found right (a restore over the same data) and cost nothing.
 */
const setCounters = async (knex: Knex, counters: Map<string, number>) => {
  // MySQL 8 caches table statistics, AUTO_INCREMENT included (MariaDB has no such setting).
  await knex.raw('SET SESSION information_schema_stats_expiry = 0').catch(() => undefined);
  const [rows] = await knex.raw(
    `SELECT TABLE_NAME AS name, AUTO_INCREMENT AS next FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${[...counters.keys()].map(() => '?').join(', ')})`,
    [...counters.keys()]
  );
  const current = new Map((rows as Array<{ name: string; next: number | null }>).map((row) => [row.name, row.next == null ? null : Number(row.next)]));
  for (const [table, next] of counters) {
    if (current.get(table) === next) continue;
    await knex.raw(`ALTER TABLE ?? AUTO_INCREMENT = ${next}`, [table]);
  }
};

export const applyRestore = async (
  knex: Knex,
  dialect: Dialect,
  schema: TargetSchema,
  plans: TablePlan[],
  options: ApplyOptions = {}
): Promise<ApplyResult> => {
  const restored = new Set(plans.map((plan) => plan.name));
  const plansByName = new Map(plans.map((plan) => [plan.name, plan]));
  const seen = new Set<string>();
  const foreignKeys = schema.foreignKeys.filter((fk) => {
    const key = `${fk.table}.${fk.column}>${fk.refTable}`;
    if (fk.refColumn !== 'id' || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const outcomes = new Map(plans.map((p) => [p.name, { name: p.name, deleted: 0, inserted: 0, dropped: 0, nulled: 0 }]));
  const links = new Map<string, LinkOutcome>();
  const lose = (fk: ForeignKey, kind: 'dropped' | 'nulled', count = 1) => {
    const key = `${fk.table}.${fk.column}`;
    const link = links.get(key) ?? { table: fk.table, column: fk.column, refTable: fk.refTable, dropped: 0, nulled: 0 };
    link[kind] += count;
    links.set(key, link);
  };

  for (const plan of plans) {
    if (!schema.tables.has(plan.name)) {
      throw new EngineError('SCHEMA_MISMATCH', `The table ${plan.name} does not exist in this database`);
    }
  }

  const trx = await knex.transaction();
  /** MariaDB/MySQL: the AUTO_INCREMENT each table gets after the commit (ALTER TABLE commits implicitly). */
  const counters = new Map<string, number>();
  /** The table being written, to name it when the database refuses a row. */
  let current = '';
  try {
    // 1. What each restored table loses: 'all' or a list of ids (none for upsert and incoming).
    const losing = new Map<string, 'all' | number[]>();
    for (const plan of plans) {
      if (plan.mode === 'replace') {
        losing.set(plan.name, 'all');
      } else if (plan.mode === 'filtered') {
        const builder = trx(plan.name).select('id');
        applyFilter(trx, builder, plan.filter ?? []);
        losing.set(plan.name, (await builder).map((row: { id: number }) => Number(row.id)));
      } else {
        losing.set(plan.name, []);
      }
    }
    const loses = (table: string) => {
      const lost = losing.get(table);
      return lost === 'all' || (lost !== undefined && lost.length > 0);
    };
    // The rows of the restored content types before anything changes: an incoming link of a
    // row that was here stays as it is now; one of a row the restore brings back is restored.
    const before = new Map<string, Set<number>>();
    for (const plan of plans) {
      if (!plan.incoming || before.has(plan.incoming.table)) continue;
      const rows = await trx(plan.incoming.table).select('id');
      before.set(plan.incoming.table, new Set(rows.map((r: { id: number }) => Number(r.id))));
    }

    // 2. Rows that stay and point at rows about to go.
    const selectPointing = async (fk: ForeignKey, columns: string[] | '*') => {
      const lost = losing.get(fk.refTable)!;
      let rows: Record<string, unknown>[] = [];
      if (lost === 'all') rows = await trx(fk.table).whereNotNull(fk.column).select(columns);
      else for (const part of chunks(lost, 5000)) rows.push(...(await trx(fk.table).whereIn(fk.column, part).select(columns)));
      // A restored table's own lost rows are not kept: the archive brings its version of them.
      const own = losing.get(fk.table);
      if (Array.isArray(own) && own.length) {
        const gone = new Set(own);
        rows = rows.filter((row) => !gone.has(Number(row.id)));
      }
      return rows;
    };
    const keptCascade = new Map<string, Map<number, Record<string, unknown>>>();
    const keptNull: Array<{ fk: ForeignKey; rows: Record<string, unknown>[] }> = [];
    for (const fk of foreignKeys) {
      if (!loses(fk.refTable) || losing.get(fk.table) === 'all') continue;
      if (fk.onDelete.toUpperCase() === 'CASCADE') {
        const kept = keptCascade.get(fk.table) ?? new Map<number, Record<string, unknown>>();
        for (const row of await selectPointing(fk, '*')) kept.set(Number(row.id), row);
        keptCascade.set(fk.table, kept);
      } else {
        const rows = await selectPointing(fk, ['id', fk.column]);
        keptNull.push({ fk, rows });
        // NO ACTION / RESTRICT would refuse the delete: let go of the reference first.
        if (fk.onDelete.toUpperCase() !== 'SET NULL') {
          for (const part of chunks(rows.map((r) => r.id as number), 5000)) {
            await trx(fk.table).whereIn('id', part).update({ [fk.column]: null });
          }
        }
      }
    }

    // 3. Delete children first, insert parents first.
    const order = foreignKeyOrder([...restored], foreignKeys);
    const prepareLoad = bulkFor(dialect).prepareLoad;
    const load = prepareLoad
      ? await prepareLoad(trx, {
          emptied: [...order].reverse().filter((table) => losing.get(table) === 'all'),
          restored: order,
          foreignKeys,
        })
      : plainLoad();
    for (const table of [...order].reverse()) {
      const lost = losing.get(table)!;
      const outcome = outcomes.get(table)!;
      if (load.deleted.has(table)) outcome.deleted += load.deleted.get(table)!;
      else if (lost === 'all') outcome.deleted += Number(await trx(table).del());
      else for (const part of chunks(lost, 5000)) outcome.deleted += Number(await trx(table).whereIn('id', part).del());
    }

    const existing = new Map<string, Set<number>>();
    const idsOf = async (table: string) => {
      if (!existing.has(table)) {
        const rows = await trx(table).select('id');
        existing.set(table, new Set(rows.map((r: { id: number }) => Number(r.id))));
      }
      return existing.get(table)!;
    };

    /** The archive's rows of a table, converted for this database, in the target's columns. */
    const columnsOf = (plan: TablePlan) => {
      const target = new Map(schema.tables.get(plan.name)!.map((c) => [c.name, c]));
      return plan.columns.map((column, index) => ({ ...column, index, target: target.get(column.name) })).filter((c) => c.target);
    };

    /** The target's name and type of each written column (what a bulk path formats values by). */
    const targetColumns = (columns: ReturnType<typeof columnsOf>) => columns.map((c) => ({ name: c.name, type: c.target!.type }));

    let written = 0;
    for (const table of order) {
      const plan = plansByName.get(table)!;
      if (plan.mode === 'incoming') continue;
      current = table;
      const outcome = outcomes.get(table)!;
      const columns = columnsOf(plan);
      const outgoing = foreignKeys.filter((fk) => fk.table === table);
      const external = outgoing.filter((fk) => !restored.has(fk.refTable) || plansByName.get(fk.refTable)!.mode === 'incoming');
      const self = outgoing.filter((fk) => fk.refTable === table);
      const deferred: Array<{ id: unknown; column: string; value: unknown }> = [];
      const names = columns.map((c) => c.name);
      const idPosition = names.indexOf('id');
      const externalAt = await Promise.all(
        external.map(async (fk) => ({ fk, at: names.indexOf(fk.column), ids: await idsOf(fk.refTable) }))
      );
      const selfAt = self.map((fk) => ({ fk, at: names.indexOf(fk.column) }));
      // An upsert updates rows between inserts; otherwise nothing but the inserter writes here until end().
      const insert = await inserter(
        trx,
        dialect,
        table,
        targetColumns(columns),
        (rows) => {
          outcome.inserted += rows;
          options.onProgress?.({ table, rows });
        },
        { alone: plan.mode !== 'upsert' }
      );
      // upsert: a row whose id is here is updated in place, never deleted and inserted again.
      const present =
        plan.mode === 'upsert' ? new Set((await trx(table).select('id')).map((r: { id: number }) => Number(r.id))) : null;

      for await (const batch of plan.rows()) {
        rows: for (const row of batch) {
          const values = columns.map((column) => fromCanonical(row[column.index], column.target!.type, dialect));
          for (const { fk, at, ids } of externalAt) {
            const value = values[at];
            if (value == null || ids.has(Number(value))) continue;
            if (fk.onDelete.toUpperCase() === 'CASCADE') {
              outcome.dropped += 1;
              lose(fk, 'dropped');
              continue rows;
            }
            values[at] = null;
            outcome.nulled += 1;
            lose(fk, 'nulled');
          }
          for (const { fk, at } of selfAt) {
            if (values[at] != null) {
              deferred.push({ id: values[idPosition], column: fk.column, value: values[at] });
              values[at] = null;
            }
          }
          if (present?.has(Number(values[idPosition]))) {
            const record: Record<string, unknown> = {};
            for (let i = 0; i < names.length; i += 1) if (i !== idPosition) record[names[i]] = values[i];
            await trx(table).where('id', values[idPosition] as number).update(record);
            outcome.inserted += 1;
            continue;
          }
          // Synchronous on SQLite: no promise per row.
          const pending = insert.add(values);
          if (pending) await pending;
        }
      }
      await insert.end();
      await load.rebuild(table);
      for (const { id, column, value } of deferred) {
        await trx(table).where('id', id as number).update({ [column]: value });
      }

      written += 1;
      if (options.failAfterTables !== undefined && written >= options.failAfterTables) {
        throw new EngineError('RESTORE_FAILED', `Injected failure after ${written} tables`);
      }
    }

    await load.finish();

    // 4. What was kept aside comes back where it can; what cannot is reported.
    // Restored tables are read here for the first time, after their inserts.
    const exists = async (table: string, value: unknown) => value == null || (await idsOf(table)).has(Number(value));
    for (const [table, kept] of keptCascade) {
      const keys = foreignKeys.filter((fk) => fk.table === table);
      const back: Record<string, unknown>[] = [];
      rows: for (const row of kept.values()) {
        for (const fk of keys) {
          if (!(await exists(fk.refTable, row[fk.column]))) {
            lose(fk, 'dropped');
            continue rows;
          }
        }
        back.push(row);
      }
      // Without enforced cascades (or when another key already brought them back) some may remain.
      for (const part of chunks(back.map((r) => r.id as number), 5000)) await trx(table).whereIn('id', part).del();
      for (const part of chunks(back, batchSize(dialect, Object.keys(back[0] ?? { id: 1 }).length))) {
        await trx(table).insert(part);
      }
      existing.delete(table);
    }
    for (const { fk, rows } of keptNull) {
      const byValue = new Map<unknown, number[]>();
      for (const row of rows) byValue.set(row[fk.column], [...(byValue.get(row[fk.column]) ?? []), row.id as number]);
      for (const [value, ids] of byValue) {
        if (!(await exists(fk.refTable, value))) {
          lose(fk, 'nulled', ids.length);
          continue;
        }
        for (const part of chunks(ids, 5000)) await trx(fk.table).whereIn('id', part).update({ [fk.column]: value });
      }
    }
    // Incoming links: those of the rows the restore brought back, where both sides exist.
    for (const plan of plans) {
      if (!plan.incoming) continue;
      current = plan.name;
      const outcome = outcomes.get(plan.name)!;
      const columns = columnsOf(plan);
      const names = columns.map((c) => c.name);
      const idPosition = names.indexOf('id');
      const targetAt = names.indexOf(plan.incoming.column);
      const was = before.get(plan.incoming.table)!;
      const keys = foreignKeys.filter((fk) => fk.table === plan.name).map((fk) => ({ fk, at: names.indexOf(fk.column) }));
      const here = await idsOf(plan.name);
      const insert = await inserter(trx, dialect, plan.name, targetColumns(columns), (rows) => {
        outcome.inserted += rows;
        options.onProgress?.({ table: plan.name, rows });
      });
      for await (const batch of (plan.allRows ?? plan.rows)()) {
        rows: for (const row of batch) {
          const values = columns.map((column) => fromCanonical(row[column.index], column.target!.type, dialect));
          const target = values[targetAt];
          if (target == null || was.has(Number(target)) || here.has(Number(values[idPosition]))) continue;
          for (const { fk, at } of keys) if (!(await exists(fk.refTable, values[at]))) continue rows;
          const pending = insert.add(values);
          if (pending) await pending;
        }
      }
      await insert.end();
    }

    // 5. Sequences.
    for (const plan of plans) {
      if (plan.nextId === null || !schema.tables.get(plan.name)!.some((c) => c.name === 'id')) continue;
      const [{ max }] = await trx(plan.name).max({ max: 'id' });
      const floor = Number(max ?? 0) + 1;
      // After a full replace, max(id) + 1 <= nextId: the sequence is put back exactly.
      const next = Math.max(plan.nextId, floor);
      if (dialect === 'postgres') {
        const { rows } = await trx.raw('SELECT pg_get_serial_sequence(?, ?) AS name', [plan.name, 'id']);
        if (rows[0]?.name) {
          if (plan.mode !== 'replace') {
            const current = await trx.raw(`SELECT last_value, is_called FROM ${rows[0].name}`);
            const state = current.rows[0];
            if (Number(state.last_value) + (state.is_called ? 1 : 0) > next) continue;
          }
          await trx.raw('SELECT setval(?::regclass, ?, ?)', [rows[0].name, next > 1 ? next - 1 : 1, next > 1]);
        }
      } else if (dialect === 'sqlite') {
        const [current] = await trx('sqlite_sequence').where('name', plan.name).select('seq');
        if (plan.mode !== 'replace' && current && Number(current.seq) + 1 > next) continue;
        if (current) await trx('sqlite_sequence').where('name', plan.name).update({ seq: next - 1 });
        else await trx('sqlite_sequence').insert({ name: plan.name, seq: next - 1 });
      } else {
        // ALTER TABLE commits implicitly in MySQL: after the transaction. InnoDB never sets
        // it below max(id) + 1.
        counters.set(plan.name, Math.floor(next));
      }
    }

    await options.beforeCommit?.(trx);
    await trx.commit();
  } catch (error) {
    await trx.rollback().catch(() => undefined);
    throw asEngineError(error, current);
  }
  if (counters.size) await setCounters(knex, counters);
  return { tables: [...outcomes.values()], links: [...links.values()] };
};
