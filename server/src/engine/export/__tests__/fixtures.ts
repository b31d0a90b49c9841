import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';

import type { DocumentVersion, ModelDescription } from '../../import/types';

/** A contract type with an attribute of every kind (the example app's contract, in small). */
export const contractModel: ModelDescription = {
  uid: 'api::contract.contract',
  table: 'contracts',
  kind: 'collectionType',
  displayName: 'Contract',
  draftAndPublish: true,
  localized: true,
  componentTable: 'contracts_cmps',
  attributes: [
    { name: 'title', kind: 'scalar', type: 'string', column: 'title' },
    { name: 'number', kind: 'scalar', type: 'string', column: 'number' },
    { name: 'amount', kind: 'scalar', type: 'decimal', column: 'amount' },
    { name: 'views', kind: 'scalar', type: 'biginteger', column: 'views' },
    { name: 'signed', kind: 'scalar', type: 'boolean', column: 'signed' },
    { name: 'body', kind: 'scalar', type: 'blocks', column: 'body' },
    { name: 'supplier', kind: 'relation', type: 'relation', many: false, target: 'api::supplier.supplier' },
    { name: 'tags', kind: 'relation', type: 'relation', many: true, target: 'api::tag.tag' },
    { name: 'document', kind: 'media', type: 'media', many: false },
    { name: 'attachments', kind: 'media', type: 'media', many: true },
    { name: 'clauses', kind: 'component', type: 'component', many: true, target: 'contract.clause' },
    { name: 'sections', kind: 'dynamiczone', type: 'dynamiczone', components: ['contract.text', 'contract.penalty'] },
  ],
};

export const tagModel: ModelDescription = {
  uid: 'api::tag.tag',
  table: 'tags',
  kind: 'collectionType',
  displayName: 'Tag',
  draftAndPublish: false,
  localized: false,
  componentTable: null,
  attributes: [
    { name: 'name', kind: 'scalar', type: 'string', column: 'name' },
    { name: 'version', kind: 'scalar', type: 'integer', column: 'version' },
  ],
};

export const sha = (n: number) => n.toString(16).padStart(64, '0');

const times = (day: number) => ({
  createdAt: `2026-01-${String(day).padStart(2, '0')}T10:00:00.000Z`,
  updatedAt: `2026-02-${String(day).padStart(2, '0')}T11:30:00.000Z`,
});

export const contract = (n: number, overrides: Partial<DocumentVersion> & { fields?: DocumentVersion['fields'] } = {}): DocumentVersion => {
  const published = overrides.published ?? n % 2 === 0;
  return {
    uid: contractModel.uid,
    documentId: `contract${String(n).padStart(16, '0')}`,
    locale: overrides.locale === undefined ? (n % 3 === 0 ? 'es' : 'en') : overrides.locale,
    published,
    fields: {
      title: `Contrato de suministro nº ${n}, año ${2020 + (n % 6)}`,
      number: `C-${n}`,
      amount: n * 10.5,
      views: n,
      signed: n % 2 === 0,
      body: [{ type: 'paragraph', children: [{ type: 'text', text: `Cláusula "primera"\nseñal ${n}` }] }],
      supplier: `supplier${n % 7}`,
      tags: [`tag${n % 5}`, `tag${(n + 1) % 5}`],
      document: sha(n),
      attachments: [sha(n + 1000), sha(n + 2000)],
      clauses: [{ title: 'Pago', days: 30, relatedContract: `contract${n + 1}`, file: sha(n + 3000) }],
      sections: [
        { __component: 'contract.text', text: 'Texto' },
        { __component: 'contract.penalty', percent: 2.5 },
      ],
      ...overrides.fields,
    },
    meta: { ...times((n % 28) + 1), publishedAt: published ? `2026-03-01T09:00:00.000Z` : null, ...overrides.meta },
    ...(overrides.documentId ? { documentId: overrides.documentId } : {}),
  };
};

export const tag = (n: number): DocumentVersion => ({
  uid: tagModel.uid,
  documentId: `tag${n}`,
  locale: null,
  published: true,
  fields: { name: `Etiqueta ${n}`, version: n },
  meta: { ...times(n + 1), publishedAt: '2026-03-01T09:00:00.000Z' },
});

/** A writable that keeps what it is given. */
export const collect = () => {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  return { stream, buffer: () => Buffer.concat(chunks), text: () => Buffer.concat(chunks).toString('utf8') };
};

export const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pacta-export-test-'));
  return { dir, file: (name: string) => path.join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
};

export async function* asAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) yield item;
}
