import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type { DocumentVersion, ModelDescription } from '../import/types';
import { describeContentType, JSON_EXPORT_FORMAT, JSON_EXPORT_FORMAT_VERSION, type ExportedBackup, type JsonExportHeader } from './format';

export interface ExportMeta {
  backup: ExportedBackup;
  /** Defaults to now. */
  exportedAt?: string;
}

export interface JsonExportInput {
  meta: ExportMeta;
  /** The content types exported, described in the header (components are nested in documents). */
  contentTypes: ModelDescription[];
  /** Written in the order given; read lazily, one at a time. */
  documents: AsyncIterable<DocumentVersion> | Iterable<DocumentVersion>;
}

export interface ExportResult {
  /** Document versions (JSON) or rows (CSV) written. */
  documents: number;
  bytes: number;
}

/** Text is handed to the stream in pieces of about this size (one write per document is slow). */
const CHUNK_CHARS = 64 * 1024;

/**
 * Writes the JSON export (see format.ts) to `out` and ends it. Memory holds one chunk of text
 * and the document being written, never the export: the documents are pulled from their
 * iterable only as fast as `out` takes the text (pipeline waits for 'drain').
 *
 * On failure (the documents' source throws, `out` fails) `out` is destroyed with the error and
 * the promise rejects: a download ends in a network error rather than in a file that looks
 * complete.
 */
export const writeJsonExport = async ({ meta, contentTypes, documents }: JsonExportInput, out: Writable): Promise<ExportResult> => {
  const header: JsonExportHeader = {
    format: JSON_EXPORT_FORMAT,
    formatVersion: JSON_EXPORT_FORMAT_VERSION,
    exportedAt: meta.exportedAt ?? new Date().toISOString(),
    backup: { id: meta.backup.id, createdAt: meta.backup.createdAt },
    contentTypes: contentTypes.map(describeContentType),
  };
  let count = 0;
  let bytes = 0;

  async function* text(): AsyncGenerator<Buffer> {
    const emit = (chunk: string) => {
      const buffer = Buffer.from(chunk, 'utf8');
      bytes += buffer.length;
      return buffer;
    };
    // The header's keys, then the documents array left open.
    const head = JSON.stringify(header, null, 2);
    let chunk = `${head.slice(0, head.lastIndexOf('}')).trimEnd()},\n  "documents": [`;
    for await (const document of documents) {
      chunk += `${count === 0 ? '\n' : ',\n'}${JSON.stringify(document)}`;
      count += 1;
      if (chunk.length >= CHUNK_CHARS) {
        yield emit(chunk);
        chunk = '';
      }
    }
    chunk += count === 0 ? ']\n}\n' : '\n]\n}\n';
    yield emit(chunk);
  }

  await pipeline(Readable.from(text()), out);
  return { documents: count, bytes };
};
