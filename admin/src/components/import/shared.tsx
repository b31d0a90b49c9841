import type { ReactNode } from 'react';

import { Badge, Box, Flex, Typography } from '@strapi/design-system';

import type { DocumentState, ImportPolicy, ImportPreview } from '../../../../server/src/contracts/imports';
import { useT } from '../../hooks/useT';

export const STEPS = ['source', 'validation', 'preview', 'conflicts', 'confirm', 'progress', 'report'] as const;
export type Step = (typeof STEPS)[number];

export const STATES: DocumentState[] = ['create', 'update', 'unchanged', 'conflict', 'absent'];
export const POLICIES: ImportPolicy[] = ['keep', 'incoming', 'newer', 'skip'];

/** What the preview is asked for besides the source. */
export interface PreviewOptions {
  skipIncompatible: boolean;
  mirror: boolean;
  /** uid → a unique attribute that identifies a document on both sides (documentIds differ). */
  match: Record<string, string>;
}

/** The user's decisions, kept by the page so that going back and forth loses none. */
export interface Choices {
  policies: Record<string, ImportPolicy>;
  documents: Record<string, ImportPolicy>;
  fields: Record<string, Record<string, 'current' | 'incoming'>>;
  dangling: 'drop' | 'stop';
}

/** Conflict documents seen so far (key → content type and fields needing a decision). */
export type KnownConflicts = Record<string, { uid: string; conflicts: string[] }>;

/** How many conflicts have no decision yet: no policy for their type, no override, not every field chosen. */
export const countUnresolved = (preview: ImportPreview, choices: Choices, known: KnownConflicts) => {
  let left = 0;
  for (const type of preview.types) {
    if (!type.counts.conflict || choices.policies[type.uid]) continue;
    const decided = Object.entries(known).filter(
      ([key, doc]) =>
        doc.uid === type.uid &&
        (Boolean(choices.documents[key]) || (doc.conflicts.length > 0 && doc.conflicts.every((field) => choices.fields[key]?.[field])))
    ).length;
    left += Math.max(0, type.counts.conflict - decided);
  }
  return left;
};

/** The wizard's steps, the current one marked. */
export const Stepper = ({ current }: { current: Step }) => {
  const t = useT();
  const index = STEPS.indexOf(current);
  return (
    <Box tag="ol" aria-label={t('import.steps', 'Import steps')}>
      <Flex gap={2} wrap="wrap">
        {STEPS.map((step, i) => (
          <li key={step} aria-current={step === current ? 'step' : undefined} style={{ listStyle: 'none' }}>
            <Box
              paddingLeft={3}
              paddingRight={3}
              paddingTop={1}
              paddingBottom={1}
              hasRadius
              background={step === current ? 'primary600' : i < index ? 'primary100' : 'neutral150'}
            >
              <Typography variant="pi" fontWeight={step === current ? 'bold' : 'regular'} textColor={step === current ? 'neutral0' : 'neutral700'}>
                {`${i + 1}. ${t(`import.step.${step}`, step)}`}
              </Typography>
            </Box>
          </li>
        ))}
      </Flex>
    </Box>
  );
};

/** An error that says what is wrong and what to do about it. */
export const ErrorNote = ({ title, message, hint, action }: { title: string; message?: string; hint?: string; action?: ReactNode }) => (
  <Box background="danger100" borderColor="danger200" hasRadius padding={4} role="alert">
    <Flex direction="column" alignItems="stretch" gap={2}>
      <Typography fontWeight="bold" textColor="danger700">
        {title}
      </Typography>
      {message ? <Typography textColor="danger700">{message}</Typography> : null}
      {hint ? <Typography textColor="neutral800">{hint}</Typography> : null}
      {action ? <Flex gap={2}>{action}</Flex> : null}
    </Flex>
  </Box>
);

export const StateBadge = ({ state }: { state: DocumentState }) => {
  const t = useT();
  const variant = state === 'conflict' ? 'danger' : state === 'create' ? 'success' : state === 'update' ? 'primary' : state === 'absent' ? 'warning' : 'secondary';
  return <Badge variant={variant}>{t(`import.state.${state}`, state)}</Badge>;
};

/** A field's value as text: scalars as they are, everything else as indented JSON. */
export const formatValue = (value: unknown) => {
  if (value === undefined || value === null || value === '') return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, null, 2);
};

/** A value in a table cell: long text and JSON wrap and scroll instead of widening the table. */
export const ValueCell = ({ value }: { value: unknown }) => (
  <Box
    tag="pre"
    margin={0}
    style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word', maxHeight: '12rem', overflow: 'auto', fontFamily: 'inherit', fontSize: '1.3rem' }}
  >
    {formatValue(value)}
  </Box>
);

/** A table that scrolls sideways inside its card on narrow screens instead of overflowing it. */
export const Wide = ({ children }: { children: ReactNode }) => <Box style={{ overflowX: 'auto', maxWidth: '100%' }}>{children}</Box>;
