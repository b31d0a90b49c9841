import type { FieldDiff, ImportPolicy } from '../../contracts/imports';
import { stableJson, type FieldValue, type ModelDescription } from './types';

/**
 * What a document version's import does, field by field. Pure: the two (or three) sides in,
 * the decision out.
 *
 * Two-way (no common base): every field that differs is a conflict.
 * Three-way (a base both sides descend from): a field changed on one side only takes that
 * side's value; only fields changed on both sides, to different values, are conflicts.
 */

export type Fields = Record<string, FieldValue>;

export const same = (a: unknown, b: unknown) => stableJson(a ?? null) === stableJson(b ?? null);

export interface Comparison {
  state: 'update' | 'unchanged' | 'conflict';
  /** Fields that differ between here and the archive. */
  fields: string[];
  /** Fields changed on both sides (three-way) or differing (two-way): need a decision. */
  conflicts: string[];
  diff: FieldDiff[];
  /** Fields the merge takes from the archive without asking. */
  fromArchive: string[];
}

export const compareVersions = (desc: ModelDescription, current: Fields, incoming: Fields, base: Fields | null): Comparison => {
  const diff: FieldDiff[] = [];
  for (const attribute of desc.attributes) {
    const { name } = attribute;
    // An attribute the archive does not have (added here since) is not a difference.
    if (!(name in incoming)) continue;
    const cur = current[name] ?? null;
    const inc = incoming[name] ?? null;
    if (same(cur, inc)) continue;
    const kind = attribute.kind;
    if (!base) {
      diff.push({ field: name, kind, current: cur, incoming: inc, changed: 'both', conflict: true });
      continue;
    }
    const was = base[name] ?? null;
    if (same(inc, was)) diff.push({ field: name, kind, current: cur, incoming: inc, base: was, changed: 'here', conflict: false });
    else if (same(cur, was)) diff.push({ field: name, kind, current: cur, incoming: inc, base: was, changed: 'archive', conflict: false });
    else diff.push({ field: name, kind, current: cur, incoming: inc, base: was, changed: 'both', conflict: true });
  }
  const conflicts = diff.filter((d) => d.conflict).map((d) => d.field);
  const fromArchive = diff.filter((d) => d.changed === 'archive').map((d) => d.field);
  return {
    state: conflicts.length ? 'conflict' : fromArchive.length ? 'update' : 'unchanged',
    fields: diff.map((d) => d.field),
    conflicts,
    diff,
    fromArchive,
  };
};

export interface Resolution {
  /** The fields to write (only those that change here), or null: leave the version alone. */
  write: Fields | null;
  /** conflict field → the side taken. */
  taken: Record<string, 'current' | 'incoming'>;
}

/**
 * The content to write for a version here, given the comparison, the policy and per-field
 * choices. `newer` compares updatedAt (the archive's wins a tie: it is what was asked for).
 */
export const resolve = (
  comparison: Comparison,
  incoming: Fields,
  policy: ImportPolicy,
  choices: Record<string, 'current' | 'incoming'>,
  updatedAt: { current: string | null; incoming: string | null }
): Resolution => {
  if (policy === 'skip') return { write: null, taken: {} };
  const newerSide: 'current' | 'incoming' =
    updatedAt.current && updatedAt.incoming && Date.parse(updatedAt.current) > Date.parse(updatedAt.incoming) ? 'current' : 'incoming';
  const byPolicy: 'current' | 'incoming' = policy === 'incoming' ? 'incoming' : policy === 'newer' ? newerSide : 'current';
  const write: Fields = {};
  const taken: Record<string, 'current' | 'incoming'> = {};
  for (const field of comparison.fromArchive) write[field] = incoming[field];
  for (const field of comparison.conflicts) {
    const side = choices[field] ?? byPolicy;
    taken[field] = side;
    if (side === 'incoming') write[field] = incoming[field];
  }
  return { write: Object.keys(write).length ? write : null, taken };
};
