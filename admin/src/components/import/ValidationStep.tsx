import { useState } from 'react';

import { Badge, Box, Button, Checkbox, Field, Flex, Table, Tbody, Td, TextInput, Th, Thead, Tr, Typography } from '@strapi/design-system';

import type { Job } from '../../../../server/src/contracts/backups';
import type { ImportPreview, PreviewJobResult, ValidationCheck } from '../../../../server/src/contracts/imports';
import { useT } from '../../hooks/useT';
import { JobProgress } from '../JobProgress';
import { Section } from '../Section';
import { ErrorNote, type PreviewOptions, Wide } from './shared';

/** The job error codes that mean the archive is encrypted and the passphrase is missing or wrong. */
export const KEY_ERRORS = ['WRONG_KEY', 'NO_KEY'];

interface Props {
  job: Job | null;
  /** A request error before the job started (e.g. 403, 404, 409 another job runs). */
  startError: string | null;
  preview: ImportPreview | null;
  options: PreviewOptions;
  /** This app's content types, to match documents by an attribute. */
  types: Array<{ uid: string; displayName: string }>;
  /** The failed preview was sent with a passphrase the user typed (not this app's key). */
  typed: boolean;
  /** Runs the preview again with these options (and the passphrase, when asked). */
  onRetry: (options: PreviewOptions & { passphrase?: string }) => void;
  onBack: () => void;
}

/** Step 2: each check with its result, the schema compatibility report, the passphrase prompt. */
export const ValidationStep = ({ job, startError, preview, options, types, typed, onRetry, onBack }: Props) => {
  const t = useT();
  // The passphrase lives in this field only until it is sent with the preview request.
  const [passphrase, setPassphrase] = useState('');
  const [skip, setSkip] = useState(options.skipIncompatible);
  const [deleteAbsent, setDeleteAbsent] = useState(options.mirror);
  const [match, setMatch] = useState<Record<string, string>>(options.match);
  const chosen = () => ({
    skipIncompatible: skip,
    mirror: deleteAbsent,
    match: Object.fromEntries(Object.entries(match).map(([uid, a]) => [uid, a.trim()]).filter(([, a]) => a)),
  });
  const changed = JSON.stringify(chosen()) !== JSON.stringify(options);

  const checks: ValidationCheck[] = preview?.checks ?? (job?.result as PreviewJobResult | null)?.checks ?? [];
  const failed = job?.finishedAt && job.status !== 'succeeded' && job.status !== 'warning';
  const needsKey = Boolean(failed && KEY_ERRORS.includes(job?.error?.code ?? ''));
  const incompatible = Boolean(failed && checks.some((c) => c.id === 'compatibility' && !c.ok));
  const checkLabel = (check: ValidationCheck) => t(`import.check.${check.id}`, check.id);

  return (
    <Flex direction="column" alignItems="stretch" gap={6}>
      {startError ? (
        <ErrorNote
          title={t('import.validation.notStarted', 'The preview could not start')}
          message={startError}
          hint={t('import.validation.notStarted.hint', 'If another backup, restore or import is running, wait for it to finish and try again.')}
          action={
            <Button variant="secondary" onClick={() => onRetry(chosen())}>
              {t('import.action.retry', 'Try again')}
            </Button>
          }
        />
      ) : null}
      {job && !job.finishedAt ? (
        <Section title={t('import.validation.running', 'Checking the archive and comparing it with this app')}>
          <JobProgress job={job} />
        </Section>
      ) : null}

      {checks.length > 0 ? (
        <Section title={t('import.validation.checks', 'Checks')} label={t('import.validation.checks', 'Checks')}>
          <Wide>
            <Table colCount={3} rowCount={checks.length + 1}>
              <Thead>
                <Tr>
                  <Th>
                    <Typography variant="sigma">{t('import.validation.check', 'Check')}</Typography>
                  </Th>
                  <Th>
                    <Typography variant="sigma">{t('import.validation.result', 'Result')}</Typography>
                  </Th>
                  <Th>
                    <Typography variant="sigma">{t('import.validation.found', 'What was found')}</Typography>
                  </Th>
                </Tr>
              </Thead>
              <Tbody>
                {checks.map((check) => (
                  <Tr key={check.id}>
                    <Td>
                      <Typography fontWeight="bold">{checkLabel(check)}</Typography>
                    </Td>
                    <Td>
                      <Badge variant={check.ok ? 'success' : 'danger'}>{check.ok ? t('import.validation.passed', 'Passed') : t('import.validation.failed', 'Failed')}</Badge>
                    </Td>
                    <Td>
                      <Typography style={{ whiteSpace: 'normal', wordBreak: 'break-word' }}>{check.message}</Typography>
                    </Td>
                  </Tr>
                ))}
              </Tbody>
            </Table>
          </Wide>
        </Section>
      ) : null}

      {needsKey ? (
        <Section title={t('import.validation.encrypted', 'This archive is encrypted')}>
          <Typography textColor={typed ? 'danger600' : 'neutral800'} role="alert">
            {typed
              ? t('import.validation.wrongKey', 'The passphrase does not open this archive. Type it again.')
              : t('import.validation.noKey', 'This app’s key does not open it: type the passphrase it was encrypted with.')}
          </Typography>
          <Field.Root name="passphrase" hint={t('import.validation.passphrase.hint', 'Sent with this preview request only, never stored or logged; the import asks for it again.')}>
            <Field.Label>{t('import.validation.passphrase', 'Passphrase')}</Field.Label>
            <TextInput type="password" autoComplete="off" value={passphrase} onChange={(e: React.ChangeEvent<HTMLInputElement>) => setPassphrase(e.target.value)} />
            <Field.Hint />
          </Field.Root>
          <Box>
            <Button
              disabled={!passphrase}
              onClick={() => {
                onRetry({ ...chosen(), passphrase });
                setPassphrase('');
              }}
            >
              {t('import.validation.unlock', 'Open the archive')}
            </Button>
          </Box>
        </Section>
      ) : null}

      {failed && !needsKey ? (
        <ErrorNote
          title={t('import.validation.rejected', 'The archive was not accepted')}
          message={job?.error?.message}
          hint={
            incompatible
              ? t('import.validation.incompatible.hint', 'Some content types have another schema here. Leave them out and preview again, or update this app’s schema first.')
              : t('import.validation.rejected.hint', 'Nothing was changed. Choose another archive, or download it again if it was damaged on the way.')
          }
          action={
            <>
              {incompatible ? (
                <Button
                  variant="secondary"
                  onClick={() => {
                    setSkip(true);
                    onRetry({ ...chosen(), skipIncompatible: true });
                  }}
                >
                  {t('import.validation.skipAndRetry', 'Leave them out and preview again')}
                </Button>
              ) : null}
              <Button variant="tertiary" onClick={onBack}>
                {t('import.validation.otherSource', 'Choose another source')}
              </Button>
            </>
          }
        />
      ) : null}

      {preview ? (
        <Section title={t('import.validation.compatibility', 'Schema compatibility')} label={t('import.validation.compatibility', 'Schema compatibility')}>
          <Wide>
            <Table colCount={3} rowCount={preview.compatibility.length + 1}>
              <Thead>
                <Tr>
                  <Th>
                    <Typography variant="sigma">{t('list.contentTypes', 'Content types')}</Typography>
                  </Th>
                  <Th>
                    <Typography variant="sigma">{t('list.state', 'State')}</Typography>
                  </Th>
                  <Th>
                    <Typography variant="sigma">{t('import.validation.differences', 'Differences')}</Typography>
                  </Th>
                </Tr>
              </Thead>
              <Tbody>
                {preview.compatibility.map((entry) => (
                  <Tr key={entry.uid}>
                    <Td>
                      <Typography fontWeight="bold">{entry.displayName}</Typography>
                    </Td>
                    <Td>
                      <Flex gap={1} wrap="wrap">
                        <Badge variant={entry.status === 'compatible' ? 'success' : entry.status === 'missing' ? 'danger' : 'warning'}>
                          {t(`import.compat.${entry.status}`, entry.status)}
                        </Badge>
                        {entry.skipped ? <Badge variant="secondary">{t('import.compat.skipped', 'Left out')}</Badge> : null}
                      </Flex>
                    </Td>
                    <Td>
                      {entry.differences.length === 0 ? (
                        <Typography textColor="neutral600">—</Typography>
                      ) : (
                        <Box tag="ul" paddingLeft={4}>
                          {entry.differences.map((d) => (
                            <li key={`${d.attribute}-${d.kind}`}>
                              <Typography style={{ whiteSpace: 'normal' }}>
                                {d.kind === 'type'
                                  ? t('import.compat.type', '{attribute}: {archiveType} in the archive, {hereType} here', {
                                      attribute: d.attribute,
                                      archiveType: d.archiveType ?? '?',
                                      hereType: d.hereType ?? '?',
                                    })
                                  : d.kind === 'archive-only'
                                    ? t('import.compat.archiveOnly', '{attribute}: only in the archive', { attribute: d.attribute })
                                    : t('import.compat.hereOnly', '{attribute}: only here', { attribute: d.attribute })}
                              </Typography>
                            </li>
                          ))}
                        </Box>
                      )}
                    </Td>
                  </Tr>
                ))}
              </Tbody>
            </Table>
          </Wide>
        </Section>
      ) : null}

      {job?.finishedAt || startError ? (
        <Section title={t('import.validation.options', 'Options')}>
          <Checkbox checked={skip} onCheckedChange={(on: boolean | 'indeterminate') => setSkip(on === true)}>
            {t('import.validation.skipIncompatible', 'Leave out the content types whose schema differs here')}
          </Checkbox>
          <Checkbox checked={deleteAbsent} onCheckedChange={(on: boolean | 'indeterminate') => setDeleteAbsent(on === true)}>
            {t('import.validation.mirror', 'Mirror: delete the documents that are here but not in the archive')}
          </Checkbox>
          <Typography variant="sigma" textColor="neutral600">
            {t('import.validation.match', 'Match documents by an attribute')}
          </Typography>
          <Typography variant="pi" textColor="neutral600">
            {t('import.validation.match.hint', 'Only for an archive from an instance whose documentIds differ: a unique attribute found on both sides, such as a contract’s number. Empty: by documentId.')}
          </Typography>
          <Flex gap={4} wrap="wrap" alignItems="flex-start">
            {types.map((type) => (
              <Box key={type.uid} minWidth="20rem">
                <Field.Root name={`match-${type.uid}`}>
                  <Field.Label>{t('import.validation.matchFor', '{type}: match by', { type: type.displayName })}</Field.Label>
                  <TextInput
                    placeholder="documentId"
                    value={match[type.uid] ?? ''}
                    onChange={(e: React.ChangeEvent<HTMLInputElement>) => setMatch({ ...match, [type.uid]: e.target.value })}
                  />
                </Field.Root>
              </Box>
            ))}
          </Flex>
          {changed ? (
            <Box>
              <Button variant="secondary" onClick={() => onRetry(chosen())}>
                {t('import.validation.rerun', 'Preview again with these options')}
              </Button>
            </Box>
          ) : null}
        </Section>
      ) : null}
    </Flex>
  );
};
