import { useEffect, useState } from 'react';

import { Flex, Typography } from '@strapi/design-system';
import { useIntl } from 'react-intl';

import type { Job } from '../../../server/src/contracts/backups';
import { formatBytes, formatDuration } from '../utils/format';
import { getTranslation } from '../utils/translations';
import { Progress } from './Progress';

/** A job's live progress: phase, percent, bytes written and time elapsed. */
export const JobProgress = ({ job }: { job: Job }) => {
  const { formatMessage } = useIntl();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (job.finishedAt) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [job.finishedAt]);

  const done = job.status === 'succeeded' || job.status === 'warning';
  const percent = done ? 100 : job.progress.total > 0 ? Math.min(99, Math.floor((job.progress.done / job.progress.total) * 100)) : 0;
  const elapsed = (job.finishedAt ? Date.parse(job.finishedAt) : now) - Date.parse(job.startedAt);
  const phase = formatMessage({ id: getTranslation(`phase.${job.phase}`), defaultMessage: job.phase });

  return (
    <Flex direction="column" alignItems="stretch" gap={2}>
      <Flex justifyContent="space-between">
        <Typography variant="omega" fontWeight="bold">
          {phase}
        </Typography>
        <Typography variant="omega" data-testid="job-percent">
          {percent}%
        </Typography>
      </Flex>
      <Progress value={percent} size="M" aria-label={phase} $tone={job.status === 'failed' || job.status === 'interrupted' ? 'danger' : job.status === 'warning' ? 'warning' : 'primary'} />
      <Typography variant="pi" textColor="neutral600">
        {formatMessage(
          { id: getTranslation('job.progress'), defaultMessage: '{bytes} written · {elapsed}' },
          { bytes: formatBytes(job.progress.bytes), elapsed: formatDuration(elapsed) }
        )}
      </Typography>
    </Flex>
  );
};
