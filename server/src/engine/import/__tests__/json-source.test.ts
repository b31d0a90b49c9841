import { createWriteStream, writeFileSync } from 'node:fs';

import { asAsync, contract, contractModel, sha, tag, tagModel, tempDir } from '../../export/__tests__/fixtures';
import { JSON_EXPORT_FORMAT } from '../../export/format';
import { writeJsonExport } from '../../export/json';
import { EngineError } from '../../errors';
import { isJsonExport, openJsonExport, type JsonSourceOptions } from '../json-source';
import type { DocumentVersion } from '../types';

const meta = { backup: { id: 'b-1', createdAt: '2026-03-01T09:00:00.000Z' }, exportedAt: '2026-03-02T10:00:00.000Z' };

let temp: ReturnType<typeof tempDir>;
beforeEach(() => {
  temp = tempDir();
});
afterEach(() => temp.remove());

const exportFile = async (documents: DocumentVersion[], name = 'export.json') => {
  const file = temp.file(name);
  await writeJsonExport({ meta, contentTypes: [contractModel, tagModel], documents: asAsync(documents) }, createWriteStream(file));
  return file;
};

const readAll = async <T>(iterable: AsyncIterable<T>) => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};

/** A hand-made export: the writer's header with `documents` and overrides. */
const header = () => ({
  format: JSON_EXPORT_FORMAT,
  formatVersion: 1,
  exportedAt: meta.exportedAt,
  backup: meta.backup,
  contentTypes: [
    {
      uid: contractModel.uid,
      displayName: 'Contract',
      localized: true,
      attributes: contractModel.attributes.map(({ name, kind, type, many, components }) => ({ name, kind, type, ...(many === undefined ? {} : { many }), ...(components ? { components } : {}) })),
    },
    { uid: tagModel.uid, displayName: 'Tag', localized: false, attributes: [{ name: 'name', kind: 'scalar', type: 'string' }, { name: 'version', kind: 'scalar', type: 'integer' }] },
  ],
});
const writeJson = (value: unknown, name = 'hand.json') => {
  const file = temp.file(name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
};

/** The EngineError openJsonExport (or iterating its documents) fails with. */
const failure = async (file: string, options?: JsonSourceOptions): Promise<EngineError> => {
  try {
    const source = await openJsonExport(file, options);
    await source.check();
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    return error as EngineError;
  }
  throw new Error('expected the export to be rejected');
};

describe('openJsonExport: round trip', () => {
  it('reads back exactly the documents written, in order, with the header', async () => {
    const documents = [
      contract(1),
      contract(2, { fields: { title: 'Año "ñandú"\n, á é í ó ú \u{1F4C4}', amount: -0.25, body: null, tags: [] } }),
      tag(1),
      contract(3, { locale: 'es' }),
      tag(2),
    ];
    const file = await exportFile(documents);
    const source = await openJsonExport(file);
    expect(source.header.backup).toEqual(meta.backup);
    expect(source.header.exportedAt).toBe(meta.exportedAt);
    expect(source.contentTypes.map((t) => t.uid)).toEqual([contractModel.uid, tagModel.uid]);
    expect(source.contentTypes[0].attributes.find((a) => a.name === 'sections')).toEqual({
      name: 'sections',
      kind: 'dynamiczone',
      type: 'dynamiczone',
      components: ['contract.text', 'contract.penalty'],
    });
    expect(await readAll(source.documents)).toEqual(documents);
    // Each iteration reads the file anew.
    expect(await readAll(source.documents)).toEqual(documents);
    expect(await readAll(source.documentsOf([tagModel.uid]))).toEqual([tag(1), tag(2)]);
    expect(await source.check()).toEqual({ documents: 5, perType: { [contractModel.uid]: 3, [tagModel.uid]: 2 } });
  });

  it('reads a large export in one pass of the documents, many read chunks long', async () => {
    const documents = Array.from({ length: 1500 }, (_, n) => contract(n));
    const file = await exportFile(documents);
    // About 1.2 MB: ~18 reads of 64 KB, documents cut across reads.
    const source = await openJsonExport(file);
    let count = 0;
    for await (const document of source.documents) {
      expect(document).toEqual(documents[count]);
      count += 1;
    }
    expect(count).toBe(1500);
  }, 30_000);

  it('stops reading when the caller stops iterating', async () => {
    const file = await exportFile(Array.from({ length: 500 }, (_, n) => contract(n)));
    const source = await openJsonExport(file);
    const first: DocumentVersion[] = [];
    for await (const document of source.documents) {
      first.push(document);
      if (first.length === 3) break;
    }
    expect(first.map((d) => d.documentId)).toEqual([contract(0), contract(1), contract(2)].map((d) => d.documentId));
  });

  it('reads a header that comes after the documents (keys reordered by another tool)', async () => {
    const { contentTypes, ...rest } = header();
    const file = writeJson({ documents: [tag(1), contract(4)], contentTypes, ...rest });
    const source = await openJsonExport(file);
    expect(source.contentTypes).toHaveLength(2);
    expect(await readAll(source.documents)).toEqual([tag(1), contract(4)]);
  });

  it('accepts a byte order mark and white space', async () => {
    const file = writeJson(`\uFEFF  \n${JSON.stringify({ ...header(), documents: [tag(3)] }, null, 4)}\n\n`);
    expect(await isJsonExport(file)).toBe(true);
    expect(await readAll((await openJsonExport(file)).documents)).toEqual([tag(3)]);
  });
});

describe('isJsonExport', () => {
  it('tells a JSON export from an archive by its first bytes', async () => {
    expect(await isJsonExport(await exportFile([tag(1)]))).toBe(true);
    expect(await isJsonExport(writeJson(Buffer.from('PK\x03\x04\x14\x00\x00\x00').toString('latin1'), 'a.zip'))).toBe(false);
    expect(await isJsonExport(writeJson('PACTAGCM\x01', 'a.enc'))).toBe(false);
    expect(await isJsonExport(writeJson('', 'empty'))).toBe(false);
    expect(await isJsonExport(writeJson('   ', 'blank'))).toBe(false);
    expect(await isJsonExport(writeJson('[1,2]', 'array.json'))).toBe(false);
  });
});

describe('openJsonExport: bad input is rejected with a clear error', () => {
  it('not JSON, or not an object', async () => {
    expect(await failure(writeJson('{"format": "pacta-backup-documents", oops}'))).toMatchObject({ code: 'BAD_ENTRY', message: expect.stringMatching(/not valid JSON at or before byte \d+/) });
    expect(await failure(writeJson('[{"a":1}]'))).toMatchObject({ code: 'NOT_AN_ARCHIVE', message: expect.stringContaining('not a JSON object') });
    expect(await failure(writeJson('{"format":"pacta-backup-documents"} {"x":1}'))).toMatchObject({ code: 'BAD_ENTRY' });
  });

  it('a JSON file of another kind, or of a newer format version', async () => {
    expect(await failure(writeJson({ data: [1, 2, 3] }))).toMatchObject({ code: 'BAD_MANIFEST', message: expect.stringContaining('unexpected key "data"') });
    expect(await failure(writeJson({ format: 'strapi-export', documents: [] }))).toMatchObject({
      code: 'NOT_AN_ARCHIVE',
      message: 'not a PACTA documents export: its format is "strapi-export", not "pacta-backup-documents"',
    });
    expect(await failure(writeJson({ ...header(), formatVersion: 2, documents: [] }))).toMatchObject({
      code: 'BAD_MANIFEST',
      message: 'JSON export of format version 2: this version of the plugin reads version 1',
    });
    const { format, ...noFormat } = header();
    expect(format).toBeDefined();
    expect(await failure(writeJson({ ...noFormat, documents: [] }))).toMatchObject({ code: 'NOT_AN_ARCHIVE' });
  });

  it('a header with a bad or missing value names it', async () => {
    const { backup, ...noBackup } = header();
    expect(backup).toBeDefined();
    expect(await failure(writeJson({ ...noBackup, documents: [] }))).toMatchObject({ code: 'BAD_MANIFEST', details: { path: 'backup' } });
    const bad = header();
    (bad.contentTypes[1].attributes[0] as { kind: string }).kind = 'table';
    expect(await failure(writeJson({ ...bad, documents: [] }))).toMatchObject({
      code: 'BAD_MANIFEST',
      message: expect.stringContaining('contentTypes[1].attributes[0].kind'),
      details: { path: 'contentTypes[1].attributes[0].kind' },
    });
    expect(await failure(writeJson({ ...header(), documents: {} }))).toMatchObject({ code: 'BAD_MANIFEST', message: 'JSON export: "documents" must be an array' });
    expect(await failure(writeJson(header()))).toMatchObject({ code: 'BAD_MANIFEST', message: 'JSON export: no "documents" array' });
    expect(await failure(writeJson(`{"format":"pacta-backup-documents","format":"pacta-backup-documents","documents":[]}`))).toMatchObject({
      code: 'BAD_MANIFEST',
      message: expect.stringContaining('"format" appears twice'),
    });
  });

  it('a truncated file', async () => {
    const file = await exportFile([contract(1), contract(2), tag(1)]);
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(file, 'utf8');
    for (const cut of [text.length - 3, Math.floor(text.length * 0.8), text.indexOf('"documents"') + 20]) {
      const error = await failure(writeJson(text.slice(0, cut), `cut-${cut}.json`));
      expect(error.code).toBe('TRUNCATED');
      expect(error.message).toMatch(/truncated/);
    }
  });

  it('a bad document: the message names its path and the document', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ ...tag(1), documentId: undefined }, 'documents[1].documentId', /documents\[1\] \(api::tag\.tag published\)/],
      [{ ...contract(2), fields: { ...contract(2).fields, supplier: 42 } }, 'documents[1].fields.supplier', /contract0000000000000002 en published/],
      [{ ...contract(2), fields: { ...contract(2).fields, tags: 'tag1' } }, 'documents[1].fields.tags', /expected array/],
      [{ ...contract(2), fields: { ...contract(2).fields, document: 'not-a-hash' } }, 'documents[1].fields.document', /SHA-256/],
      [{ ...contract(2), fields: { ...contract(2).fields, attachments: [sha(1), 'x'] } }, 'documents[1].fields.attachments[1]', /SHA-256/],
      [{ ...contract(2), fields: { ...contract(2).fields, sections: [{ __component: 'contract.other' }] } }, 'documents[1].fields.sections[0].__component', /dynamic zone's components/],
      [{ ...contract(2), fields: { ...contract(2).fields, unknownField: 1 } }, 'documents[1].fields', /unknownField/],
      [{ ...contract(2), locale: null }, 'documents[1].locale', /locale/],
      [{ ...tag(2), locale: 'en' }, 'documents[1].locale', /null/],
      [{ ...tag(2), published: 'yes' }, 'documents[1].published', /boolean/],
      [{ ...tag(2), meta: { createdAt: 'yesterday', updatedAt: null, publishedAt: null } }, 'documents[1].meta.createdAt', /ISO date/],
      [{ ...tag(2), documentId: 'a|b' }, 'documents[1].documentId', /documentId/],
      [{ ...tag(2), extra: true }, 'documents[1]', /extra/],
      [{ ...tag(2), uid: 'api::other.other' }, 'documents[1].uid', /not one of the header's content types/],
      [[1, 2], 'documents[1]', /not an object/],
    ];
    for (const [bad, path, pattern] of cases) {
      const error = await failure(writeJson({ ...header(), documents: [contract(0), bad, tag(9)] }, `bad-${path}.json`));
      expect(error.code).toBe('BAD_ROWS');
      expect(error.details).toMatchObject({ path, index: 1 });
      expect(error.message).toContain(path);
      expect(error.message).toMatch(pattern);
    }
  });

  it('a document version that appears twice', async () => {
    const error = await failure(writeJson({ ...header(), documents: [tag(1), contract(1), tag(1)] }));
    expect(error).toMatchObject({ code: 'BAD_ROWS', message: 'JSON export: documents[2] (api::tag.tag tag1 published) appears twice' });
  });

  it('caps: documents, a document\'s size, nesting, the header\'s size', async () => {
    const file = await exportFile([tag(1), tag(2), tag(3)]);
    expect(await failure(file, { limits: { maxDocuments: 2 } })).toMatchObject({ code: 'TOO_LARGE', message: 'JSON export: more than 2 documents' });
    expect(await failure(await exportFile([tag(1), contract(1)], 'big.json'), { limits: { maxDocumentBytes: 500 } })).toMatchObject({
      code: 'TOO_LARGE',
      message: 'JSON export: documents[1] is larger than the limit of 500 bytes',
    });
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100; i += 1) deep = [deep];
    expect(await failure(writeJson({ ...header(), documents: [{ ...contract(1), fields: { body: deep } }] }), { limits: {} })).toMatchObject({
      code: 'TOO_LARGE',
      message: 'JSON export: documents[0] is nested deeper than 64 levels',
    });
    expect(await failure(writeJson({ ...header(), documents: [] }), { limits: { maxHeaderBytes: 200 } })).toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('the header') });
  });

  it('stops reading a single huge value early, not after holding it whole', async () => {
    // One 40 MB string: cut off about one read past the cap, before the tokenizer hands it on.
    const huge = `{"format":"pacta-backup-documents","formatVersion":1,"documents":[{"uid":"api::tag.tag","documentId":"x","fields":{"name":"${'a'.repeat(40 * 1024 * 1024)}"}}]}`;
    const file = writeJson(huge, 'huge.json');
    const error = await failure(file, { limits: { maxDocumentBytes: 1024 * 1024, maxHeaderBytes: 1024 * 1024 } });
    expect(error).toMatchObject({ code: 'TOO_LARGE', message: 'JSON export: documents[0] is larger than the limit of 1048576 bytes' });
    // Cut off by the bytes read (the cap and about two reads of 64 KB), not at the string's end.
    expect(error.details?.position).toBeGreaterThan(1024 * 1024);
    expect(error.details?.position).toBeLessThan(1024 * 1024 + 4 * 64 * 1024);
  });
});
