import { useCallback, useEffect, useState } from 'react';

import { Badge, Box, Flex, Grid, SingleSelect, SingleSelectOption, Table, Tbody, Td, Th, Thead, Tr, Typography } from '@strapi/design-system';
import { Layouts, Page, useFetchClient, useRBAC } from '@strapi/strapi/admin';
import { useIntl } from 'react-intl';

import type { Job } from '../../../server/src/contracts/backups';
import { BarChart } from '../components/BarChart';
import { OffsiteRepository, type OffsiteFigures } from '../components/OffsiteRepository';
import { StorageBar } from '../components/StorageBar';
import { BackLink, Section } from '../components/Section';
import { useT } from '../hooks/useT';
import { PERMISSIONS } from '../permissions';
import { PLUGIN_ID } from '../pluginId';
import { formatBytes, formatDuration } from '../utils/format';

interface Alert {
  type: string;
  severity: 'warning' | 'error';
  message: string;
  at: string;
  jobId?: string;
}
interface Metrics {
  lastSuccess: { backupId: string | null; at: string } | null;
  successRate30d: number | null;
  backups30d: { succeeded: number; failed: number };
  storage: { used: number; free: number; total: number; backups: number };
  offsite: OffsiteFigures | null;
  jobs: Array<{ id: string; type: string; trigger: string; status: string; startedAt: string; durationMs: number | null; bytes: number | null; compressionRatio: number | null; error: string | null }>;
}

/** Backup jobs that ended (the charts): written, with warnings or not, failed, or stopped by a crash. */
const ENDED = ['succeeded', 'warning', 'failed', 'interrupted'];
const STATUS_BADGE: Record<string, 'success' | 'warning' | 'danger'> = {
  succeeded: 'success',
  warning: 'warning',
  failed: 'danger',
  interrupted: 'danger',
};

/** Monitoring: alerts, the last success, charts of size and duration, the job history and a job's log. */
export const MonitoringPage = () => {
  const { formatDate } = useIntl();
  const t = useT();
  const { get } = useFetchClient();
  const [metrics, setMetrics] = useState<Metrics | null>(null);
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [chosen, setChosen] = useState<string | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [spaceAlertBelow, setSpaceAlertBelow] = useState<number | string>('10%');
  const [offsiteOn, setOffsiteOn] = useState(false);
  const { allowedActions } = useRBAC({ create: PERMISSIONS.create });

  const load = useCallback(async () => {
    const [m, a, s] = await Promise.all([
      get<{ data: Metrics }>(`/${PLUGIN_ID}/metrics`),
      get<{ data: Alert[] }>(`/${PLUGIN_ID}/alerts`),
      get<{ data: { values: Record<string, unknown> } }>(`/${PLUGIN_ID}/settings`),
    ]);
    setMetrics(m.data.data);
    setAlerts(a.data.data);
    setSpaceAlertBelow((s.data.data.values.spaceAlertBelow as number | string) ?? '10%');
    setOffsiteOn(s.data.data.values['offsite.enabled'] === true);
    setChosen((current) => current ?? m.data.data.jobs[0]?.id ?? null);
  }, [get]);
  useEffect(() => {
    load();
  }, [load]);
  useEffect(() => {
    if (!chosen) return;
    get<{ data: Job }>(`/${PLUGIN_ID}/jobs/${chosen}`).then(({ data }) => setJob(data.data));
  }, [chosen, get]);

  if (!metrics) return <Page.Loading />;

  const backups = metrics.jobs.filter((j) => j.type === 'backup' && ENDED.includes(j.status)).reverse();
  const bars = (value: (j: Metrics['jobs'][number]) => number) =>
    backups.map((j) => ({ key: j.id, label: formatDate(j.startedAt, { dateStyle: 'short', timeStyle: 'short' }), value: value(j), failed: j.status === 'failed' || j.status === 'interrupted' }));
  const title = t('monitoring.title', 'Monitoring');

  return (
    <Page.Main>
      <Page.Title>{title}</Page.Title>
      <Layouts.Header
        navigationAction={
          <BackLink label={t('details.back', 'Back')} />
        }
        title={title}
        subtitle={t('monitoring.subtitle', 'Whether backups happen, how big and how long they are, and what went wrong.')}
      />
      <Layouts.Content>
        <Flex direction="column" alignItems="stretch" gap={6}>
          <Box background="neutral0" hasRadius shadow="tableShadow" padding={6}>
            <Flex direction="column" alignItems="stretch" gap={3} role="region" aria-label={t('monitoring.alerts', 'Alerts')}>
              <Typography variant="delta" tag="h2">
                {t('monitoring.alerts', 'Alerts')}
              </Typography>
              {alerts.length === 0 ? <Typography textColor="success600">{t('monitoring.alerts.none', 'No active alert: backups are on time.')}</Typography> : null}
              {alerts.map((alert) => (
                <Flex key={`${alert.type}-${alert.at}`} gap={2}>
                  <Badge variant={alert.severity === 'error' ? 'danger' : 'warning'}>{t(`alert.${alert.type}`, alert.type)}</Badge>
                  <Typography>{alert.message}</Typography>
                </Flex>
              ))}
            </Flex>
          </Box>
          <Box background="neutral0" hasRadius shadow="tableShadow" padding={6}>
            <Grid.Root gap={5}>
              <Grid.Item col={4} s={12} direction="column" alignItems="flex-start">
                <Typography variant="sigma" textColor="neutral600">
                  {t('monitoring.lastSuccess', 'Last successful backup')}
                </Typography>
                <Typography>{metrics.lastSuccess ? formatDate(metrics.lastSuccess.at, { dateStyle: 'medium', timeStyle: 'short' }) : t('never', 'Never')}</Typography>
              </Grid.Item>
              <Grid.Item col={4} s={12} direction="column" alignItems="flex-start">
                <Typography variant="sigma" textColor="neutral600">
                  {t('monitoring.rate', 'Success rate, 30 days')}
                </Typography>
                <Typography>
                  {metrics.successRate30d == null
                    ? '—'
                    : t('monitoring.rate.value', '{percent}% ({succeeded} succeeded, {failed} failed)', {
                        percent: Math.round(metrics.successRate30d * 100),
                        succeeded: metrics.backups30d.succeeded,
                        failed: metrics.backups30d.failed,
                      })}
                </Typography>
              </Grid.Item>
              <Grid.Item col={4} s={12} direction="column" alignItems="stretch">
                <Typography variant="sigma" textColor="neutral600">
                  {t('create.storage', 'Storage')}
                </Typography>
                <StorageBar storage={metrics.storage} spaceAlertBelow={spaceAlertBelow} />
              </Grid.Item>
            </Grid.Root>
          </Box>
          {offsiteOn ? <OffsiteRepository figures={metrics.offsite} canCheck={allowedActions.canCreate} onChecked={load} /> : null}
          <Box background="neutral0" hasRadius shadow="tableShadow" padding={6}>
            <Grid.Root gap={6}>
              <Grid.Item col={6} s={12} direction="column" alignItems="stretch">
                <BarChart title={t('monitoring.size', 'Backup size')} bars={bars((j) => j.bytes ?? 0)} format={formatBytes} />
              </Grid.Item>
              <Grid.Item col={6} s={12} direction="column" alignItems="stretch">
                <BarChart title={t('monitoring.duration', 'Backup duration')} bars={bars((j) => j.durationMs ?? 0)} format={formatDuration} />
              </Grid.Item>
            </Grid.Root>
          </Box>
          <Section title={t('monitoring.history', 'History')}>
            <Table colCount={6} rowCount={metrics.jobs.length + 1}>
              <Thead>
                <Tr>
                  {[t('list.date', 'Date'), t('monitoring.job', 'Job'), t('monitoring.trigger', 'Started by'), t('list.state', 'State'), t('monitoring.durationCol', 'Duration'), t('list.size', 'Size')].map((h) => (
                    <Th key={h}>
                      <Typography variant="sigma" textColor="neutral600">
                        {h}
                      </Typography>
                    </Th>
                  ))}
                </Tr>
              </Thead>
              <Tbody>
                {metrics.jobs.slice(0, 50).map((j) => (
                  <Tr key={j.id} onClick={() => setChosen(j.id)} style={{ cursor: 'pointer' }}>
                    <Td>
                      <Typography>{formatDate(j.startedAt, { dateStyle: 'short', timeStyle: 'short' })}</Typography>
                    </Td>
                    <Td>
                      <Typography>{t(`job.${j.type}`, j.type)}</Typography>
                    </Td>
                    <Td>
                      <Typography>{t(`trigger.${j.trigger}`, j.trigger)}</Typography>
                    </Td>
                    <Td>
                      <Badge variant={STATUS_BADGE[j.status] ?? 'neutral'}>{t(`status.${j.status}`, j.status)}</Badge>
                    </Td>
                    <Td>
                      <Typography>{formatDuration(j.durationMs)}</Typography>
                    </Td>
                    <Td>
                      <Typography>{j.bytes == null ? '—' : formatBytes(j.bytes)}</Typography>
                    </Td>
                  </Tr>
                ))}
              </Tbody>
            </Table>
          </Section>
          {metrics.jobs.length ? (
            <Box background="neutral0" hasRadius shadow="tableShadow" padding={6}>
              <Flex direction="column" alignItems="stretch" gap={3}>
                <Flex justifyContent="space-between" alignItems="flex-end" gap={4}>
                  <Typography variant="delta" tag="h2">
                    {t('monitoring.log', 'Job log')}
                  </Typography>
                  <Box minWidth="320px">
                    <SingleSelect aria-label={t('monitoring.log', 'Job log')} value={chosen ?? ''} onChange={(value: string | number) => setChosen(String(value))}>
                      {metrics.jobs.slice(0, 50).map((j) => (
                        <SingleSelectOption key={j.id} value={j.id}>
                          {`${formatDate(j.startedAt, { dateStyle: 'short', timeStyle: 'medium' })} · ${t(`job.${j.type}`, j.type)} · ${t(`status.${j.status}`, j.status)}`}
                        </SingleSelectOption>
                      ))}
                    </SingleSelect>
                  </Box>
                </Flex>
                <Box background="neutral100" padding={4} hasRadius>
                  <Typography tag="pre" variant="pi" data-testid="job-log" style={{ whiteSpace: 'pre-wrap', fontFamily: 'monospace' }}>
                    {job ? [...job.log, ...(job.error ? [`${job.error.code}: ${job.error.message}`] : [])].join('\n') : ''}
                  </Typography>
                </Box>
              </Flex>
            </Box>
          ) : null}
        </Flex>
      </Layouts.Content>
    </Page.Main>
  );
};
