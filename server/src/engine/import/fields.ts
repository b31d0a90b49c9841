import { createHash } from 'node:crypto';

import { stableJson, type ContentModel, type FieldValue, type ModelDescription } from './types';

/** SHA-256 of a version's content (its fields, in canonical JSON). */
export const digestOf = (fields: Record<string, FieldValue>) => createHash('sha256').update(stableJson(fields)).digest('hex');

/** A readable name for a document: its title, name, heading, or first text field. */
export const labelOf = (desc: ModelDescription, fields: Record<string, FieldValue>) => {
  const texts = desc.attributes.filter((a) => a.kind === 'scalar' && ['string', 'uid', 'email', 'text'].includes(a.type));
  const preferred = texts.find((a) => ['title', 'name', 'heading', 'label', 'username', 'number'].includes(a.name)) ?? texts[0];
  const value = preferred ? fields[preferred.name] : null;
  return typeof value === 'string' ? value.slice(0, 120) : '';
};

/**
 * Calls `visit` for every relation value (target uid, documentId) and media value (SHA-256) in
 * a version's fields, components and dynamic zones included; `map` replaces them (a relation's
 * documentId mapped to this app's, a media hash to null when it cannot be kept).
 */
export const mapReferences = (
  model: ContentModel,
  desc: ModelDescription,
  fields: Record<string, FieldValue>,
  map: { relation?: (target: string, documentId: string, path: string) => string | null; media?: (sha256: string, path: string) => string | null },
  prefix = ''
): Record<string, FieldValue> => {
  const out: Record<string, FieldValue> = { ...fields };
  for (const attribute of desc.attributes) {
    const value = fields[attribute.name];
    if (value === undefined || value === null) continue;
    const path = `${prefix}${attribute.name}`;
    if (attribute.kind === 'relation' && map.relation) {
      const one = (id: FieldValue) => (typeof id === 'string' ? map.relation!(attribute.target!, id, path) : null);
      out[attribute.name] = Array.isArray(value) ? (value.map(one).filter((v) => v !== null) as FieldValue[]) : one(value);
    } else if (attribute.kind === 'media' && map.media) {
      const one = (sha: FieldValue) => (typeof sha === 'string' ? map.media!(sha, path) : null);
      out[attribute.name] = Array.isArray(value) ? (value.map(one).filter((v) => v !== null) as FieldValue[]) : one(value);
    } else if (attribute.kind === 'component' || attribute.kind === 'dynamiczone') {
      const one = (item: FieldValue, index: number | null) => {
        if (!item || typeof item !== 'object' || Array.isArray(item)) return item;
        const entry = item as Record<string, FieldValue>;
        const uid = attribute.kind === 'dynamiczone' ? String(entry.__component) : attribute.components![0];
        const component = model.get(uid);
        if (!component) return item;
        return mapReferences(model, component, entry, map, `${path}${index === null ? '' : `[${index}]`}.`);
      };
      out[attribute.name] = Array.isArray(value) ? value.map((v, i) => one(v, i)) : one(value, null);
    }
  }
  return out;
};

const isObject = (value: unknown): value is Record<string, FieldValue> => Boolean(value) && typeof value === 'object' && !Array.isArray(value);

/**
 * Inside components, what the source cannot tell (a link into a table an archive does not
 * hold) is absent from the incoming item: it takes the value this app has at the same place
 * (same field, same position, same component), so that it is neither a difference nor lost
 * when the component is written. Top-level fields the source cannot tell stay absent (they
 * are neither compared nor written). Returns the incoming fields, completed.
 */
export const fillUnknown = (
  model: ContentModel,
  desc: ModelDescription,
  incoming: Record<string, FieldValue>,
  current: Record<string, FieldValue>,
  nested = false
): Record<string, FieldValue> => {
  const out: Record<string, FieldValue> = { ...incoming };
  for (const attribute of desc.attributes) {
    if (!(attribute.name in incoming)) {
      if (nested && attribute.name in current) out[attribute.name] = current[attribute.name];
      continue;
    }
    if (attribute.kind !== 'component' && attribute.kind !== 'dynamiczone') continue;
    const fill = (item: FieldValue, here: FieldValue): FieldValue => {
      if (!isObject(item) || !isObject(here)) return item;
      if (attribute.kind === 'dynamiczone' && item.__component !== here.__component) return item;
      const component = model.get(attribute.kind === 'dynamiczone' ? String(item.__component) : attribute.components![0]);
      return component ? fillUnknown(model, component, item, here, true) : item;
    };
    const value = incoming[attribute.name];
    const here = current[attribute.name];
    out[attribute.name] = Array.isArray(value) ? value.map((item, i) => fill(item, Array.isArray(here) ? here[i] : null)) : fill(value, here);
  }
  return out;
};
