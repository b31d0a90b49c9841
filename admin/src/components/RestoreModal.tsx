import { useEffect, useState } from 'react';

import { Box, Button, Checkbox, Flex, Modal, Typography } from '@strapi/design-system';
import { useFetchClient, useNotification } from '@strapi/strapi/admin';

import type { Backup, Job, RestoreBody } from '../../../server/src/contracts/backups';
import { useJob } from '../hooks/useJob';
import { useT } from '../hooks/useT';
import { PLUGIN_ID } from '../pluginId';
import { apiError } from '../utils/errors';
import { JobProgress } from './JobProgress';

interface Props {
  backup: Backup;
  open: boolean;
  onClose: () => void;
  /** Display names by content type uid. */
  names: Record<string, string>;
}

type Step = 'choose' | 'confirm' | 'run';

/**
 * Restore from a backup: choose content types and media, confirm with the exact list of what
 * will be replaced (a safety backup is taken first), follow the progress, read the summary.
 */
export const RestoreModal = ({ backup, open, onClose, names }: Props) => {
  const { post } = useFetchClient();
  const { toggleNotification } = useNotification();
  const t = useT();
  const uids = Object.keys(backup.counts);
  const [selected, setSelected] = useState<Set<string>>(new Set(uids));
  const [media, setMedia] = useState(backup.scope.media);
  // Admin accounts and Strapi's settings come back only when asked (and only from an encrypted backup).
  const [adminUsers, setAdminUsers] = useState(false);
  const [config, setConfig] = useState(false);
  const [step, setStep] = useState<Step>('choose');
  const [jobId, setJobId] = useState<string | null>(null);
  const { job } = useJob(jobId);

  useEffect(() => {
    if (!open) return;
    setStep('choose');
    setJobId(null);
    setSelected(new Set(Object.keys(backup.counts)));
    setMedia(backup.scope.media);
    setAdminUsers(false);
    setConfig(false);
  }, [open, backup]);

  useEffect(() => {
    if (!job?.finishedAt) return;
    toggleNotification(
      job.status === 'succeeded'
        ? { type: 'success', message: t('restore.done', 'The restore is complete.') }
        : { type: 'danger', message: t('restore.failed', 'The restore failed and nothing was changed: {message}', { message: job.error?.message ?? '' }) }
    );
  }, [job?.finishedAt]);

  const all = selected.size === uids.length;
  // A full restore: the whole app, from a backup of the whole app.
  const full = all && backup.scope.contentTypes === 'all';
  const start = async () => {
    const body: RestoreBody = { confirm: true, media };
    if (!all) body.contentTypes = [...selected];
    if (adminUsers) body.adminUsers = true;
    if (config) body.config = true;
    try {
      const { data } = await post<{ data: Job }>(`/${PLUGIN_ID}/backups/${backup.id}/restore`, body);
      setJobId(data.data.id);
      setStep('run');
    } catch (error) {
      toggleNotification({ type: 'danger', message: apiError(error).message });
    }
  };
  const running = step === 'run' && !job?.finishedAt;
  const result =
    job?.status === 'succeeded'
      ? (job.result as {
          contentTypes?: Array<{ uid: string; rows: number }>;
          media?: { files: number; removed?: number };
          safetyBackupId?: string;
          links?: Array<{ table: string; from: string; to: string; dropped: number; nulled: number }>;
        })
      : null;
  const sealed = backup.encrypted;

  return (
    <Modal.Root open={open} onOpenChange={(next: boolean) => !next && !running && onClose()}>
      <Modal.Content>
        <Modal.Header>
          <Modal.Title>{t('restore.title', 'Restore “{name}”', { name: backup.name })}</Modal.Title>
        </Modal.Header>
        <Modal.Body>
          {step === 'choose' ? (
            <Flex direction="column" alignItems="stretch" gap={2} role="group" aria-label={t('restore.choose', 'What to restore')}>
              <Typography variant="sigma" textColor="neutral600">
                {t('restore.choose', 'What to restore')}
              </Typography>
              {uids.map((uid) => (
                <Checkbox
                  key={uid}
                  checked={selected.has(uid)}
                  onCheckedChange={(on: boolean | 'indeterminate') => {
                    const next = new Set(selected);
                    if (on === true) next.add(uid);
                    else next.delete(uid);
                    setSelected(next);
                  }}
                >
                  {t('create.contentType', '{name} ({rows} entries)', { name: names[uid] ?? uid, rows: backup.counts[uid] })}
                </Checkbox>
              ))}
              <Checkbox checked={media} disabled={!backup.scope.media} onCheckedChange={(on: boolean | 'indeterminate') => setMedia(on === true)}>
                {t('restore.media', 'Media files ({files})', { files: backup.media.files })}
              </Checkbox>
              {backup.scope.adminUsers ? (
                <Checkbox checked={adminUsers} disabled={!sealed} onCheckedChange={(on: boolean | 'indeterminate') => setAdminUsers(on === true)}>
                  {t('restore.adminUsers', 'Admin users, roles and API tokens')}
                </Checkbox>
              ) : null}
              {backup.scope.config ? (
                <Checkbox checked={config} disabled={!sealed} onCheckedChange={(on: boolean | 'indeterminate') => setConfig(on === true)}>
                  {t('restore.config', 'Settings (config store and webhooks)')}
                </Checkbox>
              ) : null}
              {(backup.scope.adminUsers || backup.scope.config) && !sealed ? (
                <Typography variant="pi" textColor="neutral600">
                  {t('restore.unsealed', "Admin users and settings come back only from an encrypted backup made with this app's key.")}
                </Typography>
              ) : null}
            </Flex>
          ) : null}
          {step === 'confirm' ? (
            <Flex direction="column" alignItems="stretch" gap={3} role="alertdialog" aria-label={t('restore.confirm.title', 'Replace this data?')}>
              <Typography variant="delta" tag="h3">
                {t('restore.confirm.title', 'Replace this data?')}
              </Typography>
              <Typography>{t('restore.confirm.body', 'These will be replaced by their state in the backup of {date}:', { date: new Date(backup.createdAt).toLocaleString() })}</Typography>
              <Box tag="ul" paddingLeft={4}>
                {[...selected].map((uid) => (
                  <li key={uid}>
                    <Typography>{t('restore.confirm.item', '{name}: {rows} entries', { name: names[uid] ?? uid, rows: backup.counts[uid] })}</Typography>
                  </li>
                ))}
                {media ? (
                  <li>
                    <Typography>{t('restore.confirm.media', 'Media files: {files}', { files: backup.media.files })}</Typography>
                  </li>
                ) : null}
                {adminUsers ? (
                  <li>
                    <Typography>{t('restore.adminUsers', 'Admin users, roles and API tokens')}</Typography>
                  </li>
                ) : null}
                {config ? (
                  <li>
                    <Typography>{t('restore.config', 'Settings (config store and webhooks)')}</Typography>
                  </li>
                ) : null}
              </Box>
              {full && media ? (
                <Typography>{t('restore.confirm.exact', 'Files in the uploads folder that the backup does not have are removed (the safety backup keeps them).')}</Typography>
              ) : null}
              {!full ? (
                <Typography>{t('restore.confirm.partial', 'Other content types keep their data; their links to entries that no longer exist afterwards are removed and listed in the summary.')}</Typography>
              ) : null}
              <Typography fontWeight="bold">{t('restore.confirm.safety', 'A safety backup of the current data is taken first; if anything fails, nothing changes.')}</Typography>
              {adminUsers ? (
                <Typography textColor="warning600">{t('restore.confirm.admins', 'Admin users are restored: every admin session ends and admins log in again.')}</Typography>
              ) : null}
            </Flex>
          ) : null}
          {step === 'run' && job ? (
            <Flex direction="column" alignItems="stretch" gap={4}>
              <JobProgress job={job} />
              {job.status === 'failed' ? (
                <Typography textColor="danger600" role="alert">
                  {t('restore.failed', 'The restore failed and nothing was changed: {message}', { message: job.error?.message ?? '' })}
                </Typography>
              ) : null}
              {result ? (
                <Flex direction="column" alignItems="stretch" gap={1} role="status" aria-label={t('restore.summary', 'Restored')}>
                  <Typography variant="sigma" textColor="neutral600">
                    {t('restore.summary', 'Restored')}
                  </Typography>
                  {(result.contentTypes ?? []).map((ct) => (
                    <Typography key={ct.uid}>{t('restore.confirm.item', '{name}: {rows} entries', { name: names[ct.uid] ?? ct.uid, rows: ct.rows })}</Typography>
                  ))}
                  <Typography>{t('restore.confirm.media', 'Media files: {files}', { files: result.media?.files ?? 0 })}</Typography>
                  {result.media?.removed ? (
                    <Typography>{t('restore.summary.removed', 'Files not in the backup, moved to the safety backup: {files}', { files: result.media.removed })}</Typography>
                  ) : null}
                  {(result.links ?? []).map((link) => (
                    <Typography key={`${link.table}`} textColor="warning600">
                      {t('restore.summary.links', '{count} links of {from} to {to} removed: the entries they pointed at are not there after the restore ({table})', {
                        count: link.dropped + link.nulled,
                        from: names[link.from] ?? link.from,
                        to: names[link.to] ?? link.to,
                        table: link.table,
                      })}
                    </Typography>
                  ))}
                  {result.safetyBackupId ? (
                    <Typography variant="pi" textColor="neutral600">
                      {t('restore.summary.safety', 'Safety backup: {id}', { id: result.safetyBackupId })}
                    </Typography>
                  ) : null}
                </Flex>
              ) : null}
            </Flex>
          ) : null}
        </Modal.Body>
        <Modal.Footer>
          <Modal.Close>
            <Button variant="tertiary" disabled={running}>
              {step === 'run' && job?.finishedAt ? t('action.close', 'Close') : t('action.cancel', 'Cancel')}
            </Button>
          </Modal.Close>
          {step === 'choose' ? (
            <Button onClick={() => setStep('confirm')} disabled={!selected.size && !media}>
              {t('action.next', 'Next')}
            </Button>
          ) : null}
          {step === 'confirm' ? (
            <Button variant="danger" onClick={start}>
              {t('restore.start', 'Restore now')}
            </Button>
          ) : null}
        </Modal.Footer>
      </Modal.Content>
    </Modal.Root>
  );
};
