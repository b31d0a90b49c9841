import { useEffect, useMemo, useState } from 'react';

import { Box, Button, Checkbox, Field, Flex, Modal, SingleSelect, SingleSelectOption, TextInput, Typography } from '@strapi/design-system';
import { useFetchClient, useNotification } from '@strapi/strapi/admin';

import type { Backup, Compression, CreateBackupBody, Job, SelectableContentType, StorageInfo } from '../../../server/src/contracts/backups';
import { useJob } from '../hooks/useJob';
import { useT } from '../hooks/useT';
import { PLUGIN_ID } from '../pluginId';
import { apiError } from '../utils/errors';
import { formatBytes } from '../utils/format';
import { JobProgress } from './JobProgress';
import { StorageBar } from './StorageBar';

interface Props {
  open: boolean;
  onClose: () => void;
  /** Called once the backup job has finished (to refresh the list). */
  onDone: () => void;
  storage: StorageInfo | null;
  latest: Backup | null;
  /** The configured alert threshold (spaceAlertBelow): bytes, or "N%" of the volume. */
  spaceAlertBelow: number | string;
}

/** "Create backup": what to include, the storage left, then the job's live progress. */
export const CreateBackupModal = ({ open, onClose, onDone, storage, latest, spaceAlertBelow }: Props) => {
  const { get, post } = useFetchClient();
  const { toggleNotification } = useNotification();
  const t = useT();

  const [types, setTypes] = useState<SelectableContentType[]>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [name, setName] = useState('');
  const [media, setMedia] = useState(true);
  const [adminUsers, setAdminUsers] = useState(false);
  const [config, setConfig] = useState(false);
  const [encrypt, setEncrypt] = useState(false);
  const [compression, setCompression] = useState<Compression>('best');
  const [jobId, setJobId] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const { job } = useJob(jobId);

  useEffect(() => {
    if (!open) return;
    setJobId(null);
    get<{ data: SelectableContentType[] }>(`/${PLUGIN_ID}/content-types`).then(({ data }) => {
      setTypes(data.data);
      setSelected(new Set(data.data.map((ct) => ct.uid)));
    });
  }, [open, get]);

  useEffect(() => {
    if (!job?.finishedAt) return;
    if (job.status === 'succeeded') {
      toggleNotification({ type: 'success', message: t('create.done', 'The backup is written and verified.') });
    } else if (job.status === 'warning') {
      toggleNotification({
        type: 'warning',
        message: t('create.warnings', 'The backup is written and verified, with warnings: {warnings}', { warnings: job.warnings.join('; ') }),
      });
    } else {
      toggleNotification({ type: 'danger', message: t('create.failed', 'The backup failed: {message}', { message: job.error?.message ?? '' }) });
    }
    onDone();
  }, [job?.finishedAt]);

  const all = types.length > 0 && selected.size === types.length;
  const selectedRows = types.filter((ct) => selected.has(ct.uid)).reduce((n, ct) => n + ct.rows, 0);
  const totalRows = types.reduce((n, ct) => n + ct.rows, 0);
  const estimate = useMemo(() => {
    if (!latest || latest.status === 'damaged' || latest.scope.contentTypes !== 'all' || !totalRows) return null;
    return Math.round(latest.size * (all ? 1 : selectedRows / totalRows));
  }, [latest, all, selectedRows, totalRows]);

  const toggle = (uid: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(uid);
    else next.delete(uid);
    setSelected(next);
  };

  const start = async () => {
    const body: CreateBackupBody = { media, adminUsers, config, compression, encrypt };
    if (name.trim()) body.name = name.trim();
    if (!all) body.contentTypes = [...selected];
    setStarting(true);
    try {
      const { data } = await post<{ data: Job }>(`/${PLUGIN_ID}/backups`, body);
      setJobId(data.data.id);
    } catch (error) {
      toggleNotification({ type: 'danger', message: apiError(error).message });
    } finally {
      setStarting(false);
    }
  };

  const running = Boolean(jobId) && !job?.finishedAt;

  return (
    <Modal.Root open={open} onOpenChange={(next: boolean) => !next && !running && onClose()}>
      <Modal.Content>
        <Modal.Header>
          <Modal.Title>{t('create.title', 'Create a backup')}</Modal.Title>
        </Modal.Header>
        <Modal.Body>
          {jobId ? (
            job ? (
              <Flex direction="column" alignItems="stretch" gap={4}>
                <JobProgress job={job} />
                {job.status === 'failed' ? (
                  <Typography textColor="danger600" role="alert">
                    {t('create.failed', 'The backup failed: {message}', { message: job.error?.message ?? '' })}
                  </Typography>
                ) : null}
                {job.status === 'warning' ? (
                  <Typography textColor="warning600" role="status">
                    {t('create.warnings', 'The backup is written and verified, with warnings: {warnings}', { warnings: job.warnings.join('; ') })}
                  </Typography>
                ) : null}
              </Flex>
            ) : null
          ) : (
            <Flex direction="column" alignItems="stretch" gap={5}>
              <Field.Root name="name" hint={t('create.name.hint', 'Optional: a name that says why this backup exists')}>
                <Field.Label>{t('create.name', 'Name')}</Field.Label>
                <TextInput value={name} onChange={(e: React.ChangeEvent<HTMLInputElement>) => setName(e.target.value)} />
                <Field.Hint />
              </Field.Root>

              <Flex direction="column" alignItems="stretch" gap={2} role="group" aria-label={t('create.contentTypes', 'Content types')}>
                <Typography variant="sigma" textColor="neutral600">
                  {t('create.contentTypes', 'Content types')}
                </Typography>
                <Checkbox checked={all ? true : selected.size ? 'indeterminate' : false} onCheckedChange={(on: boolean | 'indeterminate') => setSelected(on === true ? new Set(types.map((ct) => ct.uid)) : new Set())}>
                  {t('create.contentTypes.all', 'All content types ({rows} entries)', { rows: totalRows })}
                </Checkbox>
                <Box paddingLeft={6}>
                  <Flex direction="column" alignItems="stretch" gap={1}>
                    {types.map((ct) => (
                      <Checkbox key={ct.uid} checked={selected.has(ct.uid)} onCheckedChange={(on: boolean | 'indeterminate') => toggle(ct.uid, on === true)}>
                        {t('create.contentType', '{name} ({rows} entries)', { name: ct.displayName, rows: ct.rows })}
                      </Checkbox>
                    ))}
                  </Flex>
                </Box>
              </Flex>

              <Flex direction="column" alignItems="stretch" gap={2}>
                <Typography variant="sigma" textColor="neutral600">
                  {t('create.options', 'Options')}
                </Typography>
                <Checkbox checked={media} onCheckedChange={(on: boolean | 'indeterminate') => setMedia(on === true)}>
                  {t('create.media', 'Media files')}
                </Checkbox>
                <Checkbox
                  checked={encrypt}
                  onCheckedChange={(on: boolean | 'indeterminate') => {
                    setEncrypt(on === true);
                    if (on !== true) setAdminUsers(false);
                  }}
                >
                  {t('create.encrypt', 'Encrypt (with the key configured on the server)')}
                </Checkbox>
                <Checkbox checked={adminUsers} disabled={!encrypt} onCheckedChange={(on: boolean | 'indeterminate') => setAdminUsers(on === true)}>
                  {t('create.adminUsers', 'Admin users, roles and API tokens (encrypted backups only)')}
                </Checkbox>
                <Checkbox checked={config} onCheckedChange={(on: boolean | 'indeterminate') => setConfig(on === true)}>
                  {t('create.config', 'Configuration store')}
                </Checkbox>
                <Field.Root name="compression">
                  <Field.Label>{t('create.compression', 'Compression')}</Field.Label>
                  <SingleSelect value={compression} onChange={(value: string | number) => setCompression(value as Compression)}>
                    <SingleSelectOption value="best">{t('compression.best', 'Best (smallest archive)')}</SingleSelectOption>
                    <SingleSelectOption value="fast">{t('compression.fast', 'Fast')}</SingleSelectOption>
                    <SingleSelectOption value="none">{t('compression.none', 'None')}</SingleSelectOption>
                  </SingleSelect>
                </Field.Root>
              </Flex>

              {storage ? (
                <Flex direction="column" alignItems="stretch" gap={2}>
                  <Typography variant="sigma" textColor="neutral600">
                    {t('create.storage', 'Storage')}
                  </Typography>
                  <StorageBar storage={storage} spaceAlertBelow={spaceAlertBelow} />
                  <Typography variant="pi" textColor="neutral600">
                    {estimate != null
                      ? t('create.estimate', 'Estimated size: about {size}', { size: formatBytes(estimate) })
                      : t('create.estimate.unknown', 'Estimated size: known after the first full backup')}
                  </Typography>
                </Flex>
              ) : null}
            </Flex>
          )}
        </Modal.Body>
        <Modal.Footer>
          <Modal.Close>
            <Button variant="tertiary" disabled={running}>
              {jobId && job?.finishedAt ? t('action.close', 'Close') : t('action.cancel', 'Cancel')}
            </Button>
          </Modal.Close>
          {jobId ? null : (
            <Button onClick={start} loading={starting} disabled={!selected.size}>
              {t('create.start', 'Start backup')}
            </Button>
          )}
        </Modal.Footer>
      </Modal.Content>
    </Modal.Root>
  );
};
