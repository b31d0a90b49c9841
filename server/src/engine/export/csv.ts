import { once } from 'node:events';
import { PassThrough, Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import archiver from 'archiver';
import { stringify } from 'csv-stringify';

import type { AttributeDescription, DocumentVersion, FieldValue, ModelDescription } from '../import/types';
import type { ExportResult } from './json';

/**
 * CSV export for a spreadsheet: one row per document version (documentId + locale +
 * draft/published), quoting by csv-stringify (RFC 4180: comma, CRLF, quotes doubled, fields
 * with a comma, a quote or a line break quoted), UTF-8 with a byte order mark so that Excel
 * reads accents (ñ, á) as such.
 *
 * Columns: documentId, locale (empty when the type is not localized), version (draft |
 * published), createdAt, updatedAt, publishedAt, then each attribute in the schema's order:
 * - scalars as they are: numbers as numbers, booleans as `true` / `false`, text as text, JSON
 *   and rich text (blocks) as JSON text; null and absent values as an empty cell;
 * - relations as the target's documentId; to-many as the documentIds in order joined by
 *   RELATION_SEPARATOR (`|`: Strapi makes documentIds of lowercase letters and digits, and the
 *   import refuses a documentId with a `|`, so it never holds one);
 * - media as the file's SHA-256 (several joined by `|` too);
 * - components and dynamic zones as JSON text;
 * - passwords (hashes) not at all (csvAttributes).
 * An attribute named like one of the first six columns is headed `attribute:<name>`. An empty
 * cell is both null and the empty string (a spreadsheet has no null). Excel keeps at most 32,767
 * characters in a cell: a longer rich text or component list is whole in the file, but Excel
 * cuts it when it opens it (LibreOffice too, past its own limit); the JSON export has no limit.
 *
 * Formula injection: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return (or
 * their full-width forms) is run as a formula by Excel, LibreOffice and Google Sheets. Such a
 * cell gets a leading `'` (csv-stringify's `escape_formulas`, OWASP's advice): the spreadsheet
 * then reads it as text (the quote may show in the cell, as in `'+34 600 000 000`, a phone
 * number; the JSON export has the value as it is). Numbers are left as they are (a negative amount stays a number): a
 * number is written from a JS number, or, for an integer too large for one, from a bigint.
 */
export const RELATION_SEPARATOR = '|';

const META_COLUMNS = ['documentId', 'locale', 'version', 'createdAt', 'updatedAt', 'publishedAt'] as const;

export interface CsvExportInput {
  model: ModelDescription;
  documents: AsyncIterable<DocumentVersion> | Iterable<DocumentVersion>;
}

/**
 * The attributes a CSV shows: all but passwords (users-permissions' `password` is a hash; a
 * spreadsheet travels by e-mail, and nobody reads a hash in one). The JSON export keeps them:
 * it is an import source and holds what the backup holds.
 */
export const csvAttributes = (model: ModelDescription) => model.attributes.filter((attribute) => attribute.type !== 'password');

/** The header row. */
export const csvColumns = (model: ModelDescription): string[] => [
  ...META_COLUMNS,
  ...csvAttributes(model).map((attribute) => ((META_COLUMNS as readonly string[]).includes(attribute.name) ? `attribute:${attribute.name}` : attribute.name)),
];

type Cell = string | number | bigint | null;

const NUMERIC_TYPES = new Set(['integer', 'biginteger', 'float', 'decimal']);

const joinIds = (value: FieldValue): Cell => {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(RELATION_SEPARATOR);
  return typeof value === 'string' ? value : JSON.stringify(value);
};

const scalarCell = (value: FieldValue, attribute: AttributeDescription): Cell => {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    // A big integer kept as text in the archive: a number to the spreadsheet, not a formula.
    if (NUMERIC_TYPES.has(attribute.type.toLowerCase()) && /^-?\d+$/.test(value)) return BigInt(value);
    return value;
  }
  return JSON.stringify(value);
};

/** The cells of one document version, in csvColumns order. */
export const csvRow = (model: ModelDescription, document: DocumentVersion): Cell[] => {
  const row: Cell[] = [
    document.documentId,
    document.locale,
    document.published ? 'published' : 'draft',
    document.meta.createdAt,
    document.meta.updatedAt,
    document.meta.publishedAt,
  ];
  for (const attribute of csvAttributes(model)) {
    const value = document.fields[attribute.name] as FieldValue | undefined;
    if (value === undefined || value === null) {
      row.push(null);
      continue;
    }
    switch (attribute.kind) {
      case 'relation':
      case 'media':
        row.push(joinIds(value));
        break;
      case 'component':
      case 'dynamiczone':
        row.push(JSON.stringify(value));
        break;
      default:
        row.push(scalarCell(value, attribute));
    }
  }
  return row;
};

const stringifier = () =>
  stringify({
    bom: true,
    record_delimiter: '\r\n',
    escape_formulas: true,
  });

/**
 * Writes the CSV of one content type's document versions to `out` and ends it; the documents
 * are pulled only as fast as `out` takes the text. On failure `out` is destroyed with the error
 * and the promise rejects.
 */
export const writeCsvExport = async ({ model, documents }: CsvExportInput, out: Writable): Promise<ExportResult> => {
  let count = 0;
  let bytes = 0;
  async function* rows(): AsyncGenerator<Cell[]> {
    yield csvColumns(model);
    for await (const document of documents) {
      if (document.uid !== model.uid) throw new Error(`CSV export of ${model.uid}: a document of ${document.uid} came in (${document.documentId})`);
      count += 1;
      yield csvRow(model, document);
    }
  }
  const counter = new PassThrough();
  counter.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  await pipeline(Readable.from(rows()), stringifier(), counter, out);
  return { documents: count, bytes };
};

export interface CsvZipType {
  model: ModelDescription;
  /** Called when this type's file is written (one type's documents are read at a time). */
  documents: () => AsyncIterable<DocumentVersion> | Iterable<DocumentVersion>;
}

/** The zip entry name of a type's CSV: `contract.csv` from `api::contract.contract`, or the whole uid when two types share a name. */
export const csvEntryNames = (uids: string[]): string[] => {
  const short = (uid: string) => uid.slice(uid.lastIndexOf('.') + 1);
  const safe = (name: string) => name.replace(/[^A-Za-z0-9._-]+/g, '_');
  const counts = new Map<string, number>();
  for (const uid of uids) counts.set(short(uid), (counts.get(short(uid)) ?? 0) + 1);
  return uids.map((uid) => `${safe(counts.get(short(uid)) === 1 ? short(uid) : uid)}.csv`);
};

export interface CsvZipResult {
  files: { uid: string; name: string; documents: number }[];
  bytes: number;
}

/**
 * A zip of one CSV per content type (names from csvEntryNames), streamed to `out`, which it
 * ends. The types are written one after the other: a type's documents are read only once the
 * previous file is in the zip. On failure `out` is destroyed with the error and the promise
 * rejects.
 */
export const writeCsvZip = async (types: CsvZipType[], out: Writable): Promise<CsvZipResult> => {
  const archive = archiver('zip', { zlib: { level: 6 } });
  const names = csvEntryNames(types.map((type) => type.model.uid));
  const files: CsvZipResult['files'] = [];
  let bytes = 0;
  archive.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  const written = pipeline(archive, out);
  // A failure of the zip or of `out` ends the wait for an entry too. The promises a failure
  // leaves behind (the race not awaited, the loser) are marked handled: the failure is thrown
  // once, by this function.
  const failed = new Promise<never>((_, reject) => {
    written.catch(reject);
  });
  failed.catch(() => undefined);
  const orFailure = <T>(promise: Promise<T>) => {
    promise.catch(() => undefined);
    const raced = Promise.race([promise, failed]);
    raced.catch(() => undefined);
    return raced;
  };
  try {
    for (const [index, type] of types.entries()) {
      const entry = new PassThrough();
      // archiver pipes an entry without listening for its errors: a failure of this type's
      // CSV is reported by writeCsvExport's promise, below, not by an uncaught 'error'.
      entry.on('error', () => undefined);
      const added = orFailure(once(archive, 'entry'));
      archive.append(entry, { name: names[index] });
      const result = await orFailure(writeCsvExport({ model: type.model, documents: type.documents() }, entry));
      await added;
      files.push({ uid: type.model.uid, name: names[index], documents: result.documents });
    }
    await orFailure(archive.finalize());
    await written;
  } catch (error) {
    written.catch(() => undefined);
    // The failure is this promise's; the zip and its entry may still emit it once the pipeline
    // has let go of them, where no listener would make it an uncaught exception.
    archive.on('error', () => undefined);
    archive.abort();
    out.destroy(error as Error);
    throw error;
  }
  return { files, bytes };
};
