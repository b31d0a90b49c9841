import { useEffect, useState } from 'react';

import { Box, Button, EmptyStateLayout, Flex, Grid, LinkButton, Table, Tbody, Td, TextButton, Th, Thead, Tr, Typography } from '@strapi/design-system';
import { CloudUpload, Plus } from '@strapi/icons';
import { Layouts, Page, useFetchClient, useRBAC } from '@strapi/strapi/admin';
import { useIntl } from 'react-intl';
import { Link, useNavigate } from 'react-router-dom';

import type { Backup, PurgeResult } from '../../../server/src/contracts/backups';
import type { GetHealth, Health } from '../../../server/src/contracts/health';
import { BackupBadges } from '../components/BackupBadges';
import { CreateBackupModal } from '../components/CreateBackupModal';
import { OffsiteOnly } from '../components/OffsiteOnly';
import { PurgeBadge } from '../components/PurgeBadge';
import { StorageBar } from '../components/StorageBar';
import { useBackups } from '../hooks/useBackups';
import { useT } from '../hooks/useT';
import { PERMISSIONS } from '../permissions';
import { PLUGIN_ID } from '../pluginId';
import { formatBytes } from '../utils/format';

type SortKey = 'createdAt' | 'name' | 'size' | 'kind';

const Fact = ({ label, value }: { label: string; value: string }) => (
  <Grid.Item col={6} s={12} direction="column" alignItems="flex-start">
    <Typography variant="sigma" textColor="neutral600">
      {label}
    </Typography>
    <Typography variant="omega" textColor="neutral800" tag="p">
      {value}
    </Typography>
  </Grid.Item>
);

/** The list of backups, the "Create backup" modal, and the installation facts. */
export const BackupsPage = () => {
  const { formatDate } = useIntl();
  const t = useT();
  const navigate = useNavigate();
  const { get } = useFetchClient();
  const { backups, storage, names, error, reload } = useBackups();
  const { allowedActions } = useRBAC({ create: PERMISSIONS.create, import: PERMISSIONS.import });
  const [health, setHealth] = useState<Health | null>(null);
  const [spaceAlertBelow, setSpaceAlertBelow] = useState<number | string>('10%');
  const [creating, setCreating] = useState(false);
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'createdAt', desc: true });
  /** The backups the next purge would remove, with why (a dry run of the retention policy). */
  const [purged, setPurged] = useState<Map<string, string[]>>(new Map());

  useEffect(() => {
    get<GetHealth.Response>(`/${PLUGIN_ID}/health`).then(({ data }) => setHealth(data.data));
    get<{ data: { values: Record<string, unknown> } }>(`/${PLUGIN_ID}/settings`).then(({ data }) =>
      setSpaceAlertBelow((data.data.values.spaceAlertBelow as number | string) ?? '10%')
    );
  }, [get]);
  // Again whenever the list changes: a new backup can push an older one out of the policy.
  useEffect(() => {
    if (!backups) return;
    get<{ data: PurgeResult }>(`/${PLUGIN_ID}/purge/preview`).then(
      ({ data }) => setPurged(new Map(data.data.removed.map((entry) => [entry.id, entry.reasons]))),
      // Without the preview the list stands as it is, with no badge rather than a stale one.
      () => setPurged(new Map())
    );
  }, [backups, get]);

  const title = t('home.title', 'Backups');
  if (!backups && !error) return <Page.Loading />;

  const sorted = [...(backups ?? [])].sort((a, b) => {
    const av = a[sort.key];
    const bv = b[sort.key];
    const order = typeof av === 'number' && typeof bv === 'number' ? av - bv : String(av).localeCompare(String(bv));
    return sort.desc ? -order : order;
  });
  const header = (key: SortKey, label: string) => (
    <Th>
      <TextButton onClick={() => setSort({ key, desc: sort.key === key ? !sort.desc : key === 'createdAt' || key === 'size' })}>
        <Typography variant="sigma" textColor="neutral600">
          {label}
          {sort.key === key ? (sort.desc ? ' ↓' : ' ↑') : ''}
        </Typography>
      </TextButton>
    </Th>
  );
  const scopeLabel = (backup: Backup) =>
    backup.scope.contentTypes === 'all'
      ? t('list.scope.all', 'All')
      : backup.scope.contentTypes.map((uid) => names[uid] ?? uid).join(', ');

  return (
    <Page.Main>
      <Page.Title>{title}</Page.Title>
      <Layouts.Header
        title={title}
        subtitle={t('home.subtitle', 'Back up and restore every row, relation, locale, draft and media file of this app.')}
        primaryAction={
          <Flex gap={2}>
            <LinkButton variant="tertiary" tag={Link} to="monitoring">
              {t('monitoring.title', 'Monitoring')}
            </LinkButton>
            {allowedActions.canImport ? (
              <LinkButton variant="secondary" startIcon={<CloudUpload />} tag={Link} to="import">
                {t('import.open', 'Import')}
              </LinkButton>
            ) : null}
            {allowedActions.canCreate ? (
              <Button startIcon={<Plus />} onClick={() => setCreating(true)}>
                {t('create.open', 'Create backup')}
              </Button>
            ) : null}
          </Flex>
        }
      />
      <Layouts.Content>
        <Flex direction="column" alignItems="stretch" gap={6}>
          {error ? <Page.Error content={t('home.error', 'The backup service did not answer: {message}', { message: error })} /> : null}
          {storage ? (
            <Flex direction="column" alignItems="stretch" gap={2} maxWidth="480px">
              <Typography variant="pi" textColor="neutral600">
                {t('list.storage', '{count, plural, one {# backup uses} other {# backups use}} {used} in {location} · {free} free', {
                  count: storage.backups,
                  used: formatBytes(storage.used),
                  location: storage.location,
                  free: formatBytes(storage.free),
                })}
              </Typography>
              <StorageBar storage={storage} spaceAlertBelow={spaceAlertBelow} figures={false} />
            </Flex>
          ) : null}
          {backups && backups.length === 0 ? (
            <EmptyStateLayout
              content={t('list.empty', 'No backups yet. Create the first one now; scheduled backups appear here too.')}
              action={
                allowedActions.canCreate ? (
                  <Button variant="secondary" startIcon={<Plus />} onClick={() => setCreating(true)}>
                    {t('create.open', 'Create backup')}
                  </Button>
                ) : undefined
              }
            />
          ) : null}
          {backups && backups.length > 0 ? (
            <Table colCount={6} rowCount={sorted.length + 1}>
              <Thead>
                <Tr>
                  {header('name', t('list.name', 'Name'))}
                  {header('createdAt', t('list.date', 'Date'))}
                  {header('kind', t('list.kind', 'Kind'))}
                  {header('size', t('list.size', 'Size'))}
                  <Th>
                    <Typography variant="sigma" textColor="neutral600">
                      {t('list.contentTypes', 'Content types')}
                    </Typography>
                  </Th>
                  <Th>
                    <Typography variant="sigma" textColor="neutral600">
                      {t('list.state', 'State')}
                    </Typography>
                  </Th>
                </Tr>
              </Thead>
              <Tbody>
                {sorted.map((backup) => (
                  <Tr key={backup.id} onClick={() => navigate(backup.id)} style={{ cursor: 'pointer' }}>
                    <Td>
                      <Link to={backup.id} onClick={(e) => e.stopPropagation()}>
                        <Typography fontWeight="bold">{backup.name}</Typography>
                      </Link>
                    </Td>
                    <Td>
                      <Typography>{formatDate(backup.createdAt, { dateStyle: 'medium', timeStyle: 'short' })}</Typography>
                    </Td>
                    <Td>
                      <Typography>{t(`kind.${backup.kind}`, backup.kind)}</Typography>
                    </Td>
                    <Td>
                      <Typography>{formatBytes(backup.size)}</Typography>
                    </Td>
                    <Td>
                      <Typography ellipsis>{scopeLabel(backup)}</Typography>
                    </Td>
                    <Td>
                      <Flex gap={1} wrap="wrap">
                        <BackupBadges backup={backup} />
                        {purged.has(backup.id) ? <PurgeBadge reasons={purged.get(backup.id)!} /> : null}
                      </Flex>
                    </Td>
                  </Tr>
                ))}
              </Tbody>
            </Table>
          ) : null}
          <OffsiteOnly canFetch={allowedActions.canCreate} onFetched={reload} refresh={backups} />
          {health ? (
            <Box background="neutral0" hasRadius shadow="tableShadow" padding={6}>
              <Flex direction="column" alignItems="stretch" gap={4}>
                <Typography variant="delta" tag="h2">
                  {t('home.installation', 'Installation')}
                </Typography>
                <Grid.Root gap={5}>
                  <Fact label={t('home.installation.plugin', 'Plugin version')} value={health.plugin.version} />
                  <Fact label={t('home.installation.strapi', 'Strapi version')} value={health.strapiVersion} />
                  <Fact label={t('home.installation.database', 'Database')} value={health.database.client} />
                  <Fact label={t('home.installation.storage', 'Backup folder')} value={health.storage.folder} />
                </Grid.Root>
              </Flex>
            </Box>
          ) : null}
        </Flex>
      </Layouts.Content>
      <CreateBackupModal
        open={creating}
        onClose={() => setCreating(false)}
        onDone={reload}
        storage={storage}
        latest={backups?.find((b) => b.kind !== 'safety' && b.status !== 'damaged') ?? null}
        spaceAlertBelow={spaceAlertBelow}
      />
    </Page.Main>
  );
};
