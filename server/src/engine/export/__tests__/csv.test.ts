import { createWriteStream, readFileSync } from 'node:fs';

import { parse } from 'csv-parse/sync';
import unzipper from 'unzipper';

import type { DocumentVersion } from '../../import/types';
import { csvColumns, csvEntryNames, RELATION_SEPARATOR, writeCsvExport, writeCsvZip } from '../csv';
import { asAsync, collect, contract, contractModel, sha, tag, tagModel, tempDir } from './fixtures';

/** Reads a CSV back as a spreadsheet would: BOM dropped, RFC 4180 quoting undone. */
const readCsv = (buffer: Buffer): string[][] => parse(buffer, { bom: true, relax_column_count: false }) as string[][];

const exportCsv = async (documents: DocumentVersion[], model = contractModel) => {
  const out = collect();
  const result = await writeCsvExport({ model, documents: asAsync(documents) }, out.stream);
  return { result, buffer: out.buffer(), rows: readCsv(out.buffer()) };
};

const column = (rows: string[][], name: string) => rows.slice(1).map((row) => row[rows[0].indexOf(name)]);

describe('writeCsvExport', () => {
  it('writes a header and one row per document version, UTF-8 with a BOM and CRLF', async () => {
    const documents = [contract(1), contract(2), contract(3, { locale: 'es' })];
    const { result, buffer, rows } = await exportCsv(documents);
    expect(buffer.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(buffer.toString('utf8')).toContain('\r\n');
    expect(rows[0]).toEqual(csvColumns(contractModel));
    expect(rows[0].slice(0, 6)).toEqual(['documentId', 'locale', 'version', 'createdAt', 'updatedAt', 'publishedAt']);
    expect(rows[0].slice(6)).toEqual(contractModel.attributes.map((a) => a.name));
    expect(rows).toHaveLength(4);
    expect(result).toEqual({ documents: 3, bytes: buffer.length });
    expect(column(rows, 'documentId')).toEqual(documents.map((d) => d.documentId));
    expect(column(rows, 'version')).toEqual(['draft', 'published', 'draft']);
    expect(column(rows, 'locale')).toEqual(['en', 'en', 'es']);
    expect(column(rows, 'publishedAt')).toEqual(['', '2026-03-01T09:00:00.000Z', '']);
  });

  it('keeps commas, quotes, line breaks and Spanish accents exactly', async () => {
    const titles = [
      'Suministro, mantenimiento y soporte',
      'El "proveedor" acepta',
      'Línea uno\nLínea dos\r\nLínea tres',
      'Año: ñandú, ÁÉÍÓÚ áéíóú ü ¿? ¡!',
      '',
      '  espacios  ',
    ];
    const { rows } = await exportCsv(titles.map((title, n) => contract(n, { fields: { title } })));
    expect(column(rows, 'title')).toEqual(titles);
  });

  it('writes numbers, booleans, JSON scalars, relations, media and components as documented', async () => {
    const document = contract(4, {
      fields: {
        amount: -1250.75,
        views: '-9007199254740993',
        signed: false,
        body: [{ type: 'paragraph', children: [{ type: 'text', text: 'a, "b"' }] }],
        supplier: 'supplierabc',
        tags: ['tag1', 'tag2', 'tag3'],
        document: sha(9),
        attachments: [sha(1), sha(2)],
      },
    });
    const { rows } = await exportCsv([document, contract(5, { fields: { supplier: null, tags: [], attachments: null, clauses: null } })]);
    const [first, second] = rows.slice(1).map((row) => Object.fromEntries(rows[0].map((name, i) => [name, row[i]])));
    // A negative number stays a number (no formula escape): the spreadsheet sums it.
    expect(first.amount).toBe('-1250.75');
    expect(first.views).toBe('-9007199254740993');
    expect(first.signed).toBe('false');
    expect(JSON.parse(first.body)).toEqual(document.fields.body);
    expect(first.supplier).toBe('supplierabc');
    expect(first.tags).toBe(['tag1', 'tag2', 'tag3'].join(RELATION_SEPARATOR));
    expect(first.document).toBe(sha(9));
    expect(first.attachments.split(RELATION_SEPARATOR)).toEqual([sha(1), sha(2)]);
    expect(JSON.parse(first.clauses)).toEqual(document.fields.clauses);
    expect(JSON.parse(first.sections)).toEqual(document.fields.sections);
    expect(second.supplier).toBe('');
    expect(second.tags).toBe('');
    expect(second.attachments).toBe('');
    expect(second.clauses).toBe('');
  });

  it("escapes cells a spreadsheet would run as formulas with a leading '", async () => {
    const dangerous = ['=HYPERLINK("http://x","clic")', '+1+2', '-2+3', '@SUM(A1)', '\t=1', '\r=1', '＝1', '=1,2'];
    const safe = ['1+1', 'a=b', 'Precio: -5', "'ya citado"];
    const { rows } = await exportCsv([...dangerous, ...safe].map((title, n) => contract(n, { fields: { title, number: title } })));
    const titles = column(rows, 'title');
    expect(titles.slice(0, dangerous.length)).toEqual(dangerous.map((text) => `'${text}`));
    expect(titles.slice(dangerous.length)).toEqual(safe);
    expect(column(rows, 'number')).toEqual(titles);
    // Formula-looking text in a JSON cell is escaped too (a JSON cell starts with { or [ anyway).
    const { rows: more } = await exportCsv([contract(1, { fields: { supplier: '=cmd', tags: ['-x', 'y'] } })]);
    expect(column(more, 'supplier')).toEqual(["'=cmd"]);
    expect(column(more, 'tags')).toEqual(["'-x|y"]);
  });

  it('heads an attribute named like a fixed column attribute:<name>', async () => {
    const { rows } = await exportCsv([tag(1), tag(2)], tagModel);
    expect(rows[0]).toEqual(['documentId', 'locale', 'version', 'createdAt', 'updatedAt', 'publishedAt', 'name', 'attribute:version']);
    expect(rows[1]).toEqual(['tag1', '', 'published', '2026-01-02T10:00:00.000Z', '2026-02-02T11:30:00.000Z', '2026-03-01T09:00:00.000Z', 'Etiqueta 1', '1']);
  });

  it('leaves passwords out', async () => {
    const userModel = {
      ...tagModel,
      uid: 'plugin::users-permissions.user',
      attributes: [
        { name: 'username', kind: 'scalar' as const, type: 'string' },
        { name: 'password', kind: 'scalar' as const, type: 'password' },
        { name: 'email', kind: 'scalar' as const, type: 'email' },
      ],
    };
    const user = { ...tag(1), uid: userModel.uid, fields: { username: 'ana', password: '$2a$10$abcdefghijklmnopqrstuv', email: 'ana@example.com' } };
    const { buffer, rows } = await exportCsv([user], userModel);
    expect(rows[0].slice(6)).toEqual(['username', 'email']);
    expect(rows[1].slice(6)).toEqual(['ana', 'ana@example.com']);
    expect(buffer.toString('utf8')).not.toContain('$2a$');
  });

  it('rejects a document of another type and destroys the output', async () => {
    const out = collect();
    await expect(writeCsvExport({ model: contractModel, documents: [contract(1), tag(1)] }, out.stream)).rejects.toThrow(/api::tag\.tag/);
    expect(out.stream.destroyed).toBe(true);
  });
});

describe('writeCsvZip', () => {
  it('names one entry per type', () => {
    expect(csvEntryNames(['api::contract.contract', 'api::tag.tag'])).toEqual(['contract.csv', 'tag.csv']);
    expect(csvEntryNames(['api::tag.tag', 'plugin::labels.tag'])).toEqual(['api_tag.tag.csv', 'plugin_labels.tag.csv']);
  });

  it('writes a zip with one CSV per type, reading one type at a time', async () => {
    const temp = tempDir();
    try {
      const opened: string[] = [];
      const contracts = [contract(1), contract(2, { fields: { title: 'Ñ, "q"\nx' } })];
      const tags = [tag(1), tag(2), tag(3)];
      const source = (uid: string, documents: DocumentVersion[]) =>
        async function* read(): AsyncGenerator<DocumentVersion> {
          opened.push(`open ${uid}`);
          yield* documents;
          opened.push(`close ${uid}`);
        };
      const file = temp.file('export.zip');
      const result = await writeCsvZip(
        [
          { model: contractModel, documents: source('contract', contracts) },
          { model: tagModel, documents: source('tag', tags) },
        ],
        createWriteStream(file)
      );
      expect(opened).toEqual(['open contract', 'close contract', 'open tag', 'close tag']);
      expect(result.files).toEqual([
        { uid: contractModel.uid, name: 'contract.csv', documents: 2 },
        { uid: tagModel.uid, name: 'tag.csv', documents: 3 },
      ]);
      expect(result.bytes).toBe(readFileSync(file).length);
      const directory = await unzipper.Open.file(file);
      expect(directory.files.map((f) => f.path)).toEqual(['contract.csv', 'tag.csv']);
      const contractRows = readCsv(await directory.files[0].buffer());
      expect(column(contractRows, 'title')).toEqual([contracts[0].fields.title, 'Ñ, "q"\nx']);
      const tagRows = readCsv(await directory.files[1].buffer());
      expect(column(tagRows, 'name')).toEqual(['Etiqueta 1', 'Etiqueta 2', 'Etiqueta 3']);
    } finally {
      temp.remove();
    }
  });

  it('rejects and destroys the output when a type fails', async () => {
    const out = collect();
    async function* failing(): AsyncGenerator<DocumentVersion> {
      yield tag(1);
      throw new Error('read failed');
    }
    await expect(
      writeCsvZip(
        [
          { model: contractModel, documents: () => [contract(1)] },
          { model: tagModel, documents: failing },
        ],
        out.stream
      )
    ).rejects.toThrow('read failed');
    expect(out.stream.destroyed).toBe(true);
  });
});
