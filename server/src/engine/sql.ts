import type { Knex } from 'knex';

import type { RowFilter, SubQuery } from './manifest';

/** `column IN (SELECT …)` for a sub-query of a row filter. */
const subQuery = (knex: Knex, query: SubQuery) => {
  const builder = knex(query.table).select(query.column);
  if (query.where) applyFilter(knex, builder, query.where);
  return builder;
};

/** Restricts a query to the rows a RowFilter selects (alternatives of conjunctions). */
export const applyFilter = (knex: Knex, builder: Knex.QueryBuilder, filter: RowFilter) =>
  builder.where((outer) => {
    for (const conjunction of filter) {
      outer.orWhere((inner) => {
        for (const condition of conjunction) {
          if (condition.in) inner.whereIn(condition.column, subQuery(knex, condition.in));
          else inner.where(condition.column, condition.equals as string | number);
        }
      });
    }
  });
