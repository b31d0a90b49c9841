'use strict';

/**
 * Writes generated content through Strapi's document service, one call per action a user would
 * take in the admin panel. It is the reference for what Strapi stores: small collections are
 * always written this way, and contracts are when `method: 'documents'` is asked for.
 */
const { resolve } = require('./references');

const CONTRACT = 'api::contract.contract';

/** Creates (or updates) the single-type settings in both locales. */
const writeSettings = async (strapi, spec, references) => {
  const service = strapi.documents('api::settings.settings');
  const shared = resolve(spec.shared, references);
  const en = await service.create({ locale: 'en', data: { ...shared, ...spec.locales.en } });
  await service.update({ documentId: en.documentId, locale: 'es', data: spec.locales.es });
};

/**
 * Creates one document per spec for a collection type without draft & publish, and records
 * the documentIds under `references[kind]`.
 */
const writeCollection = async (strapi, uid, kind, specs, references) => {
  const service = strapi.documents(uid);
  for (const spec of specs) {
    const doc = await service.create({ data: resolve(spec, references) });
    references[kind].push(doc.documentId);
  }
};

/**
 * Writes one contract as an editor would: create the English draft, add the Spanish draft,
 * publish the locales meant to be published, then edit the drafts meant to be newer than
 * their published version.
 */
const writeContract = async (strapi, spec, references) => {
  const service = strapi.documents(CONTRACT);
  const shared = { number: spec.number, ...spec.shared, ...spec.relations };
  const locales = Object.entries(spec.locales);
  let documentId;
  for (const [locale, { data }] of locales) {
    if (!documentId) {
      const doc = await service.create({ locale, data: resolve({ ...shared, ...data }, references) });
      documentId = doc.documentId;
    } else {
      await service.update({ documentId, locale, data: resolve({ ...spec.relations, ...data }, references) });
    }
  }
  for (const [locale, { state }] of locales) {
    if (state !== 'draft') await service.publish({ documentId, locale });
  }
  for (const [locale, { revision }] of locales) {
    if (revision) await service.update({ documentId, locale, data: revision });
  }
  references.contract.push(documentId);
};

module.exports = { CONTRACT, writeSettings, writeCollection, writeContract };
