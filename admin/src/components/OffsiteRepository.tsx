import { useEffect, useState } from 'react';

import { Box, Button, Flex, Typography } from '@strapi/design-system';
import { useFetchClient, useNotification } from '@strapi/strapi/admin';
import { useIntl } from 'react-intl';

import type { Job } from '../../../server/src/contracts/backups';
import { useJob } from '../hooks/useJob';
import { useT } from '../hooks/useT';
import { PLUGIN_ID } from '../pluginId';
import { formatBytes } from '../utils/format';

/** GET /metrics' `offsite`: what the last backup's collection or the last check measured. */
export interface OffsiteFigures {
  at: string;
  backups: number;
  objects: number;
  storedBytes: number;
  logicalBytes: number;
  ratio: number | null;
}

/**
 * Monitoring's off-site box: the bytes stored off-site against the archives they hold (what
 * deduplication saves), and the repository check on demand (every index, every object looked
 * for, a sample read back). The check's result lands in the alerts and the history.
 */
export const OffsiteRepository = ({ figures, canCheck, onChecked }: { figures: OffsiteFigures | null; canCheck: boolean; onChecked: () => void }) => {
  const t = useT();
  const { formatDate } = useIntl();
  const { post } = useFetchClient();
  const { toggleNotification } = useNotification();
  const [jobId, setJobId] = useState<string | null>(null);
  const { job } = useJob(jobId);

  useEffect(() => {
    if (!job?.finishedAt) return;
    toggleNotification(
      job.status === 'succeeded'
        ? { type: 'success', message: t('monitoring.offsite.check.ok', 'The off-site copies are whole: every index reads, every object is there, the sample matches.') }
        : { type: 'danger', message: job.error?.message ?? t('monitoring.offsite.check.failed', 'The check failed.') }
    );
    setJobId(null);
    onChecked();
  }, [job?.finishedAt]);

  const check = async () => {
    try {
      const { data } = await post<{ data: Job }>(`/${PLUGIN_ID}/offsite/check`, {});
      setJobId(data.data.id);
    } catch (error) {
      toggleNotification({ type: 'danger', message: (error as { response?: { data?: { error?: { message?: string } } } }).response?.data?.error?.message ?? String(error) });
    }
  };

  return (
    <Box background="neutral0" hasRadius shadow="tableShadow" padding={6}>
      <Flex direction="column" alignItems="stretch" gap={3} role="region" aria-label={t('monitoring.offsite', 'Off-site copies')}>
        <Typography variant="delta" tag="h2">
          {t('monitoring.offsite', 'Off-site copies')}
        </Typography>
        <Typography data-testid="offsite-figures">
          {figures
            ? t('monitoring.offsite.figures', '{stored} stored for {logical} of backups ({percent}%), {backups, plural, one {# backup} other {# backups}} in {objects, plural, one {# object} other {# objects}}; measured {date}', {
                stored: formatBytes(figures.storedBytes),
                logical: formatBytes(figures.logicalBytes),
                percent: figures.ratio == null ? '—' : Math.round(figures.ratio * 1000) / 10,
                backups: figures.backups,
                objects: figures.objects,
                date: formatDate(figures.at, { dateStyle: 'medium', timeStyle: 'short' }),
              })
            : t('monitoring.offsite.none', 'Not measured yet: the next backup or check measures it.')}
        </Typography>
        {canCheck ? (
          <Flex>
            <Button variant="secondary" onClick={check} loading={Boolean(jobId)}>
              {t('monitoring.offsite.check', 'Check the copies now')}
            </Button>
          </Flex>
        ) : null}
      </Flex>
    </Box>
  );
};
