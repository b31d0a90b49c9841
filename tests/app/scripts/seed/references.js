'use strict';

/**
 * The generators refer to other records by index ({ supplier: 3 }, { media: 0 }); the writers
 * keep, per kind, the list of what those indexes became in the database.
 */
const KINDS = ['media', 'supplier', 'tag', 'department', 'contract'];

/** @returns {Record<string, Array<string|number>>} */
const createReferences = () => Object.fromEntries(KINDS.map((kind) => [kind, []]));

const referenceOf = (value) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const keys = Object.keys(value);
  return keys.length === 1 && KINDS.includes(keys[0]) && Number.isInteger(value[keys[0]]) ? keys[0] : null;
};

/**
 * A copy of `data` with every reference replaced by what `references` maps it to (a documentId
 * for documents, a file id for media); the shape the document service accepts.
 */
const resolve = (data, references) => {
  const kind = referenceOf(data);
  if (kind) {
    const target = references[kind][data[kind]];
    if (target === undefined) throw new Error(`Unknown ${kind} #${data[kind]}`);
    return target;
  }
  if (Array.isArray(data)) return data.map((item) => resolve(item, references));
  if (data !== null && typeof data === 'object') {
    return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, resolve(value, references)]));
  }
  return data;
};

module.exports = { createReferences, resolve };
