import { Badge, Box, Tooltip } from '@strapi/design-system';

import { useT } from '../hooks/useT';

/** The retention engine's reasons for removing a backup (server/src/engine/retention.ts), in the admin's language. */
const useReason = () => {
  const t = useT();
  const known: Record<string, string> = {
    'outside the retention policy': t('purge.reason.policy', 'Outside the retention policy: not among the backups it keeps'),
    'safety backup older than 24 hours': t('purge.reason.safety', 'Safety backup older than 24 hours'),
  };
  return (reason: string) => known[reason] ?? reason;
};

/** "Removed by the next purge", with why as its tooltip (from GET /purge/preview). */
export const PurgeBadge = ({ reasons }: { reasons: string[] }) => {
  const t = useT();
  const reason = useReason();
  const why = reasons.map(reason).join(' · ');
  return (
    <Tooltip label={why}>
      <Box tag="span" tabIndex={0} data-testid="purge-badge">
        <Badge variant="danger">{t('purge.badge', 'Removed by the next purge')}</Badge>
      </Box>
    </Tooltip>
  );
};
