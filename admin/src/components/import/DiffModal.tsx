import { useEffect, useState } from 'react';

import { Badge, Box, Button, Checkbox, Flex, Loader, Modal, Radio, Table, Tbody, Td, Th, Thead, Tr, Typography } from '@strapi/design-system';
import { useFetchClient } from '@strapi/strapi/admin';

import type { DocumentDiff, FieldDiff, PreviewDocument } from '../../../../server/src/contracts/imports';
import { useT } from '../../hooks/useT';
import { PLUGIN_ID } from '../../pluginId';
import { apiError } from '../../utils/errors';
import { ErrorNote, StateBadge, ValueCell, Wide } from './shared';

interface Props {
  previewId: string;
  doc: PreviewDocument | null;
  onClose: () => void;
  /** The conflicts step: a current/incoming choice on each conflicting field. */
  resolve?: {
    chosen: Record<string, 'current' | 'incoming'>;
    onChoose: (field: string, side: 'current' | 'incoming') => void;
  };
}

/** A document side by side (here | in the archive), changed fields highlighted, conflicts marked. */
export const DiffModal = ({ previewId, doc, onClose, resolve }: Props) => {
  const t = useT();
  const { get } = useFetchClient();
  const [diff, setDiff] = useState<DocumentDiff | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [onlyChanged, setOnlyChanged] = useState(true);

  useEffect(() => {
    setDiff(null);
    setError(null);
    if (!doc) return undefined;
    let active = true;
    get<{ data: DocumentDiff }>(`/${PLUGIN_ID}/imports/previews/${previewId}/documents/${encodeURIComponent(doc.key)}`)
      .then(({ data }) => active && setDiff(data.data))
      .catch((err) => active && setError(apiError(err).message));
    return () => {
      active = false;
    };
  }, [doc?.key, previewId, get]);

  const byField = new Map<string, FieldDiff>((diff?.diff ?? []).map((d) => [d.field, d]));
  const allFields = diff
    ? [...new Set([...diff.diff.map((d) => d.field), ...Object.keys(diff.incoming ?? {}), ...Object.keys(diff.current ?? {})])]
    : [];
  const fields = onlyChanged ? allFields.filter((f) => byField.has(f)) : allFields;
  const threeWay = diff?.diff.some((d) => d.base !== undefined) ?? false;
  const changedLabel = (d: FieldDiff) =>
    d.changed === 'both' ? t('import.diff.changed.both', 'Both sides') : d.changed === 'here' ? t('import.diff.changed.here', 'Here') : t('import.diff.changed.archive', 'In the archive');

  return (
    <Modal.Root open={Boolean(doc)} onOpenChange={(open: boolean) => !open && onClose()}>
      <Modal.Content style={{ maxWidth: 'min(120rem, 95vw)', width: '95vw' }}>
        <Modal.Header>
          <Modal.Title>{doc ? doc.label || doc.documentId : ''}</Modal.Title>
        </Modal.Header>
        <Modal.Body>
          {doc ? (
            <Flex direction="column" alignItems="stretch" gap={4}>
              <Flex gap={2} wrap="wrap" alignItems="center">
                <StateBadge state={doc.state} />
                <Typography variant="pi" textColor="neutral600">
                  {[doc.uid, doc.documentId, doc.locale ?? null, t(`import.version.${doc.version}`, doc.version)].filter(Boolean).join(' · ')}
                </Typography>
                {doc.hereDocumentId ? (
                  <Typography variant="pi" textColor="neutral600">
                    {t('import.diff.matched', 'Matched to {documentId} here', { documentId: doc.hereDocumentId })}
                  </Typography>
                ) : null}
              </Flex>
              {error ? (
                <ErrorNote
                  title={t('import.diff.error', 'The comparison could not be loaded')}
                  message={error}
                  hint={t('import.documents.error.hint', 'The preview may have been removed; run it again from the first step.')}
                />
              ) : null}
              {!diff && !error ? <Loader small>{t('import.documents.loading', 'Loading documents')}</Loader> : null}
              {diff ? (
                <>
                  <Checkbox checked={onlyChanged} onCheckedChange={(on: boolean | 'indeterminate') => setOnlyChanged(on === true)}>
                    {t('import.diff.onlyChanged', 'Only the fields that differ')}
                  </Checkbox>
                  {fields.length === 0 ? <Typography textColor="neutral600">{t('import.diff.same', 'Both sides are equal.')}</Typography> : null}
                  {fields.length > 0 ? (
                    <Wide>
                      <Table colCount={threeWay ? 5 : 4} rowCount={fields.length + 1} aria-label={t('import.diff.title', 'Field by field')}>
                        <Thead>
                          <Tr>
                            <Th>
                              <Typography variant="sigma">{t('import.diff.field', 'Field')}</Typography>
                            </Th>
                            {threeWay ? (
                              <Th>
                                <Typography variant="sigma">{t('import.diff.base', 'Base')}</Typography>
                              </Th>
                            ) : null}
                            <Th>
                              <Typography variant="sigma">{t('import.diff.current', 'Here (current)')}</Typography>
                            </Th>
                            <Th>
                              <Typography variant="sigma">{t('import.diff.incoming', 'In the archive (incoming)')}</Typography>
                            </Th>
                            <Th>
                              <Typography variant="sigma">{resolve ? t('import.diff.keep', 'Take') : t('import.diff.changedBy', 'Changed')}</Typography>
                            </Th>
                          </Tr>
                        </Thead>
                        <Tbody>
                          {fields.map((field) => {
                            const d = byField.get(field);
                            const current = d ? d.current : diff.current?.[field];
                            const incoming = d ? d.incoming : diff.incoming?.[field];
                            const background = d?.conflict ? 'danger100' : d ? 'warning100' : undefined;
                            return (
                              <Tr key={field} data-changed={d ? 'true' : 'false'} data-conflict={d?.conflict ? 'true' : 'false'} aria-label={field}>
                                <Td background={background} style={{ verticalAlign: 'top' }}>
                                  <Flex direction="column" alignItems="flex-start" gap={1}>
                                    <Typography fontWeight={d ? 'bold' : 'regular'}>{field}</Typography>
                                    {d?.conflict ? <Badge variant="danger">{t('import.state.conflict', 'Conflict')}</Badge> : null}
                                  </Flex>
                                </Td>
                                {threeWay ? (
                                  <Td background={background} style={{ verticalAlign: 'top', maxWidth: '24rem' }}>
                                    <ValueCell value={d?.base} />
                                  </Td>
                                ) : null}
                                <Td background={background} style={{ verticalAlign: 'top', maxWidth: '32rem' }}>
                                  <ValueCell value={current} />
                                </Td>
                                <Td background={background} style={{ verticalAlign: 'top', maxWidth: '32rem' }}>
                                  <ValueCell value={incoming} />
                                </Td>
                                <Td background={background} style={{ verticalAlign: 'top' }}>
                                  {resolve && d?.conflict ? (
                                    <Radio.Group
                                      aria-label={t('import.diff.choose', 'Which value of {field}', { field })}
                                      value={resolve.chosen[field] ?? ''}
                                      onValueChange={(side: string) => resolve.onChoose(field, side as 'current' | 'incoming')}
                                    >
                                      <Radio.Item value="current">{t('import.side.current', 'Current')}</Radio.Item>
                                      <Radio.Item value="incoming">{t('import.side.incoming', 'Incoming')}</Radio.Item>
                                    </Radio.Group>
                                  ) : d ? (
                                    <Typography>{changedLabel(d)}</Typography>
                                  ) : null}
                                </Td>
                              </Tr>
                            );
                          })}
                        </Tbody>
                      </Table>
                    </Wide>
                  ) : null}
                  {resolve && diff.conflicts.length > 0 ? (
                    <Box>
                      <Typography variant="pi" textColor="neutral600">
                        {t('import.diff.chosen', '{chosen} of {total} conflicting fields decided', {
                          chosen: diff.conflicts.filter((f) => resolve.chosen[f]).length,
                          total: diff.conflicts.length,
                        })}
                      </Typography>
                    </Box>
                  ) : null}
                </>
              ) : null}
            </Flex>
          ) : null}
        </Modal.Body>
        <Modal.Footer>
          <Modal.Close>
            <Button variant="tertiary">{t('action.close', 'Close')}</Button>
          </Modal.Close>
        </Modal.Footer>
      </Modal.Content>
    </Modal.Root>
  );
};
