import { Badge, Flex } from '@strapi/design-system';
import { useIntl } from 'react-intl';

import type { Backup } from '../../../server/src/contracts/backups';
import { isLocked } from '../utils/backups';
import { getTranslation } from '../utils/translations';

/** State (verified, damaged, completed with warnings), drill result, off-site copy, encrypted and keep, as badges. */
export const BackupBadges = ({ backup }: { backup: Backup }) => {
  const { formatMessage } = useIntl();
  const t = (id: string, defaultMessage: string) => formatMessage({ id: getTranslation(id), defaultMessage });
  return (
    <Flex gap={1} wrap="wrap">
      {isLocked(backup) ? (
        <Badge variant="warning" title={backup.error}>
          {t('badge.locked', 'Locked: another key')}
        </Badge>
      ) : backup.status === 'damaged' ? (
        <Badge variant="danger">{t('badge.damaged', 'Damaged')}</Badge>
      ) : backup.verifiedAt ? (
        <Badge variant="success">{t('badge.verified', 'Verified')}</Badge>
      ) : (
        <Badge variant="warning">{t('badge.unverified', 'Not verified')}</Badge>
      )}
      {backup.status === 'warning' ? (
        <Badge variant="warning" title={(backup.warnings ?? []).join('\n')}>
          {t('badge.warnings', 'Completed with warnings')}
        </Badge>
      ) : null}
      {backup.drill ? (
        <Badge variant={backup.drill.status === 'passed' ? 'success' : 'danger'}>
          {backup.drill.status === 'passed' ? t('badge.drill.passed', 'Drill passed') : t('badge.drill.failed', 'Drill failed')}
        </Badge>
      ) : null}
      {backup.offsite ? (
        <Badge
          variant={backup.offsite.status === 'copied' ? 'success' : backup.offsite.status === 'pending' ? 'warning' : 'danger'}
          title={backup.offsite.error ?? backup.offsite.location}
        >
          {backup.offsite.status === 'copied'
            ? t('badge.offsite.copied', 'Off-site')
            : backup.offsite.status === 'pending'
              ? t('badge.offsite.pending', 'Off-site copy pending')
              : t('badge.offsite.failed', 'Off-site copy failed')}
        </Badge>
      ) : null}
      {backup.encrypted ? <Badge variant="secondary">{t('badge.encrypted', 'Encrypted')}</Badge> : null}
      {backup.keep ? <Badge variant="primary">{t('badge.keep', 'Kept')}</Badge> : null}
    </Flex>
  );
};
