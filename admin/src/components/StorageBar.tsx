import { Flex, Typography } from '@strapi/design-system';

import type { StorageInfo } from '../../../server/src/contracts/backups';
import { useT } from '../hooks/useT';
import { formatBytes } from '../utils/format';
import { storageTone, usedPercent } from '../utils/storage';
import { Progress } from './Progress';

/** "10%" as is, bytes as "1.5 GB". */
const threshold = (value: number | string) => (typeof value === 'number' ? formatBytes(value) : value);

const TEXT = { success: 'neutral600', warning: 'warning600', danger: 'danger600' } as const;

/** The storage volume's used space as a bar coloured by the low-space threshold, with the figures. */
export const StorageBar = ({
  storage,
  spaceAlertBelow,
  figures = true,
}: {
  storage: Pick<StorageInfo, 'used' | 'free' | 'total'>;
  spaceAlertBelow: number | string;
  /** The free, total and used figures under the bar (off where the page already says them). */
  figures?: boolean;
}) => {
  const t = useT();
  const tone = storageTone(storage, spaceAlertBelow);
  const label = t('create.storage', 'Storage');
  return (
    <Flex direction="column" alignItems="stretch" gap={2}>
      <Progress value={usedPercent(storage)} $tone={tone} aria-label={label} data-tone={tone} data-testid="storage-bar" />
      {figures || tone === 'danger' ? (
        <Typography variant="pi" textColor={TEXT[tone]}>
          {[
            figures
              ? t('create.storage.free', '{free} free of {total} · backups use {used}', {
                  free: formatBytes(storage.free),
                  total: formatBytes(storage.total),
                  used: formatBytes(storage.used),
                })
              : null,
            tone === 'danger' ? t('storage.low', 'Below the alert threshold ({threshold})', { threshold: threshold(spaceAlertBelow) }) : null,
          ]
            .filter(Boolean)
            .join(' · ')}
        </Typography>
      ) : null}
    </Flex>
  );
};
