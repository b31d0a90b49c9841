import { compareVersions, resolve } from '../compare';
import type { ModelDescription } from '../types';

const contract: ModelDescription = {
  uid: 'api::contract.contract',
  table: 'contracts',
  kind: 'collectionType',
  displayName: 'Contract',
  draftAndPublish: true,
  localized: true,
  attributes: [
    { name: 'title', kind: 'scalar', type: 'string', column: 'title' },
    { name: 'amount', kind: 'scalar', type: 'decimal', column: 'amount' },
    { name: 'tags', kind: 'relation', type: 'relation', many: true, target: 'api::tag.tag' },
    { name: 'clauses', kind: 'component', type: 'component', many: true, components: ['contract.clause'] },
  ],
  componentTable: 'contracts_cmps',
};

describe('compareVersions', () => {
  const base = { title: 'A', amount: 10, tags: ['t1'], clauses: [{ heading: 'h' }] };

  it('two-way: every differing field is a conflict; equal content (key order aside) is unchanged', () => {
    const c = compareVersions(contract, base, { ...base, title: 'B', amount: 11 }, null);
    expect(c).toMatchObject({ state: 'conflict', fields: ['title', 'amount'], conflicts: ['title', 'amount'], fromArchive: [] });
    expect(compareVersions(contract, base, { clauses: [{ heading: 'h' }], tags: ['t1'], amount: 10, title: 'A' }, null).state).toBe('unchanged');
  });

  it('three-way: one-sided changes merge, fields changed on different sides merge, both sides conflict', () => {
    const here = { ...base, amount: 12 };
    const there = { ...base, title: 'B' };
    const merged = compareVersions(contract, here, there, base);
    expect(merged).toMatchObject({ state: 'update', conflicts: [], fromArchive: ['title'] });
    expect(merged.diff.find((d) => d.field === 'amount')).toMatchObject({ changed: 'here', conflict: false });

    const onlyHere = compareVersions(contract, here, base, base);
    expect(onlyHere.state).toBe('unchanged');

    const both = compareVersions(contract, { ...base, title: 'C' }, there, base);
    expect(both).toMatchObject({ state: 'conflict', conflicts: ['title'] });
    // Changed on both sides to the same value: no difference at all.
    expect(compareVersions(contract, there, there, base).state).toBe('unchanged');
  });

  it('an attribute the archive does not have is not a difference', () => {
    const { title, ...withoutTitle } = base;
    expect(title).toBe('A');
    expect(compareVersions(contract, { ...base, title: 'Z' }, withoutTitle, null).state).toBe('unchanged');
  });
});

describe('resolve', () => {
  const here = { title: 'A', amount: 10, tags: [], clauses: [] };
  const there = { title: 'B', amount: 11, tags: [], clauses: [] };
  const comparison = compareVersions(contract, here, there, null);
  const times = { current: '2026-11-01T00:00:00.000Z', incoming: '2026-11-02T00:00:00.000Z' };

  it('keep writes nothing, incoming writes the archive, per-field choices override the policy', () => {
    expect(resolve(comparison, there, 'keep', {}, times).write).toBeNull();
    expect(resolve(comparison, there, 'incoming', {}, times).write).toEqual({ title: 'B', amount: 11 });
    expect(resolve(comparison, there, 'keep', { amount: 'incoming' }, times)).toEqual({ write: { amount: 11 }, taken: { title: 'current', amount: 'incoming' } });
  });

  it('newer takes the later updatedAt (a tie goes to the archive); skip leaves everything', () => {
    expect(resolve(comparison, there, 'newer', {}, times).write).toEqual({ title: 'B', amount: 11 });
    expect(resolve(comparison, there, 'newer', {}, { current: times.incoming, incoming: times.current }).write).toBeNull();
    expect(resolve(comparison, there, 'newer', {}, { current: times.current, incoming: times.current }).write).toEqual({ title: 'B', amount: 11 });
    expect(resolve(comparison, there, 'skip', { title: 'incoming' }, times)).toEqual({ write: null, taken: {} });
  });
});
