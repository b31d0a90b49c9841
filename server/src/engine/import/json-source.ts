import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

import { parser } from 'stream-json';
import { z } from 'zod';

import { EngineError, type EngineErrorCode } from '../errors';
import {
  JSON_EXPORT_FORMAT,
  JSON_EXPORT_FORMAT_VERSION,
  type ExportedAttribute,
  type ExportedContentType,
  type JsonExportHeader,
} from '../export/format';
import { versionKey, type DocumentVersion } from './types';

/**
 * Reads a JSON export (engine/export/format.ts) back as an import source: the header, then the
 * document versions one at a time, streamed (stream-json's tokenizer; a document is assembled,
 * checked and handed on before the next one is read), so the file may be far larger than memory.
 *
 * The file is untrusted input: it is checked with zod (format, format version, header, each
 * document's shape against its content type's attributes), every error names the path of the
 * bad value (`documents[12].fields.amount`) and the document (type, documentId, locale, version),
 * and caps bound what it can make us hold or do (JSON_SOURCE_LIMITS).
 *
 * Speed: stream-json's tokenizer reads ~10–15 MB/s on this kind of machine (2 vCPUs), and the
 * assembly and checks add about a third: 20,000 contract versions (20 MB) in ~2.5 s, so a JSON
 * export of the M bench dataset (~200k versions) in about half a minute. JSON.parse per line
 * would be faster on the writer's one-document-per-line layout, but would reject the same
 * JSON laid out otherwise (pretty-printed by another tool); one tokenizer reads both.
 */

export const JSON_SOURCE_LIMITS = {
  /** Document versions in one file: the M bench dataset has ~200k. */
  maxDocuments: 2_000_000,
  /**
   * Bytes of one document as written (with its components): a document written through
   * Strapi's API came in a JSON body of at most 1 MB by default; the archive's own cap on a row.
   */
  maxDocumentBytes: 16 * 1024 * 1024,
  /** Bytes of everything but the documents (the content type descriptions). */
  maxHeaderBytes: 16 * 1024 * 1024,
  /** Nesting of objects and arrays in one value (components in components, blocks). */
  maxDepth: 64,
  /** Content types described in the header. */
  maxContentTypes: 2_000,
};

export type JsonSourceLimits = typeof JSON_SOURCE_LIMITS;

/** How many bytes a reader may be past a value's start before its size is checked (one read). */
const READ_CHUNK = 64 * 1024;

const fail = (code: EngineErrorCode, message: string, details?: Record<string, unknown>): never => {
  throw new EngineError(code, message, details);
};

// ---------------------------------------------------------------------------------------------
// Detection

/**
 * Whether a file is (meant to be) a JSON export: its first byte, after a UTF-8 byte order mark
 * and white space, is `{`. An archive starts with `PK` (zip) or `PACTAGCM` (encrypted), so the
 * two never mix up; a JSON file that is not an export is then rejected by openJsonExport's
 * checks with a clear message rather than by the zip reader with an obscure one.
 */
export const isJsonExport = async (filePath: string): Promise<boolean> => {
  const handle = await open(filePath, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    let i = 0;
    if (bytesRead >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) i = 3;
    while (i < bytesRead && (buffer[i] === 0x20 || buffer[i] === 0x09 || buffer[i] === 0x0a || buffer[i] === 0x0d)) i += 1;
    return i < bytesRead && buffer[i] === 0x7b;
  } finally {
    await handle.close();
  }
};

// ---------------------------------------------------------------------------------------------
// Tokens → values

interface Token {
  name: string;
  value?: string | boolean | null;
}

/** Roughly the bytes a token stands for in the file (escapes not counted twice). */
const tokenBytes = (token: Token) => {
  switch (token.name) {
    case 'keyValue':
      return String(token.value).length + 4;
    case 'stringValue':
      return String(token.value).length + 3;
    case 'numberValue':
      return String(token.value).length + 1;
    case 'nullValue':
    case 'trueValue':
      return 5;
    case 'falseValue':
      return 6;
    default:
      return 1;
  }
};

/**
 * Builds one JSON value from the tokens (keep) or only follows its nesting (skip), counting
 * its bytes and depth against the caps.
 */
class ValueBuilder {
  private readonly stack: unknown[] = [];
  private readonly keys: (string | null)[] = [];
  private key: string | null = null;
  value: unknown = undefined;
  done = false;
  bytes = 0;

  constructor(
    private readonly keep: boolean,
    private readonly maxBytes: number,
    private readonly maxDepth: number,
    private readonly what: () => string
  ) {}

  consume(token: Token) {
    this.bytes += tokenBytes(token);
    if (this.bytes > this.maxBytes) this.tooLarge();
    switch (token.name) {
      case 'startObject':
      case 'startArray':
        if (this.stack.length >= this.maxDepth) {
          fail('TOO_LARGE', `${this.what()} is nested deeper than ${this.maxDepth} levels`, { limit: this.maxDepth });
        }
        this.stack.push(this.keep ? (token.name === 'startObject' ? {} : []) : null);
        this.keys.push(this.key);
        this.key = null;
        return;
      case 'endObject':
      case 'endArray': {
        const container = this.stack.pop();
        this.key = this.keys.pop() ?? null;
        this.add(container);
        return;
      }
      case 'keyValue':
        this.key = String(token.value);
        return;
      case 'stringValue':
        this.add(token.value);
        return;
      case 'numberValue':
        this.add(this.keep ? Number(token.value) : null);
        return;
      case 'nullValue':
        this.add(null);
        return;
      case 'trueValue':
        this.add(true);
        return;
      case 'falseValue':
        this.add(false);
        return;
      default:
      // startString, stringChunk, … are not asked for (streamValues: false).
    }
  }

  /** `position`: the bytes of the file read when it was cut off (before the value ended). */
  tooLarge(details: { position?: number } = {}): never {
    return fail('TOO_LARGE', `${this.what()} is larger than the limit of ${this.maxBytes} bytes`, { limit: this.maxBytes, ...details });
  }

  private add(value: unknown) {
    if (this.stack.length === 0) {
      this.value = value;
      this.done = true;
      return;
    }
    if (!this.keep) return;
    const top = this.stack[this.stack.length - 1];
    if (Array.isArray(top)) top.push(value);
    else if (this.key === '__proto__') {
      // As JSON.parse does: an own property, never the prototype.
      Object.defineProperty(top, this.key, { value, enumerable: true, writable: true, configurable: true });
    } else (top as Record<string, unknown>)[this.key as string] = value;
  }
}

const HEADER_KEYS = ['format', 'formatVersion', 'exportedAt', 'backup', 'contentTypes'] as const;
type HeaderKey = (typeof HEADER_KEYS)[number];

type Item =
  | { kind: 'header'; key: HeaderKey; value: unknown }
  | { kind: 'documents' }
  | { kind: 'document'; index: number; value: unknown }
  | { kind: 'end'; documents: number };

/**
 * Follows the export's top-level object: header values (built in 'header' mode, skipped in
 * 'documents' mode), the documents array's elements (skipped / built). Throws on anything that
 * is not the export's shape.
 */
class ExportWalker {
  private state: 'start' | 'key' | 'value' | 'documentsStart' | 'documents' | 'document' | 'end' = 'start';
  private current: ValueBuilder | null = null;
  private currentKey: HeaderKey | null = null;
  private currentStart = 0;
  private readonly seen = new Set<string>();
  private headerBytes = 0;
  documents = 0;

  constructor(
    private readonly mode: 'header' | 'documents',
    private readonly limits: JsonSourceLimits
  ) {}

  /** Called with the bytes read so far: a value open for far longer than its cap is cut off early. */
  onBytes(position: number) {
    if (!this.current) return;
    const limit = this.state === 'document' ? this.limits.maxDocumentBytes : this.limits.maxHeaderBytes - this.headerBytes;
    if (position - this.currentStart > limit + READ_CHUNK) this.current.tooLarge({ position });
  }

  consume(token: Token, position: number, out: Item[]) {
    switch (this.state) {
      case 'start':
        if (token.name !== 'startObject') fail('NOT_AN_ARCHIVE', 'not a PACTA documents export: the file is not a JSON object');
        this.state = 'key';
        return;
      case 'key': {
        if (token.name === 'endObject') {
          this.state = 'end';
          out.push({ kind: 'end', documents: this.documents });
          return;
        }
        const key = String(token.value);
        if (key !== 'documents' && !(HEADER_KEYS as readonly string[]).includes(key)) {
          fail('BAD_MANIFEST', `JSON export: unexpected key ${JSON.stringify(key.slice(0, 64))} at the top level (expected ${[...HEADER_KEYS, 'documents'].join(', ')})`, { path: key.slice(0, 64) });
        }
        if (this.seen.has(key)) fail('BAD_MANIFEST', `JSON export: the key "${key}" appears twice at the top level`, { path: key });
        this.seen.add(key);
        if (key === 'documents') {
          this.state = 'documentsStart';
          return;
        }
        this.currentKey = key as HeaderKey;
        this.currentStart = position;
        const remaining = this.limits.maxHeaderBytes - this.headerBytes;
        this.current = new ValueBuilder(this.mode === 'header', remaining, this.limits.maxDepth, () => `JSON export: the header (${key})`);
        this.state = 'value';
        return;
      }
      case 'value': {
        const builder = this.current as ValueBuilder;
        builder.consume(token);
        if (builder.done) {
          this.headerBytes += builder.bytes;
          out.push({ kind: 'header', key: this.currentKey as HeaderKey, value: builder.value });
          this.current = null;
          this.state = 'key';
        }
        return;
      }
      case 'documentsStart':
        if (token.name !== 'startArray') fail('BAD_MANIFEST', 'JSON export: "documents" must be an array', { path: 'documents' });
        this.state = 'documents';
        out.push({ kind: 'documents' });
        return;
      case 'documents':
        if (token.name === 'endArray') {
          this.state = 'key';
          return;
        }
        if (token.name !== 'startObject') {
          fail('BAD_ROWS', `JSON export: documents[${this.documents}] is not an object`, { path: `documents[${this.documents}]`, index: this.documents });
        }
        if (this.documents >= this.limits.maxDocuments) {
          fail('TOO_LARGE', `JSON export: more than ${this.limits.maxDocuments} documents`, { limit: this.limits.maxDocuments });
        }
        {
          const index = this.documents;
          this.current = new ValueBuilder(this.mode === 'documents', this.limits.maxDocumentBytes, this.limits.maxDepth, () => `JSON export: documents[${index}]`);
          this.currentStart = position;
          this.state = 'document';
          this.current.consume(token);
        }
        return;
      case 'document': {
        const builder = this.current as ValueBuilder;
        builder.consume(token);
        if (builder.done) {
          out.push({ kind: 'document', index: this.documents, value: builder.value });
          this.documents += 1;
          this.current = null;
          this.state = 'documents';
        }
        return;
      }
      default:
        fail('BAD_ENTRY', 'JSON export: content after the end of the JSON object');
    }
  }

  /** At the end of the input. */
  finish() {
    if (this.state !== 'end') fail('TRUNCATED', 'JSON export: the file ends before the JSON object does (a truncated file or upload?)');
    if (!this.seen.has('documents')) fail('BAD_MANIFEST', 'JSON export: no "documents" array', { path: 'documents' });
  }
}

/**
 * The items of a JSON export, in batches, read with back-pressure: the tokenizer is paused while
 * a batch waits to be taken, and the file is read only as fast as the tokenizer takes it. The
 * file is closed when the caller stops iterating.
 *
 * The chunks are handed to the tokenizer here rather than piped, so that a failure can be told
 * apart: a chunk that is not JSON (BAD_ENTRY, with about where), or a file that ends inside the
 * JSON (TRUNCATED: the tokenizer only fails once told the input is over).
 */
async function* readItems(filePath: string, mode: 'header' | 'documents', limits: JsonSourceLimits): AsyncGenerator<Item[]> {
  const input = createReadStream(filePath, { highWaterMark: READ_CHUNK });
  const tokens = parser({ streamValues: false });
  const walker = new ExportWalker(mode, limits);
  let position = 0;
  let atEnd = false;
  let queue: Item[] = [];
  let error: unknown = null;
  let ended = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  const stop = (reason: unknown) => {
    error ??= reason;
    input.destroy();
    tokens.destroy();
    notify();
  };
  const parseError = (cause: Error) =>
    atEnd
      ? new EngineError('TRUNCATED', 'JSON export: the file ends in the middle of the JSON (a truncated file or upload?)', { position })
      : new EngineError('BAD_ENTRY', `JSON export: not valid JSON at or before byte ${position} (${cause.message})`, { position });
  tokens.on('data', (token: Token) => {
    if (error) return;
    try {
      walker.consume(token, position, queue);
    } catch (cause) {
      stop(cause);
      return;
    }
    if (queue.length >= 64) tokens.pause();
    notify();
  });
  tokens.on('error', (cause: Error) => stop(parseError(cause)));
  tokens.on('end', () => {
    ended = true;
    notify();
  });
  const pump = async () => {
    try {
      for await (const chunk of input) {
        if (error) return;
        position += (chunk as Buffer).length;
        walker.onBytes(position);
        await new Promise<void>((resolve, reject) => {
          tokens.write(chunk, (cause) => (cause ? reject(cause) : resolve()));
        });
      }
      atEnd = true;
      tokens.end();
    } catch (cause) {
      if (cause instanceof EngineError) stop(cause);
      else if (!error && (cause as NodeJS.ErrnoException).code !== 'ERR_STREAM_DESTROYED' && input.errored) {
        stop(new EngineError('BAD_ENTRY', `JSON export: cannot read the file (${(cause as Error).message})`));
      } else stop(parseError(cause as Error));
    }
  };
  void pump();
  try {
    for (;;) {
      if (queue.length) {
        const batch = queue;
        queue = [];
        if (!error) tokens.resume();
        yield batch;
        continue;
      }
      if (error) throw error;
      if (ended) {
        walker.finish();
        return;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    input.destroy();
    tokens.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Schemas

const isoDate = z
  .string()
  .max(64)
  .refine((text) => !Number.isNaN(Date.parse(text)), 'must be an ISO date');
const uidSchema = z.string().regex(/^[A-Za-z0-9_-]+::[A-Za-z0-9_.-]+$/, 'must be a uid like api::contract.contract');
/** No `|` (the separator of version keys), no white space or control character. */
const documentIdSchema = z.string().regex(/^[^|\s\p{Cc}]{1,255}$/u, 'must be a documentId');
const localeSchema = z.string().regex(/^[A-Za-z0-9_-]{1,35}$/, 'must be a locale code');
const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex');
const attributeKind = z.enum(['scalar', 'component', 'dynamiczone', 'relation', 'media']);

const attributeSchema = z.strictObject({
  name: z.string().min(1).max(255),
  kind: attributeKind,
  type: z.string().min(1).max(64),
  many: z.boolean().optional(),
  target: z.string().max(255).optional(),
  components: z.array(z.string().max(255)).max(1000).optional(),
});

const contentTypeSchema = z
  .strictObject({
    uid: uidSchema,
    displayName: z.string().max(255),
    kind: z.enum(['collectionType', 'singleType', 'component']).optional(),
    draftAndPublish: z.boolean().optional(),
    localized: z.boolean().optional(),
    attributes: z.array(attributeSchema).max(1000),
  })
  .superRefine((type, context) => {
    const names = new Set<string>();
    type.attributes.forEach((attribute, index) => {
      if (names.has(attribute.name)) context.addIssue({ code: 'custom', path: ['attributes', index, 'name'], message: `attribute "${attribute.name}" is listed twice` });
      names.add(attribute.name);
    });
  });

const headerSchema = z.strictObject({
  format: z.literal(JSON_EXPORT_FORMAT),
  formatVersion: z.literal(JSON_EXPORT_FORMAT_VERSION),
  exportedAt: isoDate,
  backup: z.strictObject({ id: z.string().min(1).max(255), createdAt: isoDate.nullable() }),
  contentTypes: z
    .array(contentTypeSchema)
    .max(JSON_SOURCE_LIMITS.maxContentTypes)
    .superRefine((types, context) => {
      const uids = new Set<string>();
      types.forEach((type, index) => {
        if (uids.has(type.uid)) context.addIssue({ code: 'custom', path: [index, 'uid'], message: `content type ${type.uid} is listed twice` });
        uids.add(type.uid);
      });
    }),
});

const either = <A extends z.ZodType, B extends z.ZodType>(many: boolean | undefined, one: A, list: B) =>
  many === true ? list : many === false ? one : z.union([one, list]);

/** What a field of an attribute may hold (types.ts: FieldValue). */
const fieldSchema = (attribute: ExportedAttribute): z.ZodType => {
  switch (attribute.kind) {
    case 'relation':
      return either(attribute.many, documentIdSchema.nullable(), z.array(documentIdSchema).nullable());
    case 'media':
      return either(attribute.many, sha256Schema.nullable(), z.array(sha256Schema).nullable());
    case 'component': {
      const component = z.record(z.string(), z.unknown());
      return either(attribute.many, component.nullable(), z.array(component).nullable());
    }
    case 'dynamiczone': {
      const allowed = attribute.components;
      return z
        .array(
          z.looseObject({
            __component: z
              .string()
              .min(1)
              .refine((uid) => !allowed || allowed.includes(uid), { message: `must be one of the dynamic zone's components (${(allowed ?? []).join(', ')})` }),
          })
        )
        .nullable();
    }
    default:
      return z.unknown();
  }
};

const documentSchemaFor = (type: ExportedContentType) =>
  z.strictObject({
    uid: z.literal(type.uid),
    documentId: documentIdSchema,
    locale: type.localized === false ? z.null() : type.localized === true ? localeSchema : localeSchema.nullable(),
    published: z.boolean(),
    fields: z.strictObject(Object.fromEntries(type.attributes.map((attribute) => [attribute.name, fieldSchema(attribute).optional()]))),
    meta: z.strictObject({ createdAt: isoDate.nullable(), updatedAt: isoDate.nullable(), publishedAt: isoDate.nullable() }),
  });

const issuePath = (base: string, path: readonly PropertyKey[]) =>
  path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : `${text}.${String(part)}`), base);

const describeIssues = (base: string, error: z.ZodError) => {
  const issues = error.issues.slice(0, 5).map((issue) => `${issuePath(base, issue.path)}: ${issue.message}`);
  if (error.issues.length > 5) issues.push(`and ${error.issues.length - 5} more`);
  return { text: issues.join('; '), path: issuePath(base, error.issues[0]?.path ?? []) };
};

// ---------------------------------------------------------------------------------------------
// The source

export interface JsonSource {
  header: JsonExportHeader;
  contentTypes: ExportedContentType[];
  /** Every document version, in the file's order; each iteration reads the file anew. */
  documents: AsyncIterable<DocumentVersion>;
  /** The document versions of these content types only. */
  documentsOf(uids: string[]): AsyncIterable<DocumentVersion>;
  /** Reads every document once (all checks), and counts them per content type. */
  check(): Promise<{ documents: number; perType: Record<string, number> }>;
}

export interface JsonSourceOptions {
  limits?: Partial<JsonSourceLimits>;
}

const readHeader = async (filePath: string, limits: JsonSourceLimits): Promise<JsonExportHeader> => {
  const values: Partial<Record<HeaderKey, unknown>> = {};
  let sawDocuments = false;
  outer: for await (const batch of readItems(filePath, 'header', limits)) {
    for (const item of batch) {
      if (item.kind === 'header') {
        values[item.key] = item.value;
        // Said first: a JSON file of another kind is told so, not listed its missing keys.
        if (item.key === 'format' && item.value !== JSON_EXPORT_FORMAT) {
          fail('NOT_AN_ARCHIVE', `not a PACTA documents export: its format is ${JSON.stringify(item.value)?.slice(0, 80)}, not "${JSON_EXPORT_FORMAT}"`, { path: 'format' });
        }
      } else if (item.kind === 'documents') {
        sawDocuments = true;
        // The header came first (as written): no need to read on.
        if (HEADER_KEYS.every((key) => key in values)) break outer;
      }
    }
  }
  if (!('format' in values)) fail('NOT_AN_ARCHIVE', `not a PACTA documents export: no "format": "${JSON_EXPORT_FORMAT}"`, { path: 'format' });
  if (typeof values.formatVersion === 'number' && values.formatVersion !== JSON_EXPORT_FORMAT_VERSION) {
    fail('BAD_MANIFEST', `JSON export of format version ${values.formatVersion}: this version of the plugin reads version ${JSON_EXPORT_FORMAT_VERSION}`, { path: 'formatVersion' });
  }
  if (!sawDocuments) fail('BAD_MANIFEST', 'JSON export: no "documents" array', { path: 'documents' });
  const parsed = headerSchema.safeParse(values);
  if (!parsed.success) {
    const { text, path } = describeIssues('', parsed.error);
    fail('BAD_MANIFEST', `JSON export: invalid header: ${text.replace(/^\./, '').replace(/; \./g, '; ')}`, { path: path.replace(/^\./, '') });
  }
  return (parsed as { data: JsonExportHeader }).data;
};

/**
 * Opens a JSON export: reads and checks its header (stops reading at the documents when the
 * header comes first, as the writer writes it), and returns it with the documents, which are
 * read and checked as they are iterated. Every failure is an EngineError: NOT_AN_ARCHIVE (not
 * an export), BAD_MANIFEST (header, format version), BAD_ENTRY (not JSON), TRUNCATED, BAD_ROWS
 * (a document: the message and details.path name it), TOO_LARGE (a cap).
 */
export const openJsonExport = async (filePath: string, options: JsonSourceOptions = {}): Promise<JsonSource> => {
  const limits: JsonSourceLimits = { ...JSON_SOURCE_LIMITS, ...options.limits };
  const header = await readHeader(filePath, limits);
  const schemas = new Map(header.contentTypes.map((type) => [type.uid, documentSchemaFor(type)]));

  async function* documents(uids: string[] | null): AsyncGenerator<DocumentVersion> {
    const keys = new Set<string>();
    for await (const batch of readItems(filePath, 'documents', limits)) {
      for (const item of batch) {
        if (item.kind !== 'document') continue;
        const base = `documents[${item.index}]`;
        const value = item.value as Record<string, unknown>;
        const uid = typeof value.uid === 'string' ? value.uid : null;
        const identity = [uid, value.documentId, value.locale ?? undefined, value.published === true ? 'published' : value.published === false ? 'draft' : undefined]
          .filter((part) => typeof part === 'string')
          .map((part) => String(part).slice(0, 80))
          .join(' ');
        const schema = uid ? schemas.get(uid) : undefined;
        if (!schema) {
          fail('BAD_ROWS', `JSON export: ${base}.uid: ${uid ? `${uid.slice(0, 80)} is not one of the header's content types` : 'missing'}`, { path: `${base}.uid`, index: item.index });
        }
        const parsed = (schema as z.ZodType).safeParse(value);
        if (!parsed.success) {
          const { text, path } = describeIssues(base, parsed.error);
          fail('BAD_ROWS', `JSON export: ${base} (${identity}): ${text}`, { path, index: item.index });
        }
        const document = (parsed as { data: DocumentVersion }).data;
        const key = versionKey(document);
        if (keys.has(key)) fail('BAD_ROWS', `JSON export: ${base} (${identity}) appears twice`, { path: base, index: item.index });
        keys.add(key);
        if (!uids || uids.includes(document.uid)) yield document;
      }
    }
  }

  return {
    header,
    contentTypes: header.contentTypes,
    documents: { [Symbol.asyncIterator]: () => documents(null) },
    documentsOf: (uids) => ({ [Symbol.asyncIterator]: () => documents(uids) }),
    check: async () => {
      const perType: Record<string, number> = Object.fromEntries(header.contentTypes.map((type) => [type.uid, 0]));
      let count = 0;
      for await (const document of documents(null)) {
        perType[document.uid] += 1;
        count += 1;
      }
      return { documents: count, perType };
    },
  };
};
