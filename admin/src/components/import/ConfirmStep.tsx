import { Box, Flex, Radio, Table, Tbody, Td, Th, Thead, Tr, Typography } from '@strapi/design-system';

import type { ImportPreview } from '../../../../server/src/contracts/imports';
import { useT } from '../../hooks/useT';
import { Section } from '../Section';
import { DanglingList } from './PreviewStep';
import { type Choices, Wide } from './shared';

interface Props {
  preview: ImportPreview;
  choices: Choices;
  onChoices: (next: Choices) => void;
}

/** Step 5: what will be created, updated and left, the safety backup, and what to do with dangling links. */
export const ConfirmStep = ({ preview, choices, onChoices }: Props) => {
  const t = useT();
  const overrides = (uid: string) => Object.keys(choices.documents).filter((key) => key.startsWith(`${uid}|`)).length;
  const fieldChoices = (uid: string) => Object.keys(choices.fields).filter((key) => key.startsWith(`${uid}|`)).length;

  return (
    <Flex direction="column" alignItems="stretch" gap={6}>
      <Section title={t('import.confirm.title', 'Import into this app?')} label={t('import.confirm.title', 'Import into this app?')}>
        <Wide>
          <Table colCount={6} rowCount={preview.types.length + 1}>
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
                  <Typography variant="sigma">{t('import.confirm.conflicts', 'Conflicts, as decided')}</Typography>
                </Th>
                <Th>
                  <Typography variant="sigma">{t('import.confirm.left', 'Left as they are')}</Typography>
                </Th>
                <Th>
                  <Typography variant="sigma">{t('import.confirm.deleted', 'Deleted')}</Typography>
                </Th>
              </Tr>
            </Thead>
            <Tbody>
              {preview.types.map((ty) => (
                <Tr key={ty.uid} aria-label={ty.displayName}>
                  <Td>
                    <Typography fontWeight="bold">{ty.displayName}</Typography>
                  </Td>
                  <Td>
                    <Typography>{ty.counts.create}</Typography>
                  </Td>
                  <Td>
                    <Typography>{ty.counts.update}</Typography>
                  </Td>
                  <Td style={{ maxWidth: '30rem' }}>
                    <Typography style={{ whiteSpace: 'normal' }}>
                      {ty.counts.conflict === 0
                        ? '0'
                        : `${t('import.confirm.conflictCount', '{count, plural, one {# conflict} other {# conflicts}}', { count: ty.counts.conflict })}: ${[
                            choices.policies[ty.uid]
                              ? overrides(ty.uid) || fieldChoices(ty.uid)
                                ? t('import.confirm.policy', 'the others: {policy}', { policy: t(`import.policy.${choices.policies[ty.uid]}`, choices.policies[ty.uid]).toLowerCase() })
                                : t('import.confirm.policyAll', 'all: {policy}', { policy: t(`import.policy.${choices.policies[ty.uid]}`, choices.policies[ty.uid]).toLowerCase() })
                              : null,
                            overrides(ty.uid) ? t('import.confirm.overrides', '{count} with their own policy', { count: overrides(ty.uid) }) : null,
                            fieldChoices(ty.uid) ? t('import.confirm.fieldChoices', '{count} decided field by field', { count: fieldChoices(ty.uid) }) : null,
                          ]
                            .filter(Boolean)
                            .join(', ')}`}
                    </Typography>
                  </Td>
                  <Td>
                    <Typography>{ty.counts.unchanged + (preview.mirror ? 0 : ty.counts.absent)}</Typography>
                  </Td>
                  <Td>
                    <Typography textColor={preview.mirror && ty.counts.absent ? 'danger600' : undefined}>{preview.mirror ? ty.counts.absent : 0}</Typography>
                  </Td>
                </Tr>
              ))}
            </Tbody>
          </Table>
        </Wide>
        <Typography>
          {t('import.preview.media', 'Media files: {reused} already here (reused), {added} to add.', { reused: preview.media.reused, added: preview.media.added })}
        </Typography>
        <Typography fontWeight="bold">
          {t('import.confirm.safety', 'A safety backup of the current data is taken first, and the import runs in one transaction: if anything fails, nothing changes. Undo restores the safety backup.')}
        </Typography>
        <Typography variant="pi" textColor="neutral600">
          {t('import.confirm.contentOnly', 'Only content is imported: admin users, roles, API tokens, settings and webhooks are never written.')}
        </Typography>
      </Section>

      {preview.dangling.length > 0 ? (
        <Section title={t('import.dangling.title', 'Links to documents that are in neither side ({count})', { count: preview.dangling.length })}>
          <DanglingList preview={preview} items={preview.dangling} />
          <Radio.Group
            aria-label={t('import.dangling.choose', 'What to do with these links')}
            value={choices.dangling}
            onValueChange={(value: string) => onChoices({ ...choices, dangling: value as 'drop' | 'stop' })}
          >
            <Radio.Item value="drop">{t('import.dangling.drop', 'Drop these links and list them in the report')}</Radio.Item>
            <Radio.Item value="stop">{t('import.dangling.stop', 'Stop the import (nothing is changed)')}</Radio.Item>
          </Radio.Group>
        </Section>
      ) : (
        <Box paddingLeft={2}>
          <Typography textColor="neutral600">{t('import.dangling.none', 'Every relation points at a document in the archive or here.')}</Typography>
        </Box>
      )}
    </Flex>
  );
};
