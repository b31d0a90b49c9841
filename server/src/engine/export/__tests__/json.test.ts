import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';

import type { DocumentVersion } from '../../import/types';
import { JSON_EXPORT_FORMAT, JSON_EXPORT_FORMAT_VERSION } from '../format';
import { writeJsonExport } from '../json';
import { asAsync, collect, contract, contractModel, tag, tagModel, tempDir } from './fixtures';

const meta = { backup: { id: 'b-20260301-0900', createdAt: '2026-03-01T09:00:00.000Z' }, exportedAt: '2026-03-02T10:00:00.000Z' };

describe('writeJsonExport', () => {
  it('writes one JSON document: the header, then the documents in the order given', async () => {
    const documents = [contract(1), tag(2), contract(2), contract(3)];
    const out = collect();
    const result = await writeJsonExport({ meta, contentTypes: [contractModel, tagModel], documents: asAsync(documents) }, out.stream);
    const text = out.text();
    const parsed = JSON.parse(text);
    expect(Object.keys(parsed)).toEqual(['format', 'formatVersion', 'exportedAt', 'backup', 'contentTypes', 'documents']);
    expect(parsed.format).toBe(JSON_EXPORT_FORMAT);
    expect(parsed.formatVersion).toBe(JSON_EXPORT_FORMAT_VERSION);
    expect(parsed.exportedAt).toBe(meta.exportedAt);
    expect(parsed.backup).toEqual(meta.backup);
    expect(parsed.contentTypes.map((t: { uid: string }) => t.uid)).toEqual([contractModel.uid, tagModel.uid]);
    // Attributes by name, kind and type; no table or column (those are this instance's business).
    expect(parsed.contentTypes[0].attributes[0]).toEqual({ name: 'title', kind: 'scalar', type: 'string' });
    expect(parsed.contentTypes[0].attributes.find((a: { name: string }) => a.name === 'tags')).toEqual({
      name: 'tags',
      kind: 'relation',
      type: 'relation',
      many: true,
      target: 'api::tag.tag',
    });
    expect(text).not.toContain('"column"');
    expect(text).not.toContain('"table"');
    expect(parsed.documents).toEqual(documents);
    expect(result).toEqual({ documents: 4, bytes: Buffer.byteLength(text) });
    // One document version per line, for a person reading or diffing it.
    const lines = text.split('\n');
    expect(lines.filter((line) => line.startsWith('{"uid":'))).toHaveLength(4);
    expect(text.endsWith('\n]\n}\n')).toBe(true);
  });

  it('writes an empty documents array', async () => {
    const out = collect();
    await writeJsonExport({ meta, contentTypes: [tagModel], documents: [] }, out.stream);
    expect(JSON.parse(out.text()).documents).toEqual([]);
  });

  it('pulls documents only as fast as the output takes them (back-pressure)', async () => {
    const total = 3000;
    let pulledBytes = 0;
    let consumedBytes = 0;
    let maxAhead = 0;
    async function* documents(): AsyncGenerator<DocumentVersion> {
      for (let n = 0; n < total; n += 1) {
        const document = contract(n);
        pulledBytes += JSON.stringify(document).length + 2;
        maxAhead = Math.max(maxAhead, pulledBytes - consumedBytes);
        yield document;
      }
    }
    // A slow reader: 4 KB buffered at most, one chunk per timer tick.
    const slow = new Writable({
      highWaterMark: 4096,
      write(chunk: Buffer, _encoding, callback) {
        consumedBytes += chunk.length;
        setImmediate(callback);
      },
    });
    const result = await writeJsonExport({ meta, contentTypes: [contractModel], documents: documents() }, slow);
    expect(result.documents).toBe(total);
    expect(result.bytes).toBeGreaterThan(2_000_000);
    // Ahead of the reader by about one 64 KB chunk and the stream buffers, never the whole export.
    expect(maxAhead).toBeLessThan(256 * 1024);
  }, 30_000);

  it('destroys the output and rejects when the documents fail', async () => {
    async function* documents(): AsyncGenerator<DocumentVersion> {
      yield contract(1);
      throw new Error('database gone');
    }
    const out = collect();
    await expect(writeJsonExport({ meta, contentTypes: [contractModel], documents: documents() }, out.stream)).rejects.toThrow('database gone');
    expect(out.stream.destroyed).toBe(true);
  });

  it('writes a file that JSON.parse reads back equal, accents and escapes included', async () => {
    const temp = tempDir();
    try {
      const documents = [
        contract(1, { fields: { title: 'Año: "ñandú", á é í ó ú\n\ttab \\ barra \u2028 \u{1F4C4}' } }),
        contract(2, { fields: { amount: -0.5, body: null } }),
      ];
      await writeJsonExport({ meta, contentTypes: [contractModel], documents }, createWriteStream(temp.file('export.json')));
      const { readFileSync } = await import('node:fs');
      expect(JSON.parse(readFileSync(temp.file('export.json'), 'utf8')).documents).toEqual(documents);
    } finally {
      temp.remove();
    }
  });
});
