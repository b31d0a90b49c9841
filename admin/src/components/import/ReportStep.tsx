import { useState } from 'react';

import { Box, Button, Dialog, Flex, Table, Tbody, Td, Th, Thead, Tr, Typography } from '@strapi/design-system';
import { ArrowsCounterClockwise, Download } from '@strapi/icons';
import { useFetchClient } from '@strapi/strapi/admin';
import { Link } from 'react-router-dom';

import type { Job } from '../../../../server/src/contracts/backups';
import type { ImportPreview, ImportReport } from '../../../../server/src/contracts/imports';
import { useJob } from '../../hooks/useJob';
import { useT } from '../../hooks/useT';
import { PLUGIN_ID } from '../../pluginId';
import { apiError } from '../../utils/errors';
import { formatDuration } from '../../utils/format';
import { JobProgress } from '../JobProgress';
import { Section } from '../Section';
import { DanglingList } from './PreviewStep';
import { ErrorNote, Wide } from './shared';

/** Step 7: what the import did, each conflict and its resolution, the log, and Undo. */
export const ReportStep = ({ report, preview }: { report: ImportReport; preview: ImportPreview }) => {
  const t = useT();
  const { get, post } = useFetchClient();
  const [undoJobId, setUndoJobId] = useState<string | null>(null);
  const [error, setError] = useState<{ title: string; message: string; hint: string } | null>(null);
  const { job: undoJob } = useJob(undoJobId);

  const downloadLog = async () => {
    try {
      const { data } = await get<Blob>(`/${PLUGIN_ID}/imports/previews/${report.previewId}/log`, { responseType: 'blob' });
      const url = URL.createObjectURL(data);
      const link = document.createElement('a');
      link.href = url;
      link.download = `import-${report.previewId}.jsonl`;
      link.click();
      URL.revokeObjectURL(url);
    } catch (err) {
      setError({
        title: t('import.report.logFailed', 'The log could not be downloaded'),
        message: apiError(err).message,
        hint: t('import.action.retryLater', 'Try again in a moment.'),
      });
    }
  };
  const undo = async () => {
    setError(null);
    try {
      const { data } = await post<{ data: Job }>(`/${PLUGIN_ID}/backups/${report.safetyBackupId}/restore`, report.undo);
      setUndoJobId(data.data.id);
    } catch (err) {
      const e = apiError(err);
      setError({
        title: t('import.report.undoFailed', 'Undo could not start'),
        message: e.message,
        hint:
          e.status === 403
            ? t('import.report.undoForbidden', 'Undo is a restore: your role needs the action “Restore backups”. Ask an administrator.')
            : t('import.validation.notStarted.hint', 'If another backup, restore or import is running, wait for it to finish and try again.'),
      });
    }
  };
  const undone = undoJob?.finishedAt && (undoJob.status === 'succeeded' || undoJob.status === 'warning');
  const name = (uid: string) => preview.types.find((ty) => ty.uid === uid)?.displayName ?? uid;

  return (
    <Flex direction="column" alignItems="stretch" gap={6}>
      <Section title={t('import.report.title', 'Imported')} label={t('import.report.title', 'Imported')}>
        <Typography>
          {t('import.report.summary', 'Mode: {mode} · Duration: {duration} · Media files: {reused} reused, {added} added · Rows given a new id: {remapped}', {
            mode: t(`import.mode.${report.mode}`, report.mode),
            duration: formatDuration(report.durationMs),
            reused: report.media.reused,
            added: report.media.added,
            remapped: report.remapped,
          })}
        </Typography>
        <Wide>
          <Table colCount={7} rowCount={report.types.length + 1}>
            <Thead>
              <Tr>
                <Th>
                  <Typography variant="sigma">{t('list.contentTypes', 'Content types')}</Typography>
                </Th>
                <Th>
                  <Typography variant="sigma">{t('import.confirm.created', 'Created')}</Typography>
                </Th>
                <Th>
                  <Typography variant="sigma">{t('import.confirm.updated', 'Updated')}</Typography>
                </Th>
                <Th>
                  <Typography variant="sigma">{t('import.state.unchanged', 'Unchanged')}</Typography>
                </Th>
                <Th>
                  <Typography variant="sigma">{t('import.report.skipped', 'Skipped')}</Typography>
                </Th>
                <Th>
                  <Typography variant="sigma">{t('import.confirm.deleted', 'Deleted')}</Typography>
                </Th>
                <Th>
                  <Typography variant="sigma">{t('import.report.conflicts', 'Conflicts')}</Typography>
                </Th>
              </Tr>
            </Thead>
            <Tbody>
              {report.types.map((ty) => (
                <Tr key={ty.uid} aria-label={ty.displayName}>
                  <Td>
                    <Typography fontWeight="bold">{ty.displayName}</Typography>
                  </Td>
                  {[ty.created, ty.updated, ty.unchanged, ty.skipped, ty.deleted, ty.conflicts].map((n, i) => (
                    <Td key={i}>
                      <Typography>{n}</Typography>
                    </Td>
                  ))}
                </Tr>
              ))}
            </Tbody>
          </Table>
        </Wide>
        <Typography variant="pi" textColor="neutral600">
          {t('import.report.safety', 'Safety backup taken before the import: {id}', { id: report.safetyBackupId })}{' '}
          <Link to={`../${report.safetyBackupId}`} relative="path">
            {t('import.report.openSafety', 'Open it')}
          </Link>
        </Typography>
        <Flex gap={2} wrap="wrap">
          <Button variant="secondary" startIcon={<Download />} onClick={downloadLog}>
            {t('import.report.log', 'Download the log')}
          </Button>
          {!undoJobId ? (
            <Dialog.Root>
              <Dialog.Trigger>
                <Button variant="danger-light" startIcon={<ArrowsCounterClockwise />}>
                  {t('import.report.undo', 'Undo')}
                </Button>
              </Dialog.Trigger>
              <Dialog.Content>
                <Dialog.Header>{t('import.report.undo.title', 'Undo this import?')}</Dialog.Header>
                <Dialog.Body>
                  <Typography>
                    {t('import.report.undo.body', 'The content types this import touched are restored from the safety backup {id}. Changes made to them since the import are lost too.', {
                      id: report.safetyBackupId,
                    })}
                  </Typography>
                </Dialog.Body>
                <Dialog.Footer>
                  <Dialog.Cancel>
                    <Button variant="tertiary">{t('action.cancel', 'Cancel')}</Button>
                  </Dialog.Cancel>
                  <Dialog.Action>
                    <Button variant="danger" onClick={undo}>
                      {t('import.report.undo.confirm', 'Undo the import')}
                    </Button>
                  </Dialog.Action>
                </Dialog.Footer>
              </Dialog.Content>
            </Dialog.Root>
          ) : null}
        </Flex>
        {undoJob && !undoJob.finishedAt ? <JobProgress job={undoJob} /> : null}
        {undone ? (
          <Typography role="status" textColor="success600" fontWeight="bold">
            {t('import.report.undone', 'The import was undone: the data is back as it was before it.')}
          </Typography>
        ) : null}
        {undoJob?.finishedAt && !undone ? (
          <ErrorNote
            title={t('import.report.undoFailed', 'Undo could not start')}
            message={undoJob.error?.message}
            hint={t('import.report.undoFailed.hint', 'Nothing was changed by the undo. Restore the safety backup from its page.')}
          />
        ) : null}
        {error ? <ErrorNote title={error.title} message={error.message} hint={error.hint} /> : null}
      </Section>

      <Section title={t('import.report.resolved', 'Conflicts and their resolution ({count})', { count: report.conflicts.length })}>
        {report.conflicts.length === 0 ? (
          <Typography textColor="neutral600">{t('import.conflicts.empty', 'There is no conflict: nothing to decide here.')}</Typography>
        ) : (
          <Wide>
            <Table colCount={3} rowCount={report.conflicts.length + 1}>
              <Thead>
                <Tr>
                  <Th>
                    <Typography variant="sigma">{t('import.documents.document', 'Document')}</Typography>
                  </Th>
                  <Th>
                    <Typography variant="sigma">{t('import.report.policy', 'Resolution')}</Typography>
                  </Th>
                  <Th>
                    <Typography variant="sigma">{t('import.report.fields', 'Fields and the side taken')}</Typography>
                  </Th>
                </Tr>
              </Thead>
              <Tbody>
                {report.conflicts.map((c) => (
                  <Tr key={c.key}>
                    <Td>
                      <Typography>{`${name(c.uid)} ${c.documentId}${c.locale ? ` (${c.locale})` : ''} · ${t(`import.version.${c.version}`, c.version)}`}</Typography>
                    </Td>
                    <Td>
                      <Typography>{t(`import.policy.${c.policy}`, c.policy)}</Typography>
                    </Td>
                    <Td style={{ maxWidth: '40rem' }}>
                      <Typography style={{ whiteSpace: 'normal', wordBreak: 'break-word' }}>
                        {Object.entries(c.fields)
                          .map(([field, side]) => `${field}: ${t(`import.side.${side}`, side)}`)
                          .join(', ') || '—'}
                      </Typography>
                    </Td>
                  </Tr>
                ))}
              </Tbody>
            </Table>
          </Wide>
        )}
      </Section>

      {report.dangling.length > 0 ? (
        <Section title={t('import.report.dangling', 'Links dropped ({count})', { count: report.dangling.length })}>
          <DanglingList preview={preview} items={report.dangling} />
        </Section>
      ) : null}
      <Box />
    </Flex>
  );
};
