import { useState } from 'react';

import { Badge, Box, Flex, Table, Tbody, Td, TextButton, Th, Thead, Tr, Typography } from '@strapi/design-system';

import type { DocumentState, ImportPreview, PreviewDocument } from '../../../../server/src/contracts/imports';
import { useT } from '../../hooks/useT';
import { Section } from '../Section';
import { DiffModal } from './DiffModal';
import { DocumentList } from './DocumentList';
import { STATES, Wide } from './shared';

export const DanglingList = ({ preview, items }: { preview: ImportPreview; items: ImportPreview['dangling'] }) => {
  const t = useT();
  const name = (uid: string) => preview.types.find((ty) => ty.uid === uid)?.displayName ?? uid;
  return (
    <Wide>
      <Table colCount={3} rowCount={items.length + 1}>
        <Thead>
          <Tr>
            <Th>
              <Typography variant="sigma">{t('import.documents.document', 'Document')}</Typography>
            </Th>
            <Th>
              <Typography variant="sigma">{t('import.diff.field', 'Field')}</Typography>
            </Th>
            <Th>
              <Typography variant="sigma">{t('import.dangling.target', 'Missing target')}</Typography>
            </Th>
          </Tr>
        </Thead>
        <Tbody>
          {items.map((d) => (
            <Tr key={`${d.uid}|${d.documentId}|${d.locale}|${d.field}|${d.targetDocumentId}`}>
              <Td>
                <Typography>{`${name(d.uid)} ${d.documentId}${d.locale ? ` (${d.locale})` : ''}`}</Typography>
              </Td>
              <Td>
                <Typography>{d.field}</Typography>
              </Td>
              <Td>
                <Typography>{`${name(d.targetUid)} ${d.targetDocumentId}`}</Typography>
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
    </Wide>
  );
};

/** Step 3: per content type what the import would do; a type's documents by state; a document's diff. */
export const PreviewStep = ({ preview }: { preview: ImportPreview }) => {
  const t = useT();
  const [selected, setSelected] = useState<{ uid: string; state: DocumentState | '' } | null>(null);
  const [open, setOpen] = useState<PreviewDocument | null>(null);
  const type = selected ? preview.types.find((ty) => ty.uid === selected.uid) : null;

  return (
    <Flex direction="column" alignItems="stretch" gap={6}>
      <Section title={t('import.preview.title', 'What the import would change')} label={t('import.preview.title', 'What the import would change')}>
        <Flex gap={2} wrap="wrap" alignItems="center">
          <Badge variant={preview.mode === 'three-way' ? 'success' : 'warning'}>{t(`import.mode.${preview.mode}`, preview.mode)}</Badge>
          <Typography>{preview.modeReason}</Typography>
        </Flex>
        <Typography variant="pi" textColor="neutral600">
          {preview.mode === 'three-way'
            ? t('import.mode.three-way.help', 'A document changed on one side only takes that side’s version; only documents changed on both sides are conflicts.')
            : t('import.mode.two-way.help', 'No common base backup: every document that differs between the archive and this app is a conflict.')}
        </Typography>
        <Wide>
          <Table colCount={7} rowCount={preview.types.length + 1}>
            <Thead>
              <Tr>
                <Th>
                  <Typography variant="sigma">{t('list.contentTypes', 'Content types')}</Typography>
                </Th>
                {STATES.map((state) => (
                  <Th key={state}>
                    <Typography variant="sigma">{t(`import.state.${state}`, state)}</Typography>
                  </Th>
                ))}
                <Th>
                  <Typography variant="sigma">{t('import.preview.matchBy', 'Matched by')}</Typography>
                </Th>
              </Tr>
            </Thead>
            <Tbody>
              {preview.types.map((ty) => (
                <Tr key={ty.uid} aria-label={ty.displayName}>
                  <Td>
                    <TextButton onClick={() => setSelected({ uid: ty.uid, state: '' })}>
                      <Typography fontWeight="bold" textColor="primary600">
                        {ty.displayName}
                      </Typography>
                    </TextButton>
                  </Td>
                  {STATES.map((state) => (
                    <Td key={state}>
                      {ty.counts[state] > 0 ? (
                        <TextButton
                          onClick={() => setSelected({ uid: ty.uid, state })}
                          aria-label={t('import.preview.show', '{count} {state} in {type}', {
                            count: ty.counts[state],
                            state: t(`import.state.${state}`, state),
                            type: ty.displayName,
                          })}
                        >
                          <Typography fontWeight="bold" textColor={state === 'conflict' ? 'danger600' : 'primary600'}>
                            {ty.counts[state]}
                          </Typography>
                        </TextButton>
                      ) : (
                        <Typography textColor="neutral500">0</Typography>
                      )}
                    </Td>
                  ))}
                  <Td>
                    <Typography>{ty.matchBy ?? 'documentId'}</Typography>
                  </Td>
                </Tr>
              ))}
            </Tbody>
          </Table>
        </Wide>
        <Typography variant="pi" textColor="neutral600">
          {preview.mirror
            ? t('import.preview.absent.mirror', 'Mirror is on: documents here but not in the archive will be deleted.')
            : t('import.preview.absent', 'Documents here but not in the archive are kept.')}{' '}
          {t('import.preview.media', 'Media files: {reused} already here (reused), {added} to add.', { reused: preview.media.reused, added: preview.media.added })}
        </Typography>
      </Section>

      {selected && type ? (
        <Section title={t('import.preview.documents', 'Documents of {type}', { type: type.displayName })}>
          <DocumentList
            label={t('import.preview.documents', 'Documents of {type}', { type: type.displayName })}
            previewId={preview.id}
            uid={selected.uid}
            state={selected.state}
            onState={(state) => setSelected({ uid: selected.uid, state })}
            onOpen={setOpen}
          />
        </Section>
      ) : (
        <Box paddingLeft={2}>
          <Typography textColor="neutral600">{t('import.preview.hint', 'Click a content type or a count to list its documents, and a document to compare it field by field.')}</Typography>
        </Box>
      )}

      {preview.dangling.length > 0 ? (
        <Section title={t('import.dangling.title', 'Links to documents that are in neither side ({count})', { count: preview.dangling.length })}>
          <Typography>{t('import.dangling.help', 'These relations point at documents that are not in the archive nor here. You choose what to do with them before the import.')}</Typography>
          <DanglingList preview={preview} items={preview.dangling} />
        </Section>
      ) : null}

      <DiffModal previewId={preview.id} doc={open} onClose={() => setOpen(null)} />
    </Flex>
  );
};
