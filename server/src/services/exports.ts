import type { Writable } from 'node:stream';

import type { Core } from '@strapi/strapi';
import { errors } from '@strapi/utils';

import { PLUGIN_ID } from '../constants';
import { writeCsvExport, writeCsvZip } from '../engine/export/csv';
import { writeJsonExport } from '../engine/export/json';
import type { ContentModel, DocumentVersion, ModelDescription } from '../engine/import/types';
import { getService } from '../utils';

export type ExportFormat = 'json' | 'csv';

/** What services/imports.ts opens for an export: a backup's documents, one content type at a time. */
export interface OpenedDocuments {
  model: ContentModel;
  contentTypes: string[];
  documents(uid: string): AsyncIterable<DocumentVersion>;
  close(): Promise<void>;
}

interface ImportsOpen {
  openDocuments(source: { backupId: string }, options: { contentTypes?: string[]; passphrase?: string }): Promise<OpenedDocuments>;
}

/** An export ready to be written: its file name and type are known before the first byte. */
export interface PreparedExport {
  backupId: string;
  format: ExportFormat;
  /** The content types written, in order. */
  contentTypes: string[];
  /** e.g. `20260101-000000-abcdef-documents.json`, `…-contract.csv`, `…-csv.zip`. */
  fileName: string;
  /** The HTTP Content-Type. */
  mimeType: string;
  /** Writes the export to `out` and ends it (on failure `out` is destroyed with the error); closes the source either way. */
  write(out: Writable): Promise<{ documents: number; bytes: number }>;
  /** Closes the source without writing. */
  close(): Promise<void>;
}

/** `api::contract.contract` → `contract`. */
const shortName = (uid: string) => uid.slice(uid.lastIndexOf('.') + 1).replace(/[^A-Za-z0-9._-]+/g, '_');

/**
 * JSON and CSV exports of a backup's documents (the admin API's GET /backups/:id/export and
 * the CLI's `export`): the document model of the import (services/imports.ts openDocuments),
 * written by engine/export. JSON: one document, also an import source. CSV: one content type as
 * text/csv; several as a zip of one CSV each.
 */
const createExportsService = ({ strapi }: { strapi: Core.Strapi }) => ({
  async open(backupId: string, { format = 'json', contentTypes: asked }: { format?: ExportFormat; contentTypes?: string[] } = {}): Promise<PreparedExport> {
    // NotFoundError for a backup not in the list, before anything is opened.
    const backup = await getService('backups', { strapi }).get(backupId);
    const imports = strapi.plugin(PLUGIN_ID).service('imports') as unknown as ImportsOpen;
    const opened = await imports.openDocuments({ backupId }, asked ? { contentTypes: asked } : {});
    try {
      const available = new Set(opened.contentTypes);
      const missing = (asked ?? []).filter((uid) => !available.has(uid));
      if (missing.length) {
        throw new errors.ValidationError(`contentTypes: not in backup ${backupId}: ${missing.join(', ')}`, {
          errors: missing.map((uid) => ({ path: ['contentTypes'], message: `not in backup ${backupId}: ${uid}`, name: 'ValidationError' })),
        });
      }
      const uids = asked ?? opened.contentTypes;
      if (!uids.length) throw new errors.ValidationError(`Backup ${backupId} holds no content type to export`);
      const models = uids.map((uid) => {
        const model = opened.model.get(uid);
        if (!model) throw new errors.ValidationError(`contentTypes: ${uid} has no model in backup ${backupId}`);
        return model;
      }) as ModelDescription[];

      const closeOnce = (() => {
        let closing: Promise<void> | null = null;
        return () => (closing ??= opened.close().catch(() => undefined));
      })();
      const finishing = async <T>(work: Promise<T>) => {
        try {
          return await work;
        } finally {
          await closeOnce();
        }
      };
      const base = { backupId, format, contentTypes: uids, close: closeOnce };
      if (format === 'json') {
        // One type after the other, as the backup holds them.
        async function* all() {
          for (const uid of uids) yield* opened.documents(uid);
        }
        return {
          ...base,
          fileName: `${backupId}-documents.json`,
          mimeType: 'application/json; charset=utf-8',
          write: (out) => finishing(writeJsonExport({ meta: { backup: { id: backupId, createdAt: backup.createdAt ?? null } }, contentTypes: models, documents: all() }, out)),
        };
      }
      if (models.length === 1) {
        return {
          ...base,
          fileName: `${backupId}-${shortName(models[0].uid)}.csv`,
          mimeType: 'text/csv; charset=utf-8',
          write: (out) => finishing(writeCsvExport({ model: models[0], documents: opened.documents(models[0].uid) }, out)),
        };
      }
      return {
        ...base,
        fileName: `${backupId}-csv.zip`,
        mimeType: 'application/zip',
        write: (out) =>
          finishing(
            writeCsvZip(
              models.map((model) => ({ model, documents: () => opened.documents(model.uid) })),
              out
            ).then((result) => ({ documents: result.files.reduce((n, f) => n + f.documents, 0), bytes: result.bytes }))
          ),
      };
    } catch (error) {
      await opened.close().catch(() => undefined);
      throw error;
    }
  },
});

export default createExportsService;
