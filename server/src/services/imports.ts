import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';

import type { Core } from '@strapi/strapi';
import { errors } from '@strapi/utils';
import type { Knex } from 'knex';

import type { JobTrigger } from '../contracts/backups';
import type {
  ApplyBody,
  CompatibilityEntry,
  DocumentDiff,
  DocumentPage,
  DocumentState,
  ImportPreview,
  ImportReport,
  ImportSource,
  PreviewBody,
  ValidationCheck,
} from '../contracts/imports';
import { openArchive, type OpenedArchive } from '../engine/archive';
import { sha256OfFile as hashFile } from '../engine/backup';
import { EngineError, type EngineErrorCode } from '../engine/errors';
import { assertUnchanged, runImportApply, type ArchiveFile } from '../engine/import/apply';
import { compareVersions } from '../engine/import/compare';
import { runPreview } from '../engine/import/preview';
import { createReader, type CellReader, type MediaHasher } from '../engine/import/reader';
import { loadTables, openSqlite, reopenTables, scratchKnex } from '../engine/import/scratch';
import { isJsonExport, openJsonExport, type JsonSource } from '../engine/import/json-source';
import { openStore, toPreviewDocument, type PreviewStore } from '../engine/import/store';
import { parseVersionKey, type ContentModel, type DocumentVersion } from '../engine/import/types';
import { MEDIA_INDEX_ENTRY, type Manifest, type ManifestTable, type MediaFile } from '../engine/manifest';
import { localFilesOf } from '../engine/media';
import { fromNdjson } from '../engine/ndjson';
import { toCanonical, type Dialect } from '../engine/values';
import { getService } from '../utils';

/**
 * Import with preview and merge, as the admin API and the CLI see it. A preview job validates
 * the source, loads the archive's documents into the preview's own SQLite files (under the
 * storage folder, `.imports/previews/<id>/`), compares them with this app's and stores every
 * decision; the apply job writes them in one transaction after a safety backup. The engine
 * (engine/import/) knows no Strapi; this service gives it the app's model, database and files.
 */

export class StalePreviewError extends Error {
  readonly code = 'STALE_PREVIEW';
  constructor(message: string) {
    super(message);
    this.name = 'StalePreviewError';
  }
}

type FileSource = { file: string };
type AnySource = ImportSource | FileSource;

interface SavedPreview extends ImportPreview {
  internal: {
    path: string;
    kind: 'archive' | 'json';
    /** Size and modification time of the source when previewed. */
    stamp: string;
    types: string[];
    match: Record<string, string>;
    encrypted: boolean;
  };
}

const ID = /^[0-9A-Za-z-]+$/;

/** A JSON export's attribute in the words of the manifest's `attributes` (scope.attributeTypes). */
const exportedType = (a: { kind: string; type: string; many?: boolean; target?: string; components?: string[] }) =>
  a.kind === 'component'
    ? `component:${a.target ?? a.components?.[0]}${a.many ? '[]' : ''}`
    : a.kind === 'relation'
      ? `relation:${a.target}`
      : a.kind === 'media'
        ? `media${a.many ? '[]' : ''}`
        : a.type;

const stampOf = async (file: string) => {
  const stat = await fs.promises.stat(file);
  return `${stat.size}:${stat.mtimeMs}`;
};
const PREVIEW_FILE = 'preview.json';
const STORE_FILE = 'documents.sqlite';
const INCOMING_FILE = 'incoming.sqlite';
const BASE_FILE = 'base.sqlite';
const LOG_FILE = 'import.log.ndjson';
const MAX_PAGE_SIZE = 100;
/** How long a preview can be reopened and applied. */
export const PREVIEW_TTL_MS = 7 * 24 * 3600 * 1000;

const newId = () => `${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-${randomBytes(3).toString('hex')}`;

/** The check an engine error fails. */
const checkOf = (code: string): ValidationCheck['id'] => {
  switch (code) {
    case 'NO_KEY':
    case 'WRONG_KEY':
      return 'key';
    case 'BAD_MANIFEST':
    case 'MISSING_ENTRY':
      return 'manifest';
    case 'CHECKSUM':
    case 'TAMPERED':
    case 'TRUNCATED':
    case 'BAD_ROWS':
      return 'checksums';
    case 'SCHEMA_MISMATCH':
      return 'compatibility';
    default:
      return 'structure';
  }
};

const CHECK_ORDER: Array<ValidationCheck['id']> = ['structure', 'manifest', 'format', 'key', 'checksums', 'compatibility'];

const createImportsService = ({ strapi }: { strapi: Core.Strapi }) => {
  const config = () => getService('config', { strapi });
  const backups = () => getService('backups', { strapi });
  const scope = () => getService('scope', { strapi });
  const dialect = () => strapi.db.dialect.client as Dialect;
  const publicDir = () => strapi.dirs.static.public;
  const root = () => path.join(config().storageFolder(), '.imports', 'previews');
  const dirOf = (id: string) => {
    if (!ID.test(id)) throw new errors.NotFoundError(`No import preview ${id}`);
    return path.join(root(), id);
  };

  const readSaved = async (id: string): Promise<SavedPreview> => {
    const text = await fs.promises.readFile(path.join(dirOf(id), PREVIEW_FILE), 'utf8').catch(() => null);
    if (!text) throw new errors.NotFoundError(`No import preview ${id}`);
    return JSON.parse(text) as SavedPreview;
  };
  const save = async (preview: SavedPreview) => {
    const file = path.join(dirOf(preview.id), PREVIEW_FILE);
    await fs.promises.writeFile(`${file}.tmp`, JSON.stringify(preview), { mode: 0o600 });
    await fs.promises.rename(`${file}.tmp`, file);
  };
  const publicView = ({ internal: _internal, ...preview }: SavedPreview): ImportPreview => preview;

  // --- This app's side -----------------------------------------------------------------------

  /** SHA-256 of local files, remembered by path, size and modification time. */
  const hashes = new Map<string, { size: number; mtimeMs: number; sha256: string }>();
  const sha256OfFile = async (relative: string) => {
    const file = path.join(publicDir(), relative);
    const stat = await fs.promises.stat(file).catch(() => null);
    if (!stat?.isFile()) return null;
    const known = hashes.get(relative);
    if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs) return known.sha256;
    const sha256 = await hashFile(file);
    hashes.set(relative, { size: stat.size, mtimeMs: stat.mtimeMs, sha256 });
    return sha256;
  };
  const liveHasher: MediaHasher = async (files) => {
    const out = new Map<number, string | null>();
    for (const file of files) {
      const [main] = localFilesOf({ url: file.url, provider: file.provider });
      out.set(file.id, main ? await sha256OfFile(main) : null);
    }
    return out;
  };
  /** Every file here by SHA-256 (the first row with that content). */
  const liveMedia = async (db: Knex | Knex.Transaction = strapi.db.connection) => {
    const rows = (await db('files').select(['id', 'url', 'provider']).orderBy('id')) as Array<{ id: number; url: string; provider: string }>;
    const hashed = await liveHasher(rows.map((r) => ({ id: Number(r.id), url: r.url, provider: r.provider })));
    const out = new Map<string, number>();
    for (const [id, sha] of hashed) if (sha && !out.has(sha)) out.set(sha, id);
    return out;
  };

  const liveSchema = async () => {
    const schema = await scope().targetSchema();
    const columns = new Map([...schema.tables].map(([table, cols]) => [table, new Map(cols.map((c) => [c.name, c.type]))]));
    return columns;
  };
  const liveReader = (db: Knex | Knex.Transaction, model: ContentModel, columns: Map<string, Map<string, string>>) =>
    createReader({
      db,
      model,
      cell: (table, column, raw) => toCanonical(raw, columns.get(table)?.get(column) ?? 'string', dialect()),
      mediaHash: liveHasher,
      tables: new Set(columns.keys()),
      columns: new Map([...columns].map(([t, c]) => [t, new Set(c.keys())])),
    });

  // --- An archive's side ---------------------------------------------------------------------

  /** The tables documents of `model` live in. */
  const tablesOf = (model: ContentModel) => {
    const out = new Set<string>(['files', 'files_related_mph']);
    for (const desc of model.values()) {
      out.add(desc.table);
      if (desc.componentTable) out.add(desc.componentTable);
      for (const a of desc.attributes) if (a.joinTable) out.add(a.joinTable.name);
    }
    return out;
  };

  /** The archive's tables of `wanted`, and the identities of the tables it links to without holding them. */
  const archiveTables = (archive: OpenedArchive, wanted: Set<string>): ManifestTable[] => {
    const tables = archive.manifest.tables.filter((t) => wanted.has(t.name) && t.group === 'content');
    const held = new Set(tables.map((t) => t.name));
    const references = (archive.manifest.references ?? [])
      .filter((r) => wanted.has(r.name) && !held.has(r.name))
      .map((r) => ({ ...r, group: 'content' as const, owner: r.name, nextId: null, mode: 'replace' as const, filter: null }));
    return [...tables, ...references];
  };

  const mediaIndex = async (archive: OpenedArchive) => {
    const byPath = new Map<string, string>();
    if (!archive.manifest.media.included || !archive.manifest.entries.some((e) => e.path === MEDIA_INDEX_ENTRY)) return byPath;
    for await (const line of fromNdjson(archive.open(MEDIA_INDEX_ENTRY))) {
      const file = line as unknown as MediaFile;
      byPath.set(file.path, file.sha256);
    }
    return byPath;
  };

  /** An archive's tables in a scratch file, and a reader over them. */
  const loadArchive = async (archive: OpenedArchive, model: ContentModel, file: string, onTable?: (done: number, total: number) => void) => {
    await fs.promises.rm(file, { force: true });
    const wanted = tablesOf(model);
    const tables = archiveTables(archive, wanted);
    const db = openSqlite(file);
    let loaded: Awaited<ReturnType<typeof loadTables>>;
    try {
      loaded = await loadTables(archive, db, tables, onTable);
    } finally {
      db.close();
    }
    const index = await mediaIndex(archive);
    return { ...loaded, index, knex: scratchKnex(file), tables, mediaIncluded: archive.manifest.media.included };
  };

  const archiveReader = (
    side: { knex: Knex; cell: CellReader; types: Map<string, Map<string, string>>; index: Map<string, string>; mediaIncluded?: boolean },
    model: ContentModel
  ) =>
    createReader({
      mediaKnown: side.mediaIncluded !== false,
      db: side.knex,
      model,
      cell: side.cell,
      mediaHash: async (files) => {
        const out = new Map<number, string | null>();
        for (const f of files) {
          const [main] = localFilesOf({ url: f.url, provider: f.provider });
          out.set(f.id, main ? (side.index.get(main) ?? null) : null);
        }
        return out;
      },
      tables: new Set(side.types.keys()),
      columns: new Map([...side.types].map(([t, c]) => [t, new Set(c.keys())])),
    });

  /** The files an archive brings, by the SHA-256 of each row's main file. */
  const archiveFiles = async (side: { knex: Knex; cell: CellReader; types: Map<string, Map<string, string>>; index: Map<string, string> }) => {
    const out = new Map<string, ArchiveFile>();
    if (!side.types.has('files')) return out;
    const columns = [...side.types.get('files')!.keys()];
    for (const raw of (await side.knex('files').select('*').orderBy('id')) as Array<Record<string, unknown>>) {
      const row = Object.fromEntries(columns.map((c) => [c, side.cell('files', c, raw[c])]));
      const paths = localFilesOf(row);
      const main = paths[0] && side.index.get(paths[0]);
      if (!main || out.has(main)) continue;
      const known = paths.filter((p) => side.index.has(p)).map((p) => ({ path: p, sha256: side.index.get(p)! }));
      out.set(main, { row, paths: known });
    }
    return out;
  };

  // --- Sources -------------------------------------------------------------------------------

  const sourcePath = async (source: AnySource): Promise<{ path: string; name: string; backupId: string | null }> => {
    if ('backupId' in source) {
      return { path: await backups().archivePath(source.backupId), name: `${source.backupId}.pacta.zip`, backupId: source.backupId };
    }
    if ('uploadId' in source) {
      const uploads = (strapi.plugin('pacta-backup').service('uploads') as { resolve(id: string): Promise<{ path: string; name: string }> } | undefined);
      if (!uploads) throw new errors.NotFoundError(`No upload ${source.uploadId}`);
      const found = await uploads.resolve(source.uploadId);
      return { path: found.path, name: found.name, backupId: null };
    }
    const stat = await fs.promises.stat(source.file).catch(() => null);
    if (!stat?.isFile()) throw new errors.NotFoundError(`No file ${source.file}`);
    return { path: path.resolve(source.file), name: path.basename(source.file), backupId: null };
  };

  /** Attribute-level differences of a content type between an archive and this app. */
  const compatibility = (contentTypes: Array<{ uid: string; displayName: string; attributes?: Record<string, string> }>): CompatibilityEntry[] => {
    const here = new Set(scope().selectable());
    return contentTypes.map((ct) => {
      if (!here.has(ct.uid)) return { uid: ct.uid, displayName: ct.displayName, status: 'missing', differences: [], skipped: true };
      const mine = scope().attributeTypes(ct.uid);
      const theirs = ct.attributes;
      if (!theirs) {
        // An archive from before attribute types were recorded: the attributes whose column the
        // archive lacks are read as absent (not a difference), the rest compared as values.
        return { uid: ct.uid, displayName: ct.displayName, status: 'compatible', differences: [], skipped: false };
      }
      const differences: CompatibilityEntry['differences'] = [];
      for (const [name, type] of Object.entries(theirs)) {
        if (!(name in mine)) differences.push({ attribute: name, kind: 'archive-only', archiveType: type });
        else if (mine[name] !== type) differences.push({ attribute: name, kind: 'type', archiveType: type, hereType: mine[name] });
      }
      for (const [name, type] of Object.entries(mine)) if (!(name in theirs)) differences.push({ attribute: name, kind: 'here-only', hereType: type });
      // Attributes only here are filled as Strapi would (empty or default): not a reason to stop.
      const status = differences.some((d) => d.kind !== 'here-only') ? 'different' : 'compatible';
      return { uid: ct.uid, displayName: ct.displayName, status, differences, skipped: false };
    });
  };

  const logLine = (id: string) => {
    const file = path.join(dirOf(id), LOG_FILE);
    return (event: Record<string, unknown>) => fs.appendFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), ...event })}\n`, { mode: 0o600 });
  };

  const closeAll = async (...knexes: Array<Knex | null | undefined>) => {
    for (const k of knexes) await k?.destroy().catch(() => undefined);
  };

  // --- The service ---------------------------------------------------------------------------

  const service = {
    root,

    async startPreview(body: Omit<PreviewBody, 'source'> & { source: AnySource }, { trigger = 'manual' }: { trigger?: JobTrigger } = {}) {
      const source = await sourcePath(body.source);
      const id = newId();
      return getService('jobs', { strapi }).start(
        'import-preview',
        async (context) => {
          const dir = dirOf(id);
          await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
          const log = logLine(id);
          const checks: ValidationCheck[] = [];
          const pass = (check: ValidationCheck['id'], message: string) => {
            checks.push({ id: check, ok: true, message });
            context.log(`check ${check}: ${message}`);
          };
          const fail = (error: unknown): never => {
            const err = error as Error & { code?: string };
            const code = (error instanceof EngineError ? error.code : err.code) ?? 'FAILED';
            const check = checkOf(code);
            // The checks before the failing one passed; the failing one says why.
            for (const earlier of CHECK_ORDER.slice(0, CHECK_ORDER.indexOf(check))) {
              if (!checks.some((c) => c.id === earlier)) checks.push({ id: earlier, ok: true, message: 'passed' });
            }
            checks.push({ id: check, ok: false, message: err.message });
            log({ event: 'failed', check, code, message: err.message });
            const out = error instanceof EngineError ? error : new EngineError(code as EngineErrorCode, err.message);
            (out as unknown as { jobResult: unknown }).jobResult = { previewId: id, checks };
            throw out;
          };
          const passphrase = body.passphrase ?? backups().passphrase();
          let incomingKnex: Knex | null = null;
          let baseKnex: Knex | null = null;
          let store: PreviewStore | null = null;
          try {
            context.progress({ phase: 'validate' });
            log({ event: 'preview', source: source.name });
            // The source: an archive, or a JSON export (detected by its first bytes).
            const json = await isJsonExport(source.path).catch(() => false);
            let archive: OpenedArchive | null = null;
            let jsonSource: JsonSource | null = null;
            let manifest: Pick<Manifest, 'id' | 'createdAt' | 'lineage' | 'encryption'>;
            let compat: CompatibilityEntry[];
            if (json) {
              try {
                jsonSource = await openJsonExport(source.path);
              } catch (error) {
                return fail(error);
              }
              const { header } = jsonSource;
              pass('structure', 'a JSON export of documents');
              pass('manifest', `header valid: ${header.contentTypes.length} content types, exported ${header.exportedAt}`);
              pass('format', `${header.format} version ${header.formatVersion}`);
              pass('key', 'not encrypted (a JSON export)');
              let checked: { documents: number };
              try {
                checked = await jsonSource.check();
              } catch (error) {
                return fail(Object.assign(error as Error, { code: 'BAD_ROWS' }));
              }
              pass('checksums', `${checked.documents} documents read and checked against their content types (a JSON export has no checksums)`);
              manifest = { id: header.backup.id, createdAt: header.backup.createdAt ?? header.exportedAt, encryption: null };
              compat = compatibility(
                header.contentTypes.map((ct) => ({ uid: ct.uid, displayName: ct.displayName, attributes: Object.fromEntries(ct.attributes.map((a) => [a.name, exportedType(a)])) }))
              );
            } else {
              try {
                archive = await openArchive(source.path, { passphrase });
              } catch (error) {
                return fail(error);
              }
              const opened = archive;
              manifest = opened.manifest;
              pass('structure', 'a zip within the limits: safe entry names, no links, no duplicates');
              pass('manifest', `manifest valid: ${opened.manifest.entries.length} entries, ${opened.manifest.contentTypes.length} content types`);
              pass('format', `format ${opened.manifest.formatVersion}, written by plugin ${opened.manifest.plugin.version} on ${opened.manifest.database.client}`);
              pass('key', opened.manifest.encryption ? 'encrypted: the key is right and the manifest authentic' : 'not encrypted');
              let verified = 0;
              const total = opened.manifest.entries.length;
              const report = await opened.verify(() => context.progress({ phase: 'validate', done: ++verified, total }));
              if (!report.ok) {
                const bad = report.entries.find((e) => !e.ok)!;
                fail(new EngineError((bad.code as EngineErrorCode) ?? 'CHECKSUM', bad.error ?? `The archive entry ${bad.path} is damaged`));
              }
              pass('checksums', `${report.entries.length} entries match their SHA-256`);
              compat = compatibility(opened.manifest.contentTypes);
            }

            // By default the app's own content (api::): accounts (users-permissions users, with
            // their password hashes and roles of another instance) only when asked by name.
            const requested = body.contentTypes ?? compat.filter((c) => c.status !== 'missing' && c.uid.startsWith('api::')).map((c) => c.uid);
            const unknown = requested.filter((uid) => !compat.some((c) => c.uid === uid));
            if (unknown.length) fail(new EngineError('SCHEMA_MISMATCH', `The archive holds no ${unknown.join(', ')}`));
            for (const entry of compat) {
              entry.skipped = !requested.includes(entry.uid) || entry.status === 'missing' || (entry.status === 'different' && Boolean(body.skipIncompatible));
            }
            const blocking = compat.filter((c) => requested.includes(c.uid) && c.status === 'different' && !body.skipIncompatible);
            if (blocking.length) {
              const words = blocking.map((c) => `${c.displayName}: ${c.differences.filter((d) => d.kind !== 'here-only').map((d) => `${d.attribute} (${d.kind === 'type' ? `${d.archiveType} there, ${d.hereType} here` : 'not here'})`).join(', ')}`);
              const error = new EngineError('SCHEMA_MISMATCH', `The archive's schema differs from this app's: ${words.join('; ')}. Leave these content types out (skipIncompatible) or update the app first.`);
              checks.push({ id: 'compatibility', ok: false, message: error.message });
              (error as unknown as { jobResult: unknown }).jobResult = { previewId: id, checks, compatibility: compat };
              throw error;
            }
            const types = compat.filter((c) => !c.skipped).map((c) => c.uid);
            if (!types.length) fail(new EngineError('SCHEMA_MISMATCH', 'Nothing to import: no content type of the archive exists here'));
            pass('compatibility', `${types.length} content types to import${compat.some((c) => c.skipped) ? `, ${compat.filter((c) => c.skipped).length} left out` : ''}`);

            // The archive's documents.
            const model = scope().contentModel(types);
            const match = Object.fromEntries(Object.entries(body.match ?? {}).filter(([uid]) => types.includes(uid)));
            for (const [uid, attribute] of Object.entries(match)) {
              const a = model.get(uid)?.attributes.find((x) => x.name === attribute);
              if (!a || a.kind !== 'scalar') fail(new EngineError('SCHEMA_MISMATCH', `${uid} has no attribute ${attribute} to match documents by`));
            }
            context.progress({ phase: 'load', done: 0, total: 0 });
            store = openStore(path.join(dir, STORE_FILE));
            const matchValue = (uid: string, v: DocumentVersion) => {
              const value = match[uid] ? v.fields[match[uid]] : null;
              return value !== null && value !== undefined ? String(value) : null;
            };
            let files = new Map<string, ArchiveFile>();
            if (jsonSource) {
              let batch: Array<DocumentVersion & { matchValue: string | null }> = [];
              for await (const version of jsonSource.documentsOf(types)) {
                batch.push({ ...version, matchValue: matchValue(version.uid, version) });
                if (batch.length >= 500) store.putDocs(batch.splice(0));
              }
              store.putDocs(batch);
              batch = [];
            } else {
              const incoming = await loadArchive(archive!, model, path.join(dir, INCOMING_FILE), (done, total) => context.progress({ phase: 'load', done, total }));
              incomingKnex = incoming.knex;
              const reader = archiveReader(incoming, model);
              for (const uid of types) {
                for await (const rows of reader.rows(uid)) {
                  const versions = await reader.versionsOf(uid, rows);
                  store.putDocs(versions.map((v) => ({ ...v, sourceId: v.id, matchValue: matchValue(uid, v) })));
                }
              }
              files = await archiveFiles(incoming);
            }

            // Three-way when the archive and this app share a base backup still stored here.
            const lineage = jsonSource
              ? { base: null, reason: 'a JSON export names no lineage' }
              : await getService('lineage', { strapi }).commonBase(manifest, async (backupId) => {
              const m = await backups().manifest(backupId);
              return m ? { id: m.id, createdAt: m.createdAt, status: 'ok' as const, lineage: m.lineage } : null;
            });
            let baseReader = null;
            if (lineage.base) {
              context.progress({ phase: 'load-base' });
              const baseArchive = await openArchive(await backups().archivePath(lineage.base), { passphrase: backups().passphrase() });
              const base = await loadArchive(baseArchive, model, path.join(dir, BASE_FILE));
              baseKnex = base.knex;
              baseReader = archiveReader(base, model);
            }
            const mode = lineage.base ? 'three-way' : 'two-way';
            context.log(`${mode}: ${lineage.reason}`);

            context.progress({ phase: 'compare', done: 0, total: 0 });
            const columns = await liveSchema();
            const here = liveReader(strapi.db.connection, model, columns);
            const hereMedia = await liveMedia();
            const outcome = await runPreview({
              model,
              types,
              store,
              here,
              base: baseReader,
              match,
              media: { here: new Set(hereMedia.keys()), archive: new Set(files.keys()) },
              onProgress: (done, total) => context.progress({ phase: 'compare', done, total }),
            });
            const preview: SavedPreview = {
              id,
              createdAt: new Date().toISOString(),
              source: {
                ...('backupId' in body.source ? { backupId: body.source.backupId } : 'uploadId' in body.source ? { uploadId: body.source.uploadId } : { backupId: '' }),
                name: source.name,
                archiveId: manifest.id,
                createdAt: manifest.createdAt,
                encrypted: Boolean(manifest.encryption),
              } as ImportPreview['source'],
              mirror: Boolean(body.mirror),
              checks,
              compatibility: compat,
              mode,
              modeReason: lineage.reason,
              base: lineage.base,
              types: outcome.types,
              dangling: outcome.dangling,
              media: outcome.media,
              appliedBy: null,
              internal: { path: source.path, kind: json ? 'json' : 'archive', stamp: await stampOf(source.path), types, match, encrypted: Boolean(manifest.encryption) },
            };
            await save(preview);
            for (const t of outcome.types) {
              context.log(`${t.uid}: ${t.counts.create} to create, ${t.counts.update} to update, ${t.counts.unchanged} unchanged, ${t.counts.conflict} in conflict, ${t.counts.absent} only here`);
            }
            if (outcome.danglingCount) context.log(`${outcome.danglingCount} relations point at documents neither side has`);
            log({ event: 'previewed', mode, base: lineage.base, types: outcome.types, dangling: outcome.danglingCount, media: outcome.media });
            context.measure({ rows: outcome.types.reduce((n, t) => n + t.counts.create + t.counts.update + t.counts.unchanged + t.counts.conflict, 0) });
            return { previewId: id, checks, mode, types: outcome.types };
          } finally {
            store?.close();
            await closeAll(incomingKnex, baseKnex);
            await fs.promises.rm(path.join(dirOf(id), BASE_FILE), { force: true });
          }
        },
        { trigger, backupId: source.backupId }
      );
    },

    /**
     * Previews older than `maxAgeMs` go (their folders hold the archive's documents, decrypted);
     * an applied preview keeps its decisions, report and log, not the archive's tables; export
     * work folders of a process that stopped go too.
     */
    async cleanup({ maxAgeMs = PREVIEW_TTL_MS, now = Date.now() }: { maxAgeMs?: number; now?: number } = {}) {
      const removed: string[] = [];
      for (const name of (await fs.promises.readdir(root()).catch(() => [] as string[])).filter((n) => ID.test(n))) {
        const dir = path.join(root(), name);
        const saved = await readSaved(name).catch(() => null);
        const born = saved ? Date.parse(saved.createdAt) : ((await fs.promises.stat(dir).catch(() => null))?.mtimeMs ?? now);
        if (now - born > maxAgeMs) {
          await fs.promises.rm(dir, { recursive: true, force: true });
          removed.push(name);
        } else if (saved?.appliedBy) {
          await fs.promises.rm(path.join(dir, INCOMING_FILE), { force: true });
        }
      }
      const imports = path.join(config().storageFolder(), '.imports');
      for (const name of (await fs.promises.readdir(imports).catch(() => [] as string[])).filter((n) => n.startsWith('export-'))) {
        const stat = await fs.promises.stat(path.join(imports, name)).catch(() => null);
        if (stat && now - stat.mtimeMs > 3600_000) await fs.promises.rm(path.join(imports, name), { recursive: true, force: true });
      }
      return removed;
    },

    /** Uploads that previews not yet applied read from. */
    async uploadsInUse(): Promise<string[]> {
      return (await service.listPreviews()).filter((p) => !p.appliedBy && 'uploadId' in p.source).map((p) => (p.source as { uploadId: string }).uploadId);
    },

    async listPreviews(): Promise<ImportPreview[]> {
      const names = await fs.promises.readdir(root()).catch(() => [] as string[]);
      const out: ImportPreview[] = [];
      for (const name of names.filter((n) => ID.test(n))) {
        const saved = await readSaved(name).catch(() => null);
        if (saved) out.push(publicView(saved));
      }
      return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    },

    async getPreview(id: string): Promise<ImportPreview> {
      return publicView(await readSaved(id));
    },

    async listDocuments(id: string, query: { uid?: string; state?: DocumentState; page?: number; pageSize?: number } = {}): Promise<DocumentPage> {
      await readSaved(id);
      const page = Math.max(1, Math.floor(query.page ?? 1));
      const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(query.pageSize ?? 20)));
      const store = openStore(path.join(dirOf(id), STORE_FILE));
      try {
        const { total, rows } = store.previewPage({ uid: query.uid, state: query.state }, page, pageSize);
        return { results: rows.map(toPreviewDocument), pagination: { page, pageSize, total, pageCount: Math.ceil(total / pageSize) } };
      } finally {
        store.close();
      }
    },

    async getDocument(id: string, key: string): Promise<DocumentDiff> {
      const saved = await readSaved(id);
      const store = openStore(path.join(dirOf(id), STORE_FILE));
      try {
        const row = store.previewRow(key);
        if (!row) throw new errors.NotFoundError(`No document ${key} in preview ${id}`);
        const incoming = row.state === 'absent' ? null : store.doc(key);
        const model = scope().contentModel(saved.internal.types);
        const desc = model.get(row.uid)!;
        const columns = await liveSchema();
        const here = liveReader(strapi.db.connection, model, columns);
        const { published } = parseVersionKey(key);
        const currentVersions = await here.byDocumentIds(row.uid, [row.hereDocumentId ?? row.documentId]);
        const current = currentVersions.find((v) => v.locale === row.locale && v.published === published) ?? null;
        const idMap = store.idMap();
        const translated = incoming
          ? (await import('../engine/import/fields')).mapReferences(model, desc, incoming.fields, {
              relation: (target, documentId) => idMap.get(target)?.get(documentId) ?? documentId,
            })
          : null;
        // Which side changed a field, and the base's value, are in the stored decision (three-way).
        const comparison = current && translated ? compareVersions(desc, current.fields, translated, null) : null;
        const diff = (comparison?.diff ?? []).map((d) => ({
          ...d,
          ...(row.base && d.field in row.base ? { base: row.base[d.field] } : {}),
          changed: row.take.includes(d.field) ? ('archive' as const) : row.conflicts.includes(d.field) ? ('both' as const) : row.state === 'conflict' || row.state === 'update' ? ('here' as const) : d.changed,
          conflict: row.conflicts.includes(d.field),
        }));
        return { ...toPreviewDocument(row), diff, current: current?.fields ?? null, incoming: translated };
      } finally {
        store.close();
      }
    },

    /** Reads again what the preview saw here; throws StalePreviewError when any of it changed. */
    async assertFresh(id: string) {
      const saved = await readSaved(id);
      const store = openStore(path.join(dirOf(id), STORE_FILE));
      try {
        const model = scope().contentModel(saved.internal.types);
        const here = liveReader(strapi.db.connection, model, await liveSchema());
        await assertUnchanged({ store, here, model, mirror: saved.mirror }).catch((error: unknown) => {
          throw error instanceof EngineError && error.code === 'STALE_PREVIEW' ? new StalePreviewError(error.message) : error;
        });
      } finally {
        store.close();
      }
    },

    async startApply(id: string, body: ApplyBody, { trigger = 'manual' }: { trigger?: JobTrigger } = {}) {
      const saved = await readSaved(id);
      if (saved.appliedBy) {
        throw new errors.ValidationError(`This preview was applied already (job ${saved.appliedBy}): preview the import again`);
      }
      await service.assertFresh(id);
      const passphrase = body.passphrase ?? backups().passphrase();
      return getService('jobs', { strapi }).start(
        'import',
        async (context) => {
          const started = Date.now();
          const dir = dirOf(id);
          const log = logLine(id);
          const types = saved.internal.types;
          const model = scope().contentModel(types);
          let incomingKnex: Knex | null = null;
          const store = openStore(path.join(dir, STORE_FILE));
          try {
            for (const recovered of await backups().recoverRestores({ all: true })) {
              context.log(`recovered an interrupted restore's files (${recovered.id}): ${recovered.action}, ${recovered.changes} changes`);
            }
            context.progress({ phase: 'validate' });
            if ((await stampOf(saved.internal.path).catch(() => null)) !== saved.internal.stamp) {
              throw new EngineError('BAD_SOURCE', 'The source file changed or is gone since the preview: preview the import again');
            }
            let archive: OpenedArchive | null = null;
            let files = new Map<string, ArchiveFile>();
            if (saved.internal.kind === 'archive') {
              archive = await openArchive(saved.internal.path, { passphrase });
              if (archive.manifest.id !== saved.source.archiveId) throw new EngineError('BAD_SOURCE', 'The source changed since the preview: preview the import again');
              incomingKnex = scratchKnex(path.join(dir, INCOMING_FILE));
              const incoming = { knex: incomingKnex, ...(await reloadTypes(archive, model, incomingKnex)), index: await mediaIndex(archive) };
              files = await archiveFiles(incoming);
            }

            context.progress({ phase: 'safety-backup' });
            const safety = await backups().write(
              {
                name: `Before importing ${saved.source.name}`,
                contentTypes: types,
                media: true,
                adminUsers: false,
                config: false,
                compression: 'fast',
                encrypt: Boolean(backups().passphrase()),
              },
              'safety'
            );
            context.log(`safety backup ${safety.id} written`);
            log({ event: 'safety-backup', id: safety.id });

            const columns = await liveSchema();
            const outcome = await runImportApply({
              knex: strapi.db.connection,
              dialect: dialect(),
              model,
              columns,
              store,
              types,
              readerFor: (trx) => liveReader(trx, model, columns),
              policies: body.policies ?? {},
              documents: body.documents ?? {},
              fields: body.fields ?? {},
              dangling: body.dangling ?? 'drop',
              mirror: saved.mirror,
              media: {
                publicDir: publicDir(),
                here: await liveMedia(),
                archive: files,
                open: (sha256) => archive!.open(`media/${sha256}`),
              },
              marker: backups().marker,
              onProgress: (phase, done, total) => context.progress({ phase, done, total }),
              log,
            });
            const report: ImportReport = {
              previewId: id,
              mode: saved.mode,
              types: outcome.types,
              conflicts: outcome.conflicts,
              dangling: outcome.dangling,
              media: outcome.media,
              remapped: outcome.remapped,
              safetyBackupId: safety.id,
              undo: { contentTypes: types, media: true, confirm: true },
              durationMs: Date.now() - started,
            };
            for (const t of report.types) {
              context.log(`${t.uid}: ${t.created} created, ${t.updated} updated, ${t.unchanged} unchanged, ${t.skipped} skipped, ${t.deleted} deleted, ${t.conflicts} conflicts`);
            }
            if (report.dangling.length) context.log(`${report.dangling.length} links dropped: their target is in neither side`);
            log({ event: 'applied', report: { ...report, conflicts: report.conflicts.length } });
            await save({ ...saved, appliedBy: context.job.id });
            // The archive's tables are not needed any more: the decisions and the report stay.
            await closeAll(incomingKnex);
            incomingKnex = null;
            await fs.promises.rm(path.join(dir, INCOMING_FILE), { force: true });
            return report as unknown as Record<string, unknown>;
          } catch (error) {
            log({ event: 'failed', message: (error as Error).message, code: (error as { code?: string }).code });
            throw error;
          } finally {
            store.close();
            await closeAll(incomingKnex);
          }
        },
        { trigger }
      );
    },

    async logOf(id: string): Promise<{ name: string; stream: Readable }> {
      await readSaved(id);
      const file = path.join(dirOf(id), LOG_FILE);
      if (!(await fs.promises.stat(file).catch(() => null))) throw new errors.NotFoundError(`No log for import preview ${id}`);
      return { name: `import-${id}.ndjson`, stream: fs.createReadStream(file) };
    },

    /** An archive's documents (the JSON/CSV export of a backup). */
    async openDocuments(source: { backupId: string } | FileSource, { contentTypes, passphrase }: { contentTypes?: string[]; passphrase?: string } = {}) {
      const found = await sourcePath(source);
      const archive = await openArchive(found.path, { passphrase: passphrase ?? backups().passphrase() });
      const here = new Set(scope().selectable());
      const types = (contentTypes ?? archive.manifest.contentTypes.map((c) => c.uid)).filter((uid) => here.has(uid) && archive.manifest.contentTypes.some((c) => c.uid === uid));
      const model = scope().contentModel(types);
      await fs.promises.mkdir(path.join(config().storageFolder(), '.imports'), { recursive: true, mode: 0o700 });
      const dir = await fs.promises.mkdtemp(path.join(config().storageFolder(), '.imports', 'export-'));
      const side = await loadArchive(archive, model, path.join(dir, INCOMING_FILE));
      const reader = archiveReader(side, model);
      return {
        model,
        contentTypes: types,
        manifest: archive.manifest,
        async *documents(uid: string): AsyncGenerator<DocumentVersion> {
          for await (const rows of reader.rows(uid)) {
            for (const { id: _id, ...version } of await reader.versionsOf(uid, rows)) yield version;
          }
        },
        async close() {
          await side.knex.destroy().catch(() => undefined);
          await fs.promises.rm(dir, { recursive: true, force: true });
        },
      };
    },
  };

  /** The archive's tables already in the preview's scratch file. */
  const reloadTypes = (archive: OpenedArchive, model: ContentModel, knex: Knex) => reopenTables(knex, archiveTables(archive, tablesOf(model)));

  return service;
};

export default createImportsService;
