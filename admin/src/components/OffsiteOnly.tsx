import { useCallback, useEffect, useState } from 'react';

import { Box, Button, Flex, Table, Tbody, Td, Th, Thead, Tr, Typography } from '@strapi/design-system';
import { Download } from '@strapi/icons';
import { useFetchClient, useNotification } from '@strapi/strapi/admin';
import { useIntl } from 'react-intl';

import type { Job, OffsiteCatalogue } from '../../../server/src/contracts/backups';
import { useJob } from '../hooks/useJob';
import { useT } from '../hooks/useT';
import { PLUGIN_ID } from '../pluginId';
import { apiError } from '../utils/errors';
import { formatBytes } from '../utils/format';
import { JobProgress } from './JobProgress';

/** An id is its UTC time first (yyyymmdd-hhmmss-…): the date a copy's backup was made. */
const createdOf = (id: string) => {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : null;
};

/**
 * The backups that are off-site only (another instance's on a shared bucket, or this one's after
 * its disk was lost), with **Bring back**: a fetch job (its SHA-256 checked) after which the
 * backup is in the list, to verify or restore. Nothing shows when copies are off or every copy is
 * here too.
 */
export const OffsiteOnly = ({ canFetch, onFetched, refresh }: { canFetch: boolean; onFetched: () => void; refresh: unknown }) => {
  const t = useT();
  const { formatDate } = useIntl();
  const { get, post } = useFetchClient();
  const { toggleNotification } = useNotification();
  const [catalogue, setCatalogue] = useState<OffsiteCatalogue | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const [fetching, setFetching] = useState<string | null>(null);
  const { job } = useJob(jobId);

  const load = useCallback(() => {
    get<{ data: OffsiteCatalogue }>(`/${PLUGIN_ID}/offsite`).then(
      ({ data }) => setCatalogue(data.data),
      () => setCatalogue(null)
    );
  }, [get]);
  useEffect(load, [load, refresh]);

  /** Starts the fetch job, shows its progress (useJob), and tells once how it ended. */
  const bringBack = async (id: string) => {
    setFetching(id);
    try {
      const { data } = await post<{ data: Job }>(`/${PLUGIN_ID}/offsite/${id}/fetch`, {});
      setJobId(data.data.id);
      let finished = data.data;
      while (!finished.finishedAt) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        finished = (await get<{ data: Job }>(`/${PLUGIN_ID}/jobs/${finished.id}`)).data.data;
      }
      if (finished.status === 'succeeded') {
        toggleNotification({ type: 'success', message: t('offsite.fetched', 'Backup {id} is back in the list: verify or restore it there.', { id }) });
        onFetched();
      } else {
        toggleNotification({ type: 'danger', message: finished.error?.message ?? t('offsite.fetch.failed', 'The backup could not be brought back.') });
      }
    } catch (error) {
      toggleNotification({ type: 'danger', message: apiError(error).message });
    } finally {
      setFetching(null);
      setJobId(null);
      load();
    }
  };

  if (!catalogue?.enabled) return null;
  const only = catalogue.backups.filter((b) => !b.local);
  if (!only.length && !catalogue.error) return null;
  return (
    <Box background="neutral0" hasRadius shadow="tableShadow" padding={6}>
      <Flex direction="column" alignItems="stretch" gap={4}>
        <Flex direction="column" alignItems="flex-start" gap={1}>
          <Typography variant="delta" tag="h2">
            {t('offsite.only', 'Only off-site')}
          </Typography>
          <Typography variant="pi" textColor="neutral600">
            {t('offsite.only.hint', 'Copies in {location} that are not on this server: bring one back to verify or restore it.', { location: catalogue.location ?? '' })}
          </Typography>
        </Flex>
        {catalogue.error ? (
          <Typography textColor="danger600" role="alert">
            {catalogue.error}
          </Typography>
        ) : null}
        {job && !job.finishedAt ? <JobProgress job={job} /> : null}
        {only.length ? (
          <Table colCount={3} rowCount={only.length + 1}>
            <Thead>
              <Tr>
                <Th>
                  <Typography variant="sigma" textColor="neutral600">
                    {t('list.date', 'Date')}
                  </Typography>
                </Th>
                <Th>
                  <Typography variant="sigma" textColor="neutral600">
                    {t('list.size', 'Size')}
                  </Typography>
                </Th>
                <Th>
                  <Typography variant="sigma" textColor="neutral600">
                    {t('offsite.id', 'Backup')}
                  </Typography>
                </Th>
              </Tr>
            </Thead>
            <Tbody>
              {only.map((backup) => {
                const created = createdOf(backup.id);
                return (
                  <Tr key={backup.id} aria-label={backup.id}>
                    <Td>
                      <Typography>{formatDate(created ?? backup.modifiedAt, { dateStyle: 'medium', timeStyle: 'short' })}</Typography>
                    </Td>
                    <Td>
                      <Typography>{formatBytes(backup.size)}</Typography>
                    </Td>
                    <Td>
                      <Flex gap={3} justifyContent="space-between">
                        <Typography textColor="neutral600">{backup.id}</Typography>
                        {canFetch ? (
                          <Button
                            variant="secondary"
                            startIcon={<Download />}
                            onClick={() => bringBack(backup.id)}
                            loading={fetching === backup.id}
                            disabled={fetching !== null}
                          >
                            {t('offsite.fetch', 'Bring back')}
                          </Button>
                        ) : null}
                      </Flex>
                    </Td>
                  </Tr>
                );
              })}
            </Tbody>
          </Table>
        ) : null}
      </Flex>
    </Box>
  );
};
