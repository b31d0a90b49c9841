import { type ReactNode, useEffect, useState } from 'react';

import { Button, Flex, Loader, SingleSelect, SingleSelectOption, Table, Tbody, Td, TextButton, Th, Thead, Tr, Typography } from '@strapi/design-system';
import { useFetchClient } from '@strapi/strapi/admin';

import type { DocumentPage, DocumentState, PreviewDocument } from '../../../../server/src/contracts/imports';
import { useT } from '../../hooks/useT';
import { PLUGIN_ID } from '../../pluginId';
import { apiError } from '../../utils/errors';
import { ErrorNote, STATES, StateBadge, Wide } from './shared';

export const PAGE_SIZE = 10;

interface Props {
  previewId: string;
  uid: string;
  state: DocumentState | '';
  /** Lets the user change the state filter (the preview step); fixed otherwise (conflicts). */
  onState?: (state: DocumentState | '') => void;
  onOpen: (doc: PreviewDocument) => void;
  /** One more column (the conflicts step: the document's policy). */
  extra?: { title: string; render: (doc: PreviewDocument) => ReactNode };
  /** Every page of rows loaded, for the caller to learn the conflicts' fields. */
  onRows?: (docs: PreviewDocument[]) => void;
  label: string;
}

/** The documents of one content type in the preview, filtered by state, a page at a time. */
export const DocumentList = ({ previewId, uid, state, onState, onOpen, extra, onRows, label }: Props) => {
  const t = useT();
  const { get } = useFetchClient();
  const [page, setPage] = useState(1);
  const [data, setData] = useState<DocumentPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => setPage(1), [uid, state]);
  useEffect(() => {
    let active = true;
    setData(null);
    setError(null);
    get<{ data: DocumentPage }>(`/${PLUGIN_ID}/imports/previews/${previewId}/documents`, {
      params: { uid, ...(state ? { state } : {}), page, pageSize: PAGE_SIZE },
    })
      .then(({ data: body }) => {
        if (!active) return;
        setData(body.data);
        onRows?.(body.data.results);
      })
      .catch((err) => active && setError(apiError(err).message));
    return () => {
      active = false;
    };
  }, [get, previewId, uid, state, page, attempt]);

  const rows = data?.results ?? [];
  const pageCount = data?.pagination.pageCount ?? 1;
  return (
    <Flex direction="column" alignItems="stretch" gap={3} role="region" aria-label={label}>
      {onState ? (
        <Flex gap={2} alignItems="center">
          <Typography variant="sigma" textColor="neutral600">
            {t('import.documents.filter', 'Show')}
          </Typography>
          <SingleSelect
            aria-label={t('import.documents.filter', 'Show')}
            value={state}
            onChange={(value: string | number) => onState(String(value) as DocumentState | '')}
            size="S"
          >
            <SingleSelectOption value="">{t('import.documents.all', 'All states')}</SingleSelectOption>
            {STATES.map((s) => (
              <SingleSelectOption key={s} value={s}>
                {t(`import.state.${s}`, s)}
              </SingleSelectOption>
            ))}
          </SingleSelect>
        </Flex>
      ) : null}
      {error ? (
        <ErrorNote
          title={t('import.documents.error', 'The documents could not be loaded')}
          message={error}
          hint={t('import.documents.error.hint', 'The preview may have been removed; run it again from the first step.')}
          action={
            <Button variant="secondary" onClick={() => setAttempt((n) => n + 1)}>
              {t('import.action.retry', 'Try again')}
            </Button>
          }
        />
      ) : null}
      {!data && !error ? <Loader small>{t('import.documents.loading', 'Loading documents')}</Loader> : null}
      {data && rows.length === 0 ? <Typography textColor="neutral600">{t('import.documents.none', 'No documents in this state.')}</Typography> : null}
      {rows.length > 0 ? (
        <Wide>
          <Table colCount={extra ? 6 : 5} rowCount={rows.length + 1}>
            <Thead>
              <Tr>
                <Th>
                  <Typography variant="sigma">{t('import.documents.document', 'Document')}</Typography>
                </Th>
                <Th>
                  <Typography variant="sigma">{t('import.documents.locale', 'Locale')}</Typography>
                </Th>
                <Th>
                  <Typography variant="sigma">{t('import.documents.version', 'Version')}</Typography>
                </Th>
                <Th>
                  <Typography variant="sigma">{t('list.state', 'State')}</Typography>
                </Th>
                <Th>
                  <Typography variant="sigma">{t('import.documents.fields', 'Fields that differ')}</Typography>
                </Th>
                {extra ? (
                  <Th>
                    <Typography variant="sigma">{extra.title}</Typography>
                  </Th>
                ) : null}
              </Tr>
            </Thead>
            <Tbody>
              {rows.map((doc) => (
                <Tr key={doc.key} data-key={doc.key}>
                  <Td style={{ maxWidth: '28rem' }}>
                    <TextButton onClick={() => onOpen(doc)} aria-label={t('import.documents.open', 'Compare {label}', { label: doc.label || doc.documentId })}>
                      <Typography fontWeight="bold" textColor="primary600" ellipsis>
                        {doc.label || doc.documentId}
                      </Typography>
                    </TextButton>
                    <Typography variant="pi" textColor="neutral600" tag="p">
                      {doc.documentId}
                    </Typography>
                  </Td>
                  <Td>
                    <Typography>{doc.locale ?? '—'}</Typography>
                  </Td>
                  <Td>
                    <Typography>{t(`import.version.${doc.version}`, doc.version)}</Typography>
                  </Td>
                  <Td>
                    <StateBadge state={doc.state} />
                  </Td>
                  <Td style={{ maxWidth: '24rem' }}>
                    <Typography style={{ whiteSpace: 'normal', wordBreak: 'break-word' }}>
                      {doc.fields.length
                        ? doc.fields.map((f) => (doc.conflicts.includes(f) ? `${f} ⚠` : f)).join(', ')
                        : '—'}
                    </Typography>
                  </Td>
                  {extra ? <Td>{extra.render(doc)}</Td> : null}
                </Tr>
              ))}
            </Tbody>
          </Table>
        </Wide>
      ) : null}
      {data && pageCount > 1 ? (
        <Flex gap={2} justifyContent="flex-end" alignItems="center">
          <Button variant="tertiary" size="S" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            {t('import.documents.previous', 'Previous')}
          </Button>
          <Typography>{t('import.documents.page', 'Page {page} of {pages} ({total} documents)', { page, pages: pageCount, total: data.pagination.total })}</Typography>
          <Button variant="tertiary" size="S" disabled={page >= pageCount} onClick={() => setPage(page + 1)}>
            {t('import.documents.next', 'Next page')}
          </Button>
        </Flex>
      ) : null}
    </Flex>
  );
};
