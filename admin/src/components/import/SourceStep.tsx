import { useRef, useState } from 'react';

import { Box, Button, Flex, ProgressBar, Radio, Table, Tbody, Td, Th, Thead, Tr, Typography } from '@strapi/design-system';
import { CloudUpload } from '@strapi/icons';
import { useIntl } from 'react-intl';

import type { Backup } from '../../../../server/src/contracts/backups';
import type { ImportPreview, ImportUpload } from '../../../../server/src/contracts/imports';
import { useT } from '../../hooks/useT';
import type { useUpload } from '../../hooks/useUpload';
import { isImportable } from '../../utils/backups';
import { formatBytes } from '../../utils/format';
import { BackupBadges } from '../BackupBadges';
import { Section } from '../Section';
import { ErrorNote, Wide } from './shared';

export type Source = { kind: 'backup'; backupId: string } | { kind: 'upload'; upload: ImportUpload };

interface Props {
  backups: Backup[] | null;
  source: Source | null;
  onSource: (source: Source | null) => void;
  upload: ReturnType<typeof useUpload>;
  /** Earlier previews, to reopen one. */
  previews: ImportPreview[];
  onReopen: (preview: ImportPreview) => void;
}

/** Step 1: an archive or JSON export dropped or chosen (uploaded with progress), or a backup from the list. */
export const SourceStep = ({ backups, source, onSource, upload, previews, onReopen }: Props) => {
  const t = useT();
  const { formatDate } = useIntl();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);

  const send = async (file: File | undefined) => {
    if (!file) return;
    onSource(null);
    const done = await upload.upload(file);
    if (done) onSource({ kind: 'upload', upload: done });
  };

  const usable = (backups ?? []).filter(isImportable);
  const percent = upload.total > 0 ? Math.floor((upload.loaded / upload.total) * 100) : 0;

  return (
    <Flex direction="column" alignItems="stretch" gap={6}>
      <Section title={t('import.source.upload', 'Upload an archive')}>
        <Box
          padding={8}
          hasRadius
          borderStyle="dashed"
          borderWidth="2px"
          borderColor={over ? 'primary600' : 'neutral300'}
          background={over ? 'primary100' : 'neutral100'}
          onDragOver={(e: React.DragEvent) => {
            e.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={(e: React.DragEvent) => {
            e.preventDefault();
            setOver(false);
            send(e.dataTransfer.files[0]);
          }}
          data-testid="import-dropzone"
        >
          <Flex direction="column" gap={3}>
            <CloudUpload width="3.2rem" height="3.2rem" aria-hidden />
            <Typography>{t('import.source.drop', 'Drop a backup archive (.pacta.zip) or a JSON export here')}</Typography>
            <Button variant="secondary" onClick={() => input.current?.click()} disabled={upload.running}>
              {t('import.source.choose', 'Choose a file')}
            </Button>
            <input
              ref={input}
              type="file"
              accept=".zip,.json,application/zip,application/json"
              aria-label={t('import.source.file', 'Archive file')}
              style={{ display: 'none' }}
              onChange={(e) => {
                send(e.target.files?.[0]);
                e.target.value = '';
              }}
            />
          </Flex>
        </Box>
        {upload.running ? (
          <Flex direction="column" alignItems="stretch" gap={2}>
            <Flex justifyContent="space-between">
              <Typography>{t('import.source.uploading', 'Uploading: {loaded} of {total}', { loaded: formatBytes(upload.loaded), total: formatBytes(upload.total) })}</Typography>
              <Typography data-testid="upload-percent">{percent}%</Typography>
            </Flex>
            <ProgressBar value={percent} size="M" aria-label={t('import.source.uploadProgress', 'Upload progress')} />
            <Box>
              <Button variant="tertiary" onClick={upload.cancel}>
                {t('action.cancel', 'Cancel')}
              </Button>
            </Box>
          </Flex>
        ) : null}
        {upload.error ? (
          <ErrorNote
            title={t('import.source.uploadFailed', 'The upload failed')}
            message={upload.error.message}
            hint={
              upload.error.status === 413
                ? t('import.source.tooBig', 'The file is larger than the upload limit (import.maxUploadBytes in the plugin config). Import it with the CLI, or raise the limit.')
                : upload.error.status === 403
                  ? t('import.source.forbidden', 'Your role cannot import (action “Import content from archives”). Ask an administrator.')
                  : t('import.source.retry', 'Check the file and the connection, then try again.')
            }
          />
        ) : null}
        {source?.kind === 'upload' ? (
          <Typography role="status" textColor="success600">
            {t('import.source.uploaded', 'Uploaded: {name} ({size})', { name: source.upload.name, size: formatBytes(source.upload.size) })}
          </Typography>
        ) : null}
      </Section>

      <Section title={t('import.source.backups', 'Or pick a backup')}>
        {usable.length === 0 ? (
          <Typography textColor="neutral600">{t('import.source.noBackups', 'There is no backup to import from yet.')}</Typography>
        ) : (
          <Radio.Group
            aria-label={t('import.source.backups', 'Or pick a backup')}
            value={source?.kind === 'backup' ? source.backupId : ''}
            onValueChange={(value: string) => onSource({ kind: 'backup', backupId: value })}
          >
            <Wide>
              <Table colCount={4} rowCount={usable.length + 1}>
                <Thead>
                  <Tr>
                    <Th>
                      <Typography variant="sigma">{t('list.name', 'Name')}</Typography>
                    </Th>
                    <Th>
                      <Typography variant="sigma">{t('list.date', 'Date')}</Typography>
                    </Th>
                    <Th>
                      <Typography variant="sigma">{t('list.size', 'Size')}</Typography>
                    </Th>
                    <Th>
                      <Typography variant="sigma">{t('list.state', 'State')}</Typography>
                    </Th>
                  </Tr>
                </Thead>
                <Tbody>
                  {usable.map((backup) => (
                    <Tr key={backup.id}>
                      <Td>
                        <Radio.Item value={backup.id}>{backup.name}</Radio.Item>
                      </Td>
                      <Td>
                        <Typography>{formatDate(backup.createdAt, { dateStyle: 'medium', timeStyle: 'short' })}</Typography>
                      </Td>
                      <Td>
                        <Typography>{formatBytes(backup.size)}</Typography>
                      </Td>
                      <Td>
                        <BackupBadges backup={backup} />
                      </Td>
                    </Tr>
                  ))}
                </Tbody>
              </Table>
            </Wide>
          </Radio.Group>
        )}
      </Section>

      {previews.length > 0 ? (
        <Section title={t('import.source.previews', 'Earlier previews')} label={t('import.source.previews', 'Earlier previews')}>
          <Wide>
            <Table colCount={4} rowCount={previews.length + 1}>
              <Thead>
                <Tr>
                  <Th>
                    <Typography variant="sigma">{t('import.source.previewSource', 'Source')}</Typography>
                  </Th>
                  <Th>
                    <Typography variant="sigma">{t('list.date', 'Date')}</Typography>
                  </Th>
                  <Th>
                    <Typography variant="sigma">{t('list.state', 'State')}</Typography>
                  </Th>
                  <Th>
                    <Typography variant="sigma">{t('import.source.open', 'Open')}</Typography>
                  </Th>
                </Tr>
              </Thead>
              <Tbody>
                {previews.slice(0, 10).map((preview) => (
                  <Tr key={preview.id}>
                    <Td>
                      <Typography>{preview.source.name}</Typography>
                    </Td>
                    <Td>
                      <Typography>{formatDate(preview.createdAt, { dateStyle: 'medium', timeStyle: 'short' })}</Typography>
                    </Td>
                    <Td>
                      <Typography>{preview.appliedBy ? t('import.source.applied', 'Applied') : t('import.source.notApplied', 'Not applied')}</Typography>
                    </Td>
                    <Td>
                      <Button variant="tertiary" size="S" onClick={() => onReopen(preview)}>
                        {t('import.source.reopen', 'Reopen')}
                      </Button>
                    </Td>
                  </Tr>
                ))}
              </Tbody>
            </Table>
          </Wide>
        </Section>
      ) : null}
    </Flex>
  );
};
