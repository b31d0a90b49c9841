import { useCallback, useEffect, useState } from 'react';

import { Box, Button, Dialog, Flex, Grid, LinkButton, Table, Tbody, Td, Th, Thead, Toggle, Tr, Typography } from '@strapi/design-system';
import { CloudUpload, Download, File, Trash } from '@strapi/icons';
import { Layouts, Page, useFetchClient, useNotification, useRBAC } from '@strapi/strapi/admin';
import { useIntl } from 'react-intl';
import { Link, useNavigate, useParams } from 'react-router-dom';

import type { Backup, Job } from '../../../server/src/contracts/backups';
import { BackupBadges } from '../components/BackupBadges';
import { type ExportFormat, ExportModal } from '../components/ExportModal';
import { JobProgress } from '../components/JobProgress';
import { RestoreModal } from '../components/RestoreModal';
import { BackLink, Section } from '../components/Section';
import { useBackups } from '../hooks/useBackups';
import { useJob } from '../hooks/useJob';
import { useT } from '../hooks/useT';
import { PERMISSIONS } from '../permissions';
import { PLUGIN_ID } from '../pluginId';
import { isImportable, isLocked } from '../utils/backups';
import { formatBytes } from '../utils/format';

interface Details extends Backup {
  manifest: {
    contentTypes: Array<{ uid: string; displayName: string; rows: number }>;
    tables: Array<{ name: string; rows: number }>;
    totals: { rows: number; bytes: number };
    warnings: string[];
  } | null;
}

const Fact = ({ label, value }: { label: string; value: string }) => (
  <Grid.Item col={4} s={6} xs={12} direction="column" alignItems="flex-start">
    <Typography variant="sigma" textColor="neutral600">
      {label}
    </Typography>
    <Typography tag="p">{value}</Typography>
  </Grid.Item>
);

/** One backup: its manifest, verify, download, keep, delete and restore. */
export const BackupDetailsPage = () => {
  const { id = '' } = useParams();
  const { formatDate } = useIntl();
  const t = useT();
  const navigate = useNavigate();
  const { get, post, put, del } = useFetchClient();
  const { toggleNotification } = useNotification();
  const { names } = useBackups();
  const { allowedActions } = useRBAC({
    read: PERMISSIONS.read,
    download: PERMISSIONS.download,
    create: PERMISSIONS.create,
    restore: PERMISSIONS.restore,
    delete: PERMISSIONS.delete,
    import: PERMISSIONS.import,
  });
  const [backup, setBackup] = useState<Details | null>(null);
  const [missing, setMissing] = useState(false);
  const [verifyJob, setVerifyJob] = useState<string | null>(null);
  const [restoring, setRestoring] = useState(false);
  const [exporting, setExporting] = useState<ExportFormat | null>(null);
  const { job: verification } = useJob(verifyJob);

  const load = useCallback(async () => {
    try {
      const { data } = await get<{ data: Details }>(`/${PLUGIN_ID}/backups/${id}`);
      setBackup(data.data);
    } catch {
      setMissing(true);
    }
  }, [get, id]);

  useEffect(() => {
    load();
  }, [load]);
  useEffect(() => {
    if (!verification?.finishedAt) return;
    toggleNotification(
      verification.status === 'succeeded'
        ? { type: 'success', message: t('details.verify.ok', 'Every entry matches its checksum.') }
        : { type: 'danger', message: t('details.verify.failed', 'The backup is damaged: {message}', { message: verification.error?.message ?? '' }) }
    );
    load();
  }, [verification?.finishedAt]);

  if (missing) return <Page.Error content={t('details.missing', 'There is no backup {id}.', { id })} />;
  if (!backup) return <Page.Loading />;

  const verify = async () => {
    const { data } = await post<{ data: Job }>(`/${PLUGIN_ID}/backups/${id}/verify`);
    setVerifyJob(data.data.id);
  };
  const download = async () => {
    const { data } = await get<Blob>(`/${PLUGIN_ID}/backups/${id}/download`, { responseType: 'blob' });
    const url = URL.createObjectURL(data);
    const link = document.createElement('a');
    link.href = url;
    link.download = `${id}.pacta.zip`;
    link.click();
    URL.revokeObjectURL(url);
  };
  const setKeep = async (keep: boolean) => {
    const { data } = await put<{ data: Backup }>(`/${PLUGIN_ID}/backups/${id}`, { keep });
    setBackup({ ...backup, keep: data.data.keep });
  };
  const remove = async () => {
    await del(`/${PLUGIN_ID}/backups/${id}`);
    toggleNotification({ type: 'success', message: t('details.deleted', 'The backup was deleted.') });
    navigate('..', { relative: 'path' });
  };

  const contentTypes = backup.manifest?.contentTypes ?? [];
  return (
    <Page.Main>
      <Page.Title>{backup.name}</Page.Title>
      <Layouts.Header
        navigationAction={
          <BackLink label={t('details.back', 'Back')} />
        }
        title={backup.name}
        subtitle={formatDate(backup.createdAt, { dateStyle: 'full', timeStyle: 'medium' })}
        primaryAction={
          isImportable(backup) && (allowedActions.canRestore || allowedActions.canImport) ? (
            <Flex gap={2}>
              {allowedActions.canImport ? (
                <LinkButton variant="secondary" startIcon={<CloudUpload />} tag={Link} to={`../import?backup=${encodeURIComponent(backup.id)}`} relative="path">
                  {t('details.import', 'Import…')}
                </LinkButton>
              ) : null}
              {allowedActions.canRestore && backup.status !== 'damaged' ? (
                <Button variant="danger-light" onClick={() => setRestoring(true)}>
                  {t('details.restore', 'Restore…')}
                </Button>
              ) : null}
            </Flex>
          ) : undefined
        }
        secondaryAction={<BackupBadges backup={backup} />}
      />
      <Layouts.Content>
        <Flex direction="column" alignItems="stretch" gap={6}>
          <Box background="neutral0" hasRadius shadow="tableShadow" padding={6}>
            <Flex direction="column" alignItems="stretch" gap={4}>
              <Flex gap={2} wrap="wrap">
                {allowedActions.canCreate ? (
                  <Button variant="secondary" onClick={verify} loading={Boolean(verifyJob) && !verification?.finishedAt}>
                    {t('details.verify', 'Verify')}
                  </Button>
                ) : null}
                {allowedActions.canDownload ? (
                  <Button variant="tertiary" startIcon={<Download />} onClick={download}>
                    {t('details.download', 'Download')}
                  </Button>
                ) : null}
                {allowedActions.canDownload && backup.status !== 'damaged' ? (
                  <>
                    <Button variant="tertiary" startIcon={<File />} onClick={() => setExporting('json')}>
                      {t('details.export.json', 'Export JSON')}
                    </Button>
                    <Button variant="tertiary" startIcon={<File />} onClick={() => setExporting('csv')}>
                      {t('details.export.csv', 'Export CSV')}
                    </Button>
                  </>
                ) : null}
                {allowedActions.canDelete ? (
                  <Box minWidth="240px">
                    <Toggle
                      name="keep"
                      checked={backup.keep}
                      onLabel={t('details.keep.on', 'Kept: never purged')}
                      offLabel={t('details.keep.off', 'Purged by the retention policy')}
                      onChange={(e: React.ChangeEvent<HTMLInputElement>) => setKeep(e.target.checked)}
                    />
                  </Box>
                ) : null}
                {allowedActions.canDelete ? (
                  <Dialog.Root>
                    <Dialog.Trigger>
                      <Button variant="danger-light" startIcon={<Trash />}>
                        {t('details.delete', 'Delete')}
                      </Button>
                    </Dialog.Trigger>
                    <Dialog.Content>
                      <Dialog.Header>{t('details.delete.title', 'Delete this backup?')}</Dialog.Header>
                      <Dialog.Body>
                        <Typography>{t('details.delete.body', 'The archive “{name}” is removed from the storage. This cannot be undone.', { name: backup.name })}</Typography>
                      </Dialog.Body>
                      <Dialog.Footer>
                        <Dialog.Cancel>
                          <Button variant="tertiary">{t('action.cancel', 'Cancel')}</Button>
                        </Dialog.Cancel>
                        <Dialog.Action>
                          <Button variant="danger" onClick={remove}>
                            {t('details.delete.confirm', 'Delete')}
                          </Button>
                        </Dialog.Action>
                      </Dialog.Footer>
                    </Dialog.Content>
                  </Dialog.Root>
                ) : null}
              </Flex>
              {!allowedActions.canDownload || !allowedActions.canCreate ? (
                <Typography variant="pi" textColor="neutral600">
                  {!allowedActions.canDownload && !allowedActions.canCreate
                    ? t('details.notAllowed.both', 'Your role cannot download this archive nor verify it (actions “Download backup archives” and “Create, verify and drill backups”).')
                    : !allowedActions.canDownload
                      ? t('details.notAllowed.download', 'Your role cannot download archives (action “Download backup archives”): they hold every row, private fields included.')
                      : t('details.notAllowed.verify', 'Your role cannot verify backups (action “Create, verify and drill backups”).')}
                </Typography>
              ) : null}
              {backup.error ? (
                <Typography textColor={isLocked(backup) ? 'warning600' : 'danger600'} role="status">
                  {isLocked(backup)
                    ? t('details.locked', 'This app’s key does not open this backup ({message}). It can be imported with its passphrase: the import asks for it.', { message: backup.error })
                    : backup.error}
                </Typography>
              ) : null}
              {verification && !verification.finishedAt ? <JobProgress job={verification} /> : null}
              {verification?.finishedAt ? (
                <Typography role="status" textColor={verification.status === 'succeeded' ? 'success600' : 'danger600'}>
                  {verification.status === 'succeeded'
                    ? t('details.verify.result', 'Verified: {entries} entries match their checksums.', {
                        entries: (verification.result as { entries?: number })?.entries ?? 0,
                      })
                    : t('details.verify.failed', 'The backup is damaged: {message}', { message: verification.error?.message ?? '' })}
                </Typography>
              ) : null}
              <Grid.Root gap={5}>
                <Fact label={t('details.kind', 'Kind')} value={t(`kind.${backup.kind}`, backup.kind)} />
                <Fact label={t('list.size', 'Size')} value={formatBytes(backup.size)} />
                <Fact label={t('details.rows', 'Rows')} value={String(backup.rows)} />
                <Fact label={t('details.media', 'Media files')} value={`${backup.media.files} (${formatBytes(backup.media.bytes)})`} />
                <Fact label={t('details.compression', 'Compression')} value={t(`compression.${backup.compression}`, backup.compression)} />
                <Fact label={t('details.encrypted', 'Encrypted')} value={backup.encrypted ? t('yes', 'Yes') : t('no', 'No')} />
                <Fact
                  label={t('details.verifiedAt', 'Checksums verified')}
                  value={backup.verifiedAt ? formatDate(backup.verifiedAt, { dateStyle: 'medium', timeStyle: 'short' }) : t('never', 'Never')}
                />
                <Fact label={t('details.versions', 'Versions')} value={`Strapi ${backup.strapiVersion} · plugin ${backup.pluginVersion} · ${backup.database}`} />
                {backup.offsite ? (
                  <Fact
                    label={t('details.offsite', 'Off-site copy')}
                    value={`${formatDate(backup.offsite.at, { dateStyle: 'medium', timeStyle: 'short' })}: ${
                      backup.offsite.status === 'copied'
                        ? backup.offsite.deduplicated
                          ? t('details.offsite.copied.deduplicated', 'copied to {location}, deduplicated: {sent} sent, {reused} already there', {
                              location: backup.offsite.location,
                              sent: formatBytes(backup.offsite.deduplicated.sentBytes),
                              reused: formatBytes(backup.offsite.deduplicated.reusedBytes),
                            })
                          : t('details.offsite.copied', 'copied to {location}', { location: backup.offsite.location })
                        : backup.offsite.status === 'pending'
                          ? t('details.offsite.pending', 'copy to {location} under way or interrupted; the next backup copies it again', {
                              location: backup.offsite.location,
                            })
                          : t('details.offsite.failed', 'failed: {error}', { error: backup.offsite.error ?? '' })
                    }`}
                  />
                ) : null}
                {backup.drill ? (
                  <Fact label={t('details.drill', 'Last restore drill')} value={`${formatDate(backup.drill.at, { dateStyle: 'medium', timeStyle: 'short' })}: ${backup.drill.message}`} />
                ) : null}
              </Grid.Root>
            </Flex>
          </Box>
          <Section title={t('details.contents', 'Contents')}>
            <Table colCount={2} rowCount={contentTypes.length + 1}>
              <Thead>
                <Tr>
                  <Th>
                    <Typography variant="sigma">{t('list.contentTypes', 'Content types')}</Typography>
                  </Th>
                  <Th>
                    <Typography variant="sigma">{t('details.entries', 'Entries (all locales, drafts and published)')}</Typography>
                  </Th>
                </Tr>
              </Thead>
              <Tbody>
                {contentTypes.map((ct) => (
                  <Tr key={ct.uid}>
                    <Td>
                      <Typography>{ct.displayName}</Typography>
                    </Td>
                    <Td>
                      <Typography>{ct.rows}</Typography>
                    </Td>
                  </Tr>
                ))}
              </Tbody>
            </Table>
            {(backup.manifest?.warnings ?? []).map((warning) => (
              <Typography key={warning} textColor="warning600">
                {warning}
              </Typography>
            ))}
          </Section>
        </Flex>
      </Layouts.Content>
      <ExportModal
        backup={backup}
        format={exporting}
        onClose={() => setExporting(null)}
        contentTypes={
          backup.manifest?.contentTypes ??
          Object.entries(backup.counts).map(([uid, rows]) => ({ uid, displayName: names[uid] ?? uid, rows }))
        }
      />
      <RestoreModal backup={backup} open={restoring} onClose={() => { setRestoring(false); load(); }} names={names} />
    </Page.Main>
  );
};
