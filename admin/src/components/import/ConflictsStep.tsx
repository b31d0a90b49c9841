import { useState } from 'react';

import { Badge, Box, Button, Field, Flex, SingleSelect, SingleSelectOption, Typography } from '@strapi/design-system';

import type { ImportPolicy, ImportPreview, PreviewDocument } from '../../../../server/src/contracts/imports';
import { useT } from '../../hooks/useT';
import { Section } from '../Section';
import { DiffModal } from './DiffModal';
import { DocumentList } from './DocumentList';
import { type Choices, type KnownConflicts, POLICIES } from './shared';

interface Props {
  preview: ImportPreview;
  choices: Choices;
  onChoices: (next: Choices) => void;
  known: KnownConflicts;
  onKnown: (docs: PreviewDocument[]) => void;
  unresolved: number;
}

/** Step 4: a policy per content type, overridden per document, and per field for a conflict. */
export const ConflictsStep = ({ preview, choices, onChoices, known, onKnown, unresolved }: Props) => {
  const t = useT();
  const [expanded, setExpanded] = useState<string | null>(preview.types.find((ty) => ty.counts.conflict > 0)?.uid ?? null);
  const [open, setOpen] = useState<PreviewDocument | null>(null);
  const types = preview.types.filter((ty) => ty.counts.conflict > 0);
  const policyLabel = (policy: ImportPolicy) => t(`import.policy.${policy}`, policy);

  const setPolicy = (uid: string, policy: ImportPolicy | '') => {
    const policies = { ...choices.policies };
    if (policy) policies[uid] = policy;
    else delete policies[uid];
    onChoices({ ...choices, policies });
  };
  const setDocument = (key: string, policy: ImportPolicy | '') => {
    const documents = { ...choices.documents };
    if (policy) documents[key] = policy;
    else delete documents[key];
    onChoices({ ...choices, documents });
  };
  const setField = (key: string, field: string, side: 'current' | 'incoming') =>
    onChoices({ ...choices, fields: { ...choices.fields, [key]: { ...choices.fields[key], [field]: side } } });

  const decided = (doc: PreviewDocument) => {
    const fields = known[doc.key]?.conflicts ?? doc.conflicts;
    const chosen = fields.filter((f) => choices.fields[doc.key]?.[f]).length;
    return { chosen, total: fields.length };
  };

  return (
    <Flex direction="column" alignItems="stretch" gap={6}>
      <Box background={unresolved ? 'warning100' : 'success100'} hasRadius padding={4} role="status" aria-live="polite" data-testid="unresolved">
        <Typography fontWeight="bold" textColor={unresolved ? 'warning700' : 'success700'}>
          {unresolved
            ? t('import.conflicts.left', '{count, plural, one {# conflict has} other {# conflicts have}} no decision yet', { count: unresolved })
            : t('import.conflicts.none', 'Every conflict has a decision.')}
        </Typography>
      </Box>
      {types.length === 0 ? (
        <Section>
          <Typography>{t('import.conflicts.empty', 'There is no conflict: nothing to decide here.')}</Typography>
        </Section>
      ) : null}
      {types.map((ty) => (
        <Section key={ty.uid} title={t('import.conflicts.type', '{type}: {count, plural, one {# conflict} other {# conflicts}}', { type: ty.displayName, count: ty.counts.conflict })}>
          <Flex gap={4} alignItems="flex-end" wrap="wrap">
            <Box minWidth="28rem">
              <Field.Root name={`policy-${ty.uid}`} hint={t('import.conflicts.policy.hint', 'Applies to every conflict of this type without its own choice')}>
                <Field.Label>{t('import.conflicts.policy', 'Policy for {type}', { type: ty.displayName })}</Field.Label>
                <SingleSelect
                  placeholder={t('import.conflicts.choose', 'Choose…')}
                  value={choices.policies[ty.uid] ?? ''}
                  onChange={(value: string | number) => setPolicy(ty.uid, String(value) as ImportPolicy)}
                  onClear={() => setPolicy(ty.uid, '')}
                >
                  {POLICIES.map((policy) => (
                    <SingleSelectOption key={policy} value={policy}>
                      {policyLabel(policy)}
                    </SingleSelectOption>
                  ))}
                </SingleSelect>
                <Field.Hint />
              </Field.Root>
            </Box>
            <Button variant="tertiary" onClick={() => setExpanded(expanded === ty.uid ? null : ty.uid)}>
              {expanded === ty.uid ? t('import.conflicts.hide', 'Hide the documents') : t('import.conflicts.show', 'Decide document by document')}
            </Button>
          </Flex>
          <Typography variant="pi" textColor="neutral600">
            {t('import.conflicts.policies', 'Keep current: this app’s version stays. Take incoming: the archive’s version replaces it. Newer wins: the version edited last (updatedAt). Skip: the document is left out of the import.')}
          </Typography>
          {expanded === ty.uid ? (
            <DocumentList
              label={t('import.conflicts.documents', 'Conflicts of {type}', { type: ty.displayName })}
              previewId={preview.id}
              uid={ty.uid}
              state="conflict"
              onOpen={setOpen}
              onRows={onKnown}
              extra={{
                title: t('import.conflicts.decision', 'Decision'),
                render: (doc) => {
                  const { chosen, total } = decided(doc);
                  return (
                    <Flex direction="column" alignItems="stretch" gap={2} minWidth="22rem">
                      <SingleSelect
                        size="S"
                        aria-label={t('import.conflicts.documentPolicy', 'Policy for {label}', { label: doc.label || doc.documentId })}
                        value={choices.documents[doc.key] ?? ''}
                        onChange={(value: string | number) => setDocument(doc.key, String(value) as ImportPolicy | '')}
                      >
                        <SingleSelectOption value="">
                          {choices.policies[ty.uid]
                            ? t('import.conflicts.typeDefault', 'As the type: {policy}', { policy: policyLabel(choices.policies[ty.uid]) })
                            : t('import.conflicts.noPolicy', 'No decision')}
                        </SingleSelectOption>
                        {POLICIES.map((policy) => (
                          <SingleSelectOption key={policy} value={policy}>
                            {policyLabel(policy)}
                          </SingleSelectOption>
                        ))}
                      </SingleSelect>
                      <Flex gap={2} alignItems="center">
                        <Button variant="secondary" size="S" onClick={() => setOpen(doc)} aria-label={t('import.conflicts.fieldsOf', 'Choose field by field for {label}', { label: doc.label || doc.documentId })}>
                          {t('import.conflicts.fields', 'Field by field')}
                        </Button>
                        {chosen > 0 ? (
                          <Badge variant={chosen === total ? 'success' : 'secondary'}>{t('import.conflicts.fieldsChosen', '{chosen}/{total} fields', { chosen, total })}</Badge>
                        ) : null}
                      </Flex>
                    </Flex>
                  );
                },
              }}
            />
          ) : null}
        </Section>
      ))}
      <DiffModal
        previewId={preview.id}
        doc={open}
        onClose={() => setOpen(null)}
        resolve={open ? { chosen: choices.fields[open.key] ?? {}, onChoose: (field, side) => setField(open.key, field, side) } : undefined}
      />
    </Flex>
  );
};
