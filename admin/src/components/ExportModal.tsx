import { useEffect, useState } from 'react';

import { Button, Checkbox, Flex, Modal, Radio, Typography } from '@strapi/design-system';
import { useFetchClient } from '@strapi/strapi/admin';

import type { Backup } from '../../../server/src/contracts/backups';
import { useT } from '../hooks/useT';
import { PLUGIN_ID } from '../pluginId';
import { ErrorNote } from './import/shared';

export type ExportFormat = 'json' | 'csv';

interface Props {
  backup: Backup;
  /** The content types of the backup, with their names. */
  contentTypes: Array<{ uid: string; displayName: string; rows: number }>;
  /** The format the button chose; null: closed. */
  format: ExportFormat | null;
  onClose: () => void;
}

/** The file name the server gives (Content-Disposition), or one made of the backup id. */
const fileName = (headers: Headers | undefined, id: string, format: ExportFormat, count: number) => {
  const disposition = headers?.get('Content-Disposition') ?? '';
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  if (match) return decodeURIComponent(match[1]);
  if (format === 'json') return `${id}.json`;
  return count === 1 ? `${id}.csv` : `${id}-csv.zip`;
};

/**
 * Export a backup's documents as JSON (the import's document model; an import source itself)
 * or CSV (one row per document version, for a spreadsheet; several types come as a zip).
 */
export const ExportModal = ({ backup, contentTypes, format, onClose }: Props) => {
  const t = useT();
  const { get } = useFetchClient();
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [kind, setKind] = useState<ExportFormat>('json');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!format) return;
    setKind(format);
    setChosen(new Set(contentTypes.map((ct) => ct.uid)));
    setError(null);
  }, [format, backup.id]);

  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      const uids = [...chosen];
      const { data, headers } = (await get<Blob>(`/${PLUGIN_ID}/backups/${backup.id}/export`, {
        params: { format: kind, contentTypes: uids.join(',') },
        responseType: 'blob',
      })) as { data: Blob; headers?: Headers };
      const url = URL.createObjectURL(data);
      const link = document.createElement('a');
      link.href = url;
      link.download = fileName(headers, backup.id, kind, uids.length);
      link.click();
      URL.revokeObjectURL(url);
      onClose();
    } catch (err) {
      const status = (err as { status?: number }).status;
      setError(
        status === 403
          ? t('export.forbidden', 'Your role cannot download archives (action “Download backup archives”).')
          : status === 401
            ? t('export.unauthorized', 'Your session ended: log in again.')
            : t('export.failed.message', 'The server answered {status}.', { status: String(status ?? '?') })
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal.Root open={Boolean(format)} onOpenChange={(open: boolean) => !open && !busy && onClose()}>
      <Modal.Content>
        <Modal.Header>
          <Modal.Title>{t('export.title', 'Export the documents of “{name}”', { name: backup.name })}</Modal.Title>
        </Modal.Header>
        <Modal.Body>
          <Flex direction="column" alignItems="stretch" gap={4}>
            <Radio.Group aria-label={t('export.format', 'Format')} value={kind} onValueChange={(value: string) => setKind(value as ExportFormat)}>
              <Radio.Item value="json">{t('export.format.json', 'JSON: every field, components and relations nested; can be imported again')}</Radio.Item>
              <Radio.Item value="csv">{t('export.format.csv', 'CSV: one row per document version, for a spreadsheet (several types: a zip of CSV files)')}</Radio.Item>
            </Radio.Group>
            <Flex direction="column" alignItems="stretch" gap={2} role="group" aria-label={t('list.contentTypes', 'Content types')}>
              <Typography variant="sigma" textColor="neutral600">
                {t('list.contentTypes', 'Content types')}
              </Typography>
              {contentTypes.map((ct) => (
                <Checkbox
                  key={ct.uid}
                  checked={chosen.has(ct.uid)}
                  onCheckedChange={(on: boolean | 'indeterminate') => {
                    const next = new Set(chosen);
                    if (on === true) next.add(ct.uid);
                    else next.delete(ct.uid);
                    setChosen(next);
                  }}
                >
                  {t('create.contentType', '{name} ({rows} entries)', { name: ct.displayName, rows: ct.rows })}
                </Checkbox>
              ))}
            </Flex>
            {error ? (
              <ErrorNote
                title={t('export.failed', 'The export failed')}
                message={error}
                hint={t('export.failed.hint', 'Nothing was written. Try again; if the backup is encrypted with another key, it cannot be exported here.')}
              />
            ) : null}
          </Flex>
        </Modal.Body>
        <Modal.Footer>
          <Modal.Close>
            <Button variant="tertiary" disabled={busy}>
              {t('action.cancel', 'Cancel')}
            </Button>
          </Modal.Close>
          <Button onClick={download} loading={busy} disabled={chosen.size === 0}>
            {t('export.download', 'Download')}
          </Button>
        </Modal.Footer>
      </Modal.Content>
    </Modal.Root>
  );
};
