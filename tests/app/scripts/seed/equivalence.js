'use strict';

/**
 * Proof that the bulk writer writes what the document service writes: seed the same content
 * twice into two fresh databases, once per method, dump the content tables with every row id
 * replaced by a stable key (contract number/locale/version, supplier taxId, tag name, file
 * name, component owner/field/position) and without documentIds and timestamps, and compare.
 * publishedAt is compared as "published or not"; the order columns are compared as they are.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** Entity tables and the columns that identify a row without its id. */
const ENTITIES = {
  contracts: (row) => `${row.number}/${row.locale}/${row.published_at ? 'published' : 'draft'}`,
  suppliers: (row) => row.tax_id,
  tags: (row) => row.name,
  departments: (row) => row.code,
  settings: (row) => row.locale,
  files: (row) => row.name,
};
const COMPONENT_TABLES = {
  'contract.clause': 'components_contract_clauses',
  'contract.milestone': 'components_contract_milestones',
  'contract.penalty': 'components_contract_penalties',
};
/** Join tables: column -> table it points to (or a function of the row giving that table). */
const LINKS = {
  contracts_cmps: { entity_id: 'contracts', cmp_id: (row) => COMPONENT_TABLES[row.component_type] },
  contracts_supplier_lnk: { contract_id: 'contracts', supplier_id: 'suppliers' },
  contracts_tags_lnk: { contract_id: 'contracts', tag_id: 'tags' },
  contracts_department_lnk: { contract_id: 'contracts', department_id: 'departments' },
  contracts_renewal_of_lnk: { contract_id: 'contracts', inv_contract_id: 'contracts' },
  components_contract_clauses_counterparty_lnk: { clause_id: 'components_contract_clauses', supplier_id: 'suppliers' },
  departments_parent_lnk: { department_id: 'departments', inv_department_id: 'departments' },
  files_related_mph: {
    file_id: 'files',
    related_id: (row) => COMPONENT_TABLES[row.related_type] ?? { 'api::contract.contract': 'contracts', 'api::supplier.supplier': 'suppliers', 'api::settings.settings': 'settings' }[row.related_type],
  },
};
const IGNORED = new Set(['id', 'document_id', 'created_at', 'updated_at', 'hash', 'url', 'formats', 'provider_metadata']);

const canonical = (row, keyOf = {}) => {
  const out = {};
  for (const [column, value] of Object.entries(row).sort(([a], [b]) => a.localeCompare(b))) {
    if (IGNORED.has(column)) continue;
    if (column === 'published_at') out[column] = value !== null;
    else if (column in keyOf) out[column] = keyOf[column];
    else out[column] = value instanceof Date ? value.toISOString() : value;
  }
  return JSON.stringify(out);
};

/**
 * The seeded content of the database of `strapi`, canonicalised.
 * @returns {Promise<Record<string, string[]>>} table -> sorted canonical rows
 */
const dump = async (strapi) => {
  const knex = strapi.db.connection;
  const rows = {};
  for (const table of [...Object.keys(ENTITIES), ...Object.values(COMPONENT_TABLES), ...Object.keys(LINKS)]) {
    rows[table] = await knex(table).select('*').orderBy('id');
  }
  const keys = {};
  for (const [table, keyOf] of Object.entries(ENTITIES)) keys[table] = new Map(rows[table].map((row) => [row.id, keyOf(row)]));
  for (const table of Object.values(COMPONENT_TABLES)) keys[table] = new Map();
  for (const link of rows.contracts_cmps) {
    const table = COMPONENT_TABLES[link.component_type];
    keys[table].set(link.cmp_id, `${keys.contracts.get(link.entity_id)}/${link.field}/${link.order}`);
  }
  const result = {};
  for (const table of Object.keys(rows)) {
    const columns = LINKS[table] ?? {};
    result[table] = rows[table].map((row) => {
      const keyOf = table in keys && !(table in ENTITIES) ? { id: keys[table].get(row.id) } : {};
      for (const [column, target] of Object.entries(columns)) {
        const targetTable = typeof target === 'function' ? target(row) : target;
        keyOf[column] = keys[targetTable].get(row[column]) ?? `missing ${targetTable}#${row[column]}`;
      }
      // Component rows are identified by their owner; keep that key in place of the id.
      return canonical(keyOf.id ? { ...row, key: keyOf.id } : row, keyOf);
    }).sort();
  }
  return result;
};

/** Differences between two dumps, as readable lines (empty when they are equal). */
const compare = (a, b, limit = 10) => {
  const lines = [];
  for (const table of Object.keys(a)) {
    const [left, right] = [new Set(a[table]), new Set(b[table])];
    const onlyLeft = a[table].filter((row) => !right.has(row));
    const onlyRight = b[table].filter((row) => !left.has(row));
    if (a[table].length !== b[table].length) lines.push(`${table}: ${a[table].length} rows vs ${b[table].length}`);
    onlyLeft.slice(0, limit).forEach((row) => lines.push(`${table} only in documents: ${row}`));
    onlyRight.slice(0, limit).forEach((row) => lines.push(`${table} only in bulk:      ${row}`));
  }
  return lines;
};

/**
 * Seeds `options` with both methods into two fresh SQLite databases and compares them.
 * @param {{ documents: number, media: number, seed: number, log?: (message: string) => void }} options
 * @returns {Promise<{ equal: boolean, differences: string[], tables: Record<string, number> }>}
 */
const checkEquivalence = async (options) => {
  const { bootApp } = require('../boot');
  const { seed } = require('./index');
  const log = options.log ?? (() => {});
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-equivalence-'));
  const saved = { client: process.env.DATABASE_CLIENT, filename: process.env.DATABASE_FILENAME };
  const dumps = {};
  try {
    for (const method of ['documents', 'bulk']) {
      Object.assign(process.env, { DATABASE_CLIENT: 'sqlite', DATABASE_FILENAME: path.join(dir, `${method}.db`) });
      const strapi = await bootApp({ compile: method === 'documents' });
      try {
        const summary = await seed(strapi, { ...options, method, log: () => {} });
        log(`${method}: ${summary.entries} contract entries in ${summary.seconds} s`);
        dumps[method] = await dump(strapi);
      } finally {
        await strapi.destroy();
      }
    }
  } finally {
    for (const [name, value] of Object.entries({ DATABASE_CLIENT: saved.client, DATABASE_FILENAME: saved.filename })) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const differences = compare(dumps.documents, dumps.bulk);
  const tables = Object.fromEntries(Object.entries(dumps.documents).map(([table, rows]) => [table, rows.length]));
  return { equal: differences.length === 0, differences, tables };
};

module.exports = { dump, compare, checkEquivalence };
