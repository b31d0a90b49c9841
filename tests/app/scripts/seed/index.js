'use strict';

/**
 * The deterministic seeder of the example app.
 *
 * seed(strapi, { documents, media, seed }) fills an EMPTY database (it refuses one that already
 * has contracts: same seed, same content only holds from a clean start, and the unique
 * numbers/taxIds of a second run would collide) with:
 *   - `media` uploaded files (PNG images and PDFs with real bytes),
 *   - suppliers, tags and a department tree (their number grows with `documents`),
 *   - `documents` contracts with every relation kind, clauses, dynamic-zone sections, in English
 *     and mostly also Spanish, some drafts only, most published, some published with a newer draft,
 *   - the settings single type in both locales.
 * Everything but documentIds, row ids and timestamps is a function of `seed`.
 *
 * Contracts are written either through the document service (method 'documents', one call per
 * editor action) or by the bulk writer (method 'bulk', the default), which inserts the same rows
 * in batches; `equivalence.js` checks the two write the same rows.
 */
const content = require('./content');
const { uploadMedia } = require('./media');
const { createReferences } = require('./references');
const documents = require('./documents');
const bulk = require('./bulk');

const BATCH = 500;

/** Creates the Spanish locale (English is Strapi's default) when it does not exist. */
const ensureLocales = async (strapi) => {
  const locales = strapi.plugin('i18n').service('locales');
  if (!(await locales.findByCode('es'))) {
    await locales.create({ code: 'es', name: 'Spanish (es)' });
  }
};

/**
 * @param {import('@strapi/strapi').Core.Strapi} strapi a loaded Strapi
 * @param {{ documents?: number, media?: number, seed?: number, method?: 'bulk'|'documents',
 *   log?: (message: string) => void }} [options]
 * @returns {Promise<{ seed: number, method: string, contracts: number, entries: number,
 *   suppliers: number, tags: number, departments: number, settings: number, files: number,
 *   seconds: number }>} entries: contract rows (one per locale and draft/published version)
 */
const seed = async (strapi, options = {}) => {
  const { documents: count = 200, media = 20, seed: seedNumber = 1, method = 'bulk', pdfBytes = 0, log = () => {} } = options;
  for (const [name, value] of Object.entries({ documents: count, media, seed: seedNumber, pdfBytes })) {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${value}`);
  }
  if (!['bulk', 'documents'].includes(method)) throw new Error(`method must be 'bulk' or 'documents', got ${method}`);
  if ((await strapi.db.query(documents.CONTRACT).count()) > 0) {
    throw new Error('The database already has contracts: the seeder only fills an empty database.');
  }
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;

  await ensureLocales(strapi);
  const references = createReferences();
  const files = await uploadMedia(strapi, { seed: seedNumber, count: media, pdfBytes });
  references.media = files.map((file) => file.id);
  log(`${files.length} media files uploaded (${elapsed().toFixed(1)} s)`);

  const images = files.flatMap((file, index) => (file.mime.startsWith('image/') ? [index] : []));
  const counts = content.countsFor(count);
  const context = { seed: seedNumber, media, images, counts };
  const range = (n) => [...Array(n).keys()];
  await strapi.db.transaction(async () => {
    await documents.writeCollection(strapi, 'api::supplier.supplier', 'supplier', range(counts.suppliers).map((i) => content.supplier(context, i)), references);
    await documents.writeCollection(strapi, 'api::tag.tag', 'tag', range(counts.tags).map((i) => content.tag(context, i)), references);
    await documents.writeCollection(strapi, 'api::department.department', 'department', range(counts.departments).map((i) => content.department(context, i)), references);
    await documents.writeSettings(strapi, content.settings(context), references);
  });
  log(`${counts.suppliers} suppliers, ${counts.tags} tags, ${counts.departments} departments, settings (${elapsed().toFixed(1)} s)`);

  const writer = method === 'bulk' ? bulk.createBulkWriter(strapi, references) : null;
  for (let from = 0; from < count; from += BATCH) {
    const specs = range(Math.min(BATCH, count - from)).map((i) => content.contract(context, from + i));
    await strapi.db.transaction(async ({ trx }) => {
      if (writer) {
        await writer.writeContracts(specs, trx);
      } else {
        for (const spec of specs) await documents.writeContract(strapi, spec, references);
      }
    });
    log(`${from + specs.length}/${count} contracts (${elapsed().toFixed(1)} s)`);
  }

  return {
    seed: seedNumber,
    method,
    contracts: count,
    entries: await strapi.db.query(documents.CONTRACT).count(),
    suppliers: counts.suppliers,
    tags: counts.tags,
    departments: counts.departments,
    settings: await strapi.db.query('api::settings.settings').count(),
    files: files.length,
    seconds: Math.round(elapsed() * 10) / 10,
  };
};

module.exports = { seed };
