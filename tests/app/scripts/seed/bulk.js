'use strict';

/**
 * The bulk writer: writes contracts as the rows the document service would write for the same
 * editor actions (see documents.writeContract), but computed in memory and inserted in batches.
 * Per contract and locale that is:
 *   - the draft entry, and the published entry when the locale is published: same columns, the
 *     published one a copy of the draft as it was when published (same created_at/updated_at),
 *     the draft carrying the later revision (title/notes) when there is one;
 *   - per entry, its own component rows (clauses, sections) joined through contracts_cmps with
 *     1-based `order` per field, clause counterparty links and annex media links;
 *   - relation links: supplier/department (manyToOne) and tags (manyToMany, `tag_ord` = position)
 *     whose inverse order (`contract_ord`) is the target's next number when a draft links to it
 *     and is copied by the published entry; renewalOf links a draft to the target's draft and a
 *     published entry to the target's published entry in the same locale, if there is one;
 *   - media links in files_related_mph with 1-based `order` per field.
 * documentIds come from the same generator Strapi uses (the documentId attribute's default).
 * Row ids are allocated after the current maximum, so the seeder must be the only writer while
 * it runs; PostgreSQL sequences are moved past them at the end of each batch.
 * equivalence.js checks all of this against the document service.
 */
const { CONTRACT } = require('./documents');

const CLAUSE = 'contract.clause';
const CHUNK = 500;

/** Table and column names of the contract model, from Strapi's own metadata. */
const describeModel = (strapi) => {
  const contract = strapi.db.metadata.get(CONTRACT);
  const link = (attribute) => {
    const { joinTable } = contract.attributes[attribute];
    return {
      table: joinTable.name,
      source: joinTable.joinColumn.name,
      target: joinTable.inverseJoinColumn.name,
      order: joinTable.orderColumnName,
      inverseOrder: joinTable.inverseOrderColumnName,
    };
  };
  const components = contract.attributes.sections.joinTable;
  const files = strapi.db.metadata.get('plugin::upload.file').attributes.related.joinTable;
  const counterparty = strapi.db.metadata.get(CLAUSE).attributes.counterparty.joinTable;
  return {
    contracts: contract.tableName,
    newDocumentId: contract.attributes.documentId.default,
    supplier: link('supplier'),
    department: link('department'),
    tags: link('tags'),
    renewalOf: link('renewalOf'),
    components: {
      table: components.name,
      entity: components.joinColumn.name,
      component: components.morphColumn.idColumn.name,
      type: components.morphColumn.typeColumn.name,
      field: Object.keys(components.on)[0],
      order: contract.attributes.clauses.joinTable.orderColumnName,
    },
    counterparty: { table: counterparty.name, source: counterparty.joinColumn.name, target: counterparty.inverseJoinColumn.name },
    files: {
      table: files.name,
      file: files.joinColumn.name,
      id: files.morphColumn.idColumn.name,
      type: files.morphColumn.typeColumn.name,
      field: 'field',
      order: 'order',
    },
    componentTables: Object.fromEntries(['contract.clause', 'contract.milestone', 'contract.penalty']
      .map((uid) => [uid, strapi.db.metadata.get(uid).tableName])),
  };
};

/**
 * @param {import('@strapi/strapi').Core.Strapi} strapi
 * @param {Record<string, Array<string|number>>} references documentIds of suppliers, tags and
 *   departments and file ids already written; the contracts' documentIds are appended to it
 */
const createBulkWriter = (strapi, references) => {
  const model = describeModel(strapi);
  const knex = strapi.db.connection;
  /** contract index -> { [locale]: { draft: id, published: id|undefined } } */
  const contractIds = [];
  /** Row ids of the suppliers, tags and departments, by generator index; loaded on first use. */
  let rowIds;
  let inverseOrders;

  /** documentId -> row id of the collection types without draft & publish (one row each). */
  const idsOf = async (trx, uid, documentIds) => {
    const rows = await knex(strapi.db.metadata.get(uid).tableName).transacting(trx).select('id', 'document_id');
    const byDocument = new Map(rows.map((row) => [row.document_id, row.id]));
    return documentIds.map((documentId) => byDocument.get(documentId));
  };

  /** The last inverse order number used per target, for each manyToOne/manyToMany link. */
  const loadInverseOrders = async (trx) => {
    const result = {};
    for (const name of ['supplier', 'department', 'tags']) {
      const { table, target, inverseOrder } = model[name];
      const rows = await knex(table).transacting(trx).select(target).max(`${inverseOrder} as max`).groupBy(target);
      result[name] = new Map(rows.map((row) => [row[target], Number(row.max)]));
    }
    return result;
  };

  const nextInverseOrder = (name, targetId) => {
    const next = (inverseOrders[name].get(targetId) ?? 0) + 1;
    inverseOrders[name].set(targetId, next);
    return next;
  };

  const maxId = async (trx, table) => Number((await knex(table).transacting(trx).max('id as max').first()).max ?? 0);

  const insert = async (trx, table, rows) => {
    for (let i = 0; i < rows.length; i += CHUNK) {
      await knex(table).transacting(trx).insert(rows.slice(i, i + CHUNK));
    }
  };

  /** Scalar rows go through the query engine so every value is converted as on a normal create. */
  const createMany = async (uid, rows) => {
    for (let i = 0; i < rows.length; i += CHUNK) {
      await strapi.db.query(uid).createMany({ data: rows.slice(i, i + CHUNK) });
    }
  };

  /** The rows of one batch, table by table, with ids allocated from `next`. */
  const createBatch = async (trx) => {
    const tables = [model.contracts, ...Object.values(model.componentTables)];
    const next = {};
    for (const table of tables) next[table] = (await maxId(trx, table)) + 1;
    return {
      next,
      entries: [],
      components: Object.fromEntries(Object.keys(model.componentTables).map((uid) => [uid, []])),
      links: Object.fromEntries([model.components, model.counterparty, model.files, model.supplier, model.department, model.tags, model.renewalOf]
        .map(({ table }) => [table, []])),
    };
  };

  const mediaLinks = (batch, relatedId, relatedType, field, files) => {
    files.forEach((media, position) => {
      batch.links[model.files.table].push({
        [model.files.file]: references.media[media.media],
        [model.files.id]: relatedId,
        [model.files.type]: relatedType,
        [model.files.field]: field,
        [model.files.order]: position + 1,
      });
    });
  };

  /** Component rows of one entry and their links; each entry owns its own copies. */
  const addComponents = (batch, entryId, data) => {
    const attach = (uid, row, field, position) => {
      const table = model.componentTables[uid];
      const id = batch.next[table]++;
      batch.components[uid].push({ id, ...row });
      const c = model.components;
      batch.links[c.table].push({ [c.entity]: entryId, [c.component]: id, [c.type]: uid, [c.field]: field, [c.order]: position + 1 });
      return id;
    };
    data.clauses.forEach(({ heading, body, mandatory, annex, counterparty }, position) => {
      const id = attach(CLAUSE, { heading, body, mandatory }, 'clauses', position);
      if (counterparty) {
        batch.links[model.counterparty.table].push({ [model.counterparty.source]: id, [model.counterparty.target]: rowIds.supplier[counterparty.supplier] });
      }
      if (annex) mediaLinks(batch, id, CLAUSE, 'annex', [annex]);
    });
    data.sections.forEach(({ __component: uid, ...row }, position) => attach(uid, row, 'sections', position));
  };

  /**
   * One entry (a locale's draft or published version) with everything attached to it.
   * `orders` are the inverse orders its links take: new numbers for a draft, the draft's for
   * the published copy.
   */
  const addEntry = (batch, { spec, locale, data, documentId, publishedAt, createdAt, updatedAt, orders, renewalTarget }) => {
    const id = batch.next[model.contracts]++;
    const { title, summary, notes } = data;
    const { document, attachments, ...shared } = spec.shared;
    batch.entries.push({ id, documentId, locale, number: spec.number, ...shared, title, summary, notes, createdAt, updatedAt, publishedAt });
    addComponents(batch, id, data);
    const { supplier, department, tags } = spec.relations;
    const l = batch.links;
    l[model.supplier.table].push({ [model.supplier.source]: id, [model.supplier.target]: rowIds.supplier[supplier.supplier], [model.supplier.inverseOrder]: orders.supplier });
    if (department) {
      l[model.department.table].push({ [model.department.source]: id, [model.department.target]: rowIds.department[department.department], [model.department.inverseOrder]: orders.department });
    }
    tags.forEach((tag, position) => {
      l[model.tags.table].push({ [model.tags.source]: id, [model.tags.target]: rowIds.tag[tag.tag], [model.tags.order]: position + 1, [model.tags.inverseOrder]: orders.tags[position] });
    });
    if (renewalTarget) l[model.renewalOf.table].push({ [model.renewalOf.source]: id, [model.renewalOf.target]: renewalTarget });
    if (document) mediaLinks(batch, id, CONTRACT, 'document', [document]);
    mediaLinks(batch, id, CONTRACT, 'attachments', attachments);
    return id;
  };

  /** The entries of one contract, in the order the document service creates them. */
  const addContract = (batch, spec, index) => {
    const documentId = model.newDocumentId();
    const ids = {};
    const created = new Date();
    const locales = Object.entries(spec.locales);
    const drafts = locales.map(([locale, { data, revision }]) => {
      const { supplier, department, tags } = spec.relations;
      const orders = {
        supplier: nextInverseOrder('supplier', rowIds.supplier[supplier.supplier]),
        department: department ? nextInverseOrder('department', rowIds.department[department.department]) : null,
        tags: tags.map((tag) => nextInverseOrder('tags', rowIds.tag[tag.tag])),
      };
      const target = data.renewalOf ? contractIds[data.renewalOf.contract][locale] : null;
      ids[locale] = {
        draft: addEntry(batch, { spec, locale, documentId, publishedAt: null, createdAt: created, orders, renewalTarget: target?.draft,
          data: revision ? { ...data, ...revision } : data, updatedAt: revision ? new Date(created.getTime() + 1) : created }),
      };
      return { orders, target };
    });
    const publishedAt = new Date();
    locales.forEach(([locale, { state, data }], position) => {
      if (state === 'draft') return;
      const { orders, target } = drafts[position];
      ids[locale].published = addEntry(batch, { spec, locale, data, documentId, publishedAt, createdAt: created, updatedAt: created,
        orders, renewalTarget: target?.published });
    });
    contractIds[index] = ids;
    references.contract.push(documentId);
  };

  /** Moves PostgreSQL's id sequences past the ids written explicitly. */
  const syncSequences = async (trx, tables) => {
    if (strapi.db.dialect.client !== 'postgres') return;
    for (const table of tables) {
      await knex.raw(`SELECT setval(pg_get_serial_sequence(?, 'id'), (SELECT MAX(id) FROM ??))`, [table, table]).transacting(trx);
    }
  };

  /**
   * Writes a batch of contract specs (content.contract), in index order, inside `trx`.
   * @param {object[]} specs
   * @param {import('knex').Knex.Transaction} trx
   */
  const writeContracts = async (specs, trx) => {
    if (!rowIds) {
      rowIds = {
        supplier: await idsOf(trx, 'api::supplier.supplier', references.supplier),
        tag: await idsOf(trx, 'api::tag.tag', references.tag),
        department: await idsOf(trx, 'api::department.department', references.department),
      };
      inverseOrders = await loadInverseOrders(trx);
    }
    const batch = await createBatch(trx);
    specs.forEach((spec) => addContract(batch, spec, references.contract.length));
    await createMany(CONTRACT, batch.entries);
    for (const [uid, rows] of Object.entries(batch.components)) await createMany(uid, rows);
    for (const [table, rows] of Object.entries(batch.links)) await insert(trx, table, rows);
    await syncSequences(trx, Object.keys(batch.next));
  };

  return { writeContracts };
};

module.exports = { createBulkWriter };
