import { expectImport, keyOf, mapRelations, type Documents, type RelationMap, type Version } from '../helpers/import-model';

/** The import tests' model, on hand-made documents: what it expects is what the issue says. */

const C = 'api::contract.contract';
const S = 'api::supplier.supplier';

const RELATIONS: RelationMap = {
  [C]: [
    { path: ['supplier'], target: S },
    { path: ['tags'], target: 'api::tag.tag' },
    { path: ['clauses', 'counterparty'], target: S },
    { path: ['sections:contract.link', 'to'], target: C },
  ],
  [S]: [],
};

const v = (uid: string, documentId: string, fields: Record<string, unknown>, extra: Partial<Version> = {}): Version => ({
  uid,
  documentId,
  locale: uid === C ? 'en' : null,
  published: false,
  fields,
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});

const docs = (...versions: Version[]): Documents => new Map(versions.map((x) => [keyOf(x), x]));

const contract = (documentId: string, fields: Record<string, unknown> = {}, extra: Partial<Version> = {}) =>
  v(C, documentId, { title: 'T', number: `N-${documentId}`, amount: 1, supplier: null, tags: [], clauses: [], sections: [], ...fields }, extra);

describe('the import model', () => {
  it('names a version as the import API does', () => {
    expect(keyOf(contract('a'))).toBe(`${C}|a|en|draft`);
    expect(keyOf(v(S, 's', {}, { published: true }))).toBe(`${S}|s||published`);
  });

  it('maps relations at any depth, with the field path the preview reports', () => {
    const fields = {
      supplier: 's1',
      tags: ['t1', 't2'],
      clauses: [{ heading: 'x', counterparty: 's2' }, { heading: 'y', counterparty: null }],
      sections: [{ __component: 'contract.other', to: 'zz' }, { __component: 'contract.link', to: 'c9' }],
    };
    const seen: string[] = [];
    const out = mapRelations(fields, RELATIONS[C], (target, uid, field) => {
      seen.push(`${field}->${uid}:${target}`);
      return target === 't2' ? null : target.toUpperCase();
    });
    expect(seen).toEqual([`supplier->${S}:s1`, 'tags->api::tag.tag:t1', 'tags->api::tag.tag:t2', `clauses[0].counterparty->${S}:s2`, `sections[1].to->${C}:c9`]);
    expect(out).toEqual({
      supplier: 'S1',
      tags: ['T1'],
      clauses: [{ heading: 'x', counterparty: 'S2' }, { heading: 'y', counterparty: null }],
      sections: [{ __component: 'contract.other', to: 'zz' }, { __component: 'contract.link', to: 'C9' }],
    });
    // The input is left as it was.
    expect(fields.tags).toEqual(['t1', 't2']);
  });

  describe('two-way', () => {
    const here = docs(
      contract('same'),
      contract('edited', { title: 'here' }, { updatedAt: '2026-01-03T00:00:00.000Z' }),
      contract('older', { title: 'here' }, { updatedAt: '2026-01-01T00:00:00.000Z' }),
      contract('mine'),
      v(S, 's1', { name: 'one' })
    );
    const incoming = docs(
      contract('same'),
      contract('edited', { title: 'there', amount: 2 }, { updatedAt: '2026-01-02T00:00:00.000Z' }),
      contract('older', { title: 'there' }, { updatedAt: '2026-01-02T00:00:00.000Z' }),
      contract('new', { supplier: 's1', tags: ['gone'] }),
      v(S, 's1', { name: 'one' })
    );

    it('creates what is only in the archive, leaves what is only here, and counts conflicts', () => {
      const expected = expectImport(here, incoming, RELATIONS);
      expect(Object.fromEntries(expected.states)).toEqual({
        [`${C}|same|en|draft`]: 'unchanged',
        [`${C}|edited|en|draft`]: 'conflict',
        [`${C}|older|en|draft`]: 'conflict',
        [`${C}|new|en|draft`]: 'create',
        [`${C}|mine|en|draft`]: 'absent',
        [`${S}|s1||draft`]: 'unchanged',
      });
      expect(expected.counts[C]).toEqual({ create: 1, update: 0, unchanged: 1, conflict: 2, absent: 1 });
      expect(expected.conflicts.get(`${C}|edited|en|draft`)).toEqual(['amount', 'title']);
      // The tag is in neither side: reported and dropped from the created document.
      expect(expected.dangling).toEqual([{ uid: C, documentId: 'new', locale: 'en', field: 'tags', targetUid: 'api::tag.tag', targetDocumentId: 'gone' }]);
      expect(expected.after.get(`${C}|new|en|draft`)?.fields).toMatchObject({ supplier: 's1', tags: [] });
      expect(expected.after.get(`${C}|mine|en|draft`)).toBe(here.get(`${C}|mine|en|draft`));
    });

    it.each([
      ['keep', 'here', 'here'],
      ['skip', 'here', 'here'],
      ['incoming', 'there', 'there'],
      ['newer', 'here', 'there'],
    ] as const)('resolves conflicts with %s', (policy, edited, older) => {
      const { after } = expectImport(here, incoming, RELATIONS, { policies: { [C]: policy } });
      expect(after.get(`${C}|edited|en|draft`)?.fields.title).toBe(edited);
      expect(after.get(`${C}|older|en|draft`)?.fields.title).toBe(older);
      // skip leaves the version alone, whatever its state: the new contract is not created either.
      expect(after.size).toBe(here.size + (policy === 'skip' ? 0 : 1));
    });

    it('newer: a tie takes the archive’s', () => {
      const h = docs(contract('t', { title: 'here' }, { updatedAt: '2026-01-02T00:00:00.000Z' }));
      const i = docs(contract('t', { title: 'there' }, { updatedAt: '2026-01-02T00:00:00.000Z' }));
      expect(expectImport(h, i, RELATIONS, { policies: { [C]: 'newer' } }).after.get(`${C}|t|en|draft`)?.fields.title).toBe('there');
    });

    it('a per-document policy overrides the type’s', () => {
      const { after } = expectImport(here, incoming, RELATIONS, { policies: { [C]: 'keep' }, documents: { [`${C}|older|en|draft`]: 'incoming' } });
      expect(after.get(`${C}|edited|en|draft`)?.fields.title).toBe('here');
      expect(after.get(`${C}|older|en|draft`)?.fields.title).toBe('there');
    });

    it('matches documents by an attribute, under this app’s documentId, relations included', () => {
      const h = docs(contract('hereId', { number: 'N-1', title: 'here' }), contract('other', { number: 'N-2' }));
      const i = docs(
        contract('thereId', { number: 'N-1', title: 'there' }),
        contract('renewal', { number: 'N-3', sections: [{ __component: 'contract.link', to: 'thereId' }] })
      );
      const expected = expectImport(h, i, RELATIONS, { policies: { [C]: 'incoming' }, match: { [C]: 'number' } });
      expect(expected.matched).toEqual(new Map([[`${C}|thereId`, 'hereId']]));
      expect(Object.fromEntries(expected.states)).toEqual({
        [`${C}|hereId|en|draft`]: 'conflict',
        [`${C}|renewal|en|draft`]: 'create',
        [`${C}|other|en|draft`]: 'absent',
      });
      expect(expected.after.get(`${C}|hereId|en|draft`)?.fields.title).toBe('there');
      expect(expected.after.get(`${C}|renewal|en|draft`)?.fields.sections).toEqual([{ __component: 'contract.link', to: 'hereId' }]);
      expect(expected.dangling).toEqual([]);
      expect([...expected.after.keys()].some((key) => key.includes('thereId'))).toBe(false);
    });

    it('imports only the chosen content types', () => {
      const expected = expectImport(here, incoming, RELATIONS, { contentTypes: [S] });
      expect(Object.keys(expected.counts)).toEqual([S]);
      expect(expected.after.size).toBe(here.size);
    });
  });

  describe('three-way', () => {
    const base = docs(
      contract('a', { title: 'base', amount: 1 }),
      contract('b', { title: 'base', amount: 1 }),
      contract('c', { title: 'base', amount: 1 }),
      contract('d', { title: 'base', amount: 1 }),
      contract('e', { title: 'base', amount: 1 })
    );
    const here = docs(
      contract('a', { title: 'base', amount: 1 }), // untouched on both sides
      contract('b', { title: 'here', amount: 1 }), // here only
      contract('c', { title: 'base', amount: 1 }), // archive only
      contract('d', { title: 'here', amount: 1 }, { updatedAt: '2026-01-05T00:00:00.000Z' }), // both, different fields
      contract('e', { title: 'here', amount: 5 }, { updatedAt: '2026-01-05T00:00:00.000Z' }) // both, same field (title) and another (amount) here
    );
    const incoming = docs(
      contract('a', { title: 'base', amount: 1 }),
      contract('b', { title: 'base', amount: 1 }),
      contract('c', { title: 'there', amount: 1 }),
      contract('d', { title: 'base', amount: 2 }),
      contract('e', { title: 'there', amount: 1, tags: ['x'] }, { updatedAt: '2026-01-06T00:00:00.000Z' }),
      v('api::tag.tag', 'x', { name: 'x' })
    );

    it('merges one-sided changes, field by field, and makes conflicts of both-sided ones only', () => {
      const expected = expectImport(here, incoming, RELATIONS, { base });
      expect(Object.fromEntries(expected.states)).toEqual({
        [`${C}|a|en|draft`]: 'unchanged',
        [`${C}|b|en|draft`]: 'unchanged',
        [`${C}|c|en|draft`]: 'update',
        [`${C}|d|en|draft`]: 'update',
        [`${C}|e|en|draft`]: 'conflict',
        ['api::tag.tag|x||draft']: 'create',
      });
      expect([...expected.conflicts]).toEqual([[`${C}|e|en|draft`, ['title']]]);
      const after = (id: string) => expected.after.get(`${C}|${id}|en|draft`)?.fields;
      expect(after('b')).toMatchObject({ title: 'here', amount: 1 });
      expect(after('c')).toMatchObject({ title: 'there', amount: 1 });
      expect(after('d')).toMatchObject({ title: 'here', amount: 2 });
      // keep: the conflicting title stays, the archive's new tag comes, the amount changed here stays.
      expect(after('e')).toMatchObject({ title: 'here', amount: 5, tags: ['x'] });
    });

    it.each([
      ['keep', { title: 'here', amount: 5, tags: ['x'] }],
      ['incoming', { title: 'there', amount: 5, tags: ['x'] }],
      ['newer', { title: 'there', amount: 5, tags: ['x'] }],
      ['skip', { title: 'here', amount: 5, tags: [] }],
    ] as const)('resolves a conflict with %s', (policy, fields) => {
      const expected = expectImport(here, incoming, RELATIONS, { base, policies: { [C]: policy } });
      expect(expected.after.get(`${C}|e|en|draft`)?.fields).toMatchObject(fields);
      // skip leaves every version alone, the one-sided merges too.
      expect(expected.after.get(`${C}|d|en|draft`)?.fields).toMatchObject({ title: 'here', amount: policy === 'skip' ? 1 : 2 });
    });

    it('leaves deleted what was deleted here since the base and not changed in the archive; re-creates it when changed there', () => {
      const h = docs(contract('a', { title: 'base', amount: 1 }));
      const i = docs(contract('a', { title: 'base', amount: 1 }), contract('b', { title: 'base', amount: 1 }), contract('c', { title: 'there', amount: 1 }));
      const expected = expectImport(h, i, RELATIONS, { base });
      expect(expected.states.get(`${C}|b|en|draft`)).toBe('unchanged');
      expect(expected.after.has(`${C}|b|en|draft`)).toBe(false);
      expect(expected.states.get(`${C}|c|en|draft`)).toBe('create');
      expect(expected.after.get(`${C}|c|en|draft`)?.fields.title).toBe('there');
    });

    it('is two-way for a version the base does not have', () => {
      const h = docs(contract('n', { title: 'here' }));
      const i = docs(contract('n', { title: 'there' }));
      expect(expectImport(h, i, RELATIONS, { base }).states.get(`${C}|n|en|draft`)).toBe('conflict');
    });
  });
});
