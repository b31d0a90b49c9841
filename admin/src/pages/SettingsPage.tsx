import { useCallback, useEffect, useState } from 'react';

import { Button, Field, Flex, Grid, NumberInput, SingleSelect, SingleSelectOption, TextInput, Toggle, Typography } from '@strapi/design-system';
import { Layouts, Page, useFetchClient, useNotification, useRBAC } from '@strapi/strapi/admin';
import { useIntl } from 'react-intl';

import { CronPreview } from '../components/CronPreview';
import { Section } from '../components/Section';
import type { SettingsForm, Values } from '../components/settings/form';
import { NotificationsSection } from '../components/settings/NotificationsSection';
import { OffsiteTest } from '../components/settings/OffsiteTest';
import { useT } from '../hooks/useT';
import { PERMISSIONS } from '../permissions';
import { PLUGIN_ID } from '../pluginId';
import { apiError } from '../utils/errors';

interface SettingsResponse {
  values: Values;
  fixed: string[];
  schedule: { timezone: string; backup: { nextRun: string | null }; drill: { nextRun: string | null }; check: { nextRun: string | null } };
  /** Where copies go, from config/plugins.ts only (null: no bucket nor folder named there). */
  offsite: { backend: 'local' | 's3'; location: string | null };
}

/** { 'retention.daily': 7 } → { retention: { daily: 7 } } (the shape PUT /settings takes). */
const nest = (flat: Values) => {
  const out: Record<string, unknown> = {};
  for (const [dotted, value] of Object.entries(flat)) {
    const keys = dotted.split('.');
    let current = out;
    for (const key of keys.slice(0, -1)) current = (current[key] ??= {}) as Record<string, unknown>;
    current[keys[keys.length - 1]] = value;
  }
  return out;
};

/** Settings → Backups: the schedule, retention, compression, scope, drill, off-site copies and notifications; config-file values read-only. */
const SettingsPage = () => {
  const { formatDate } = useIntl();
  const t = useT();
  const { get, put } = useFetchClient();
  const { toggleNotification } = useNotification();
  const { allowedActions } = useRBAC({ settings: PERMISSIONS.settings });
  const [data, setData] = useState<SettingsResponse | null>(null);
  const [draft, setDraft] = useState<Values>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saving, setSaving] = useState(false);

  const load = useCallback(async () => {
    const { data: body } = await get<{ data: SettingsResponse }>(`/${PLUGIN_ID}/settings`);
    setData(body.data);
    setDraft(body.data.values);
  }, [get]);
  useEffect(() => {
    load();
  }, [load]);

  if (!data) return <Page.Loading />;

  const editable = (field: string) => allowedActions.canSettings && !data.fixed.includes(field);
  const hint = (field: string, text?: string) =>
    data.fixed.includes(field) ? t('settings.fixed', 'Set in config/plugins.ts: change it there') : (text ?? '');
  const set = (field: string, value: unknown) => setDraft((current) => ({ ...current, [field]: value }));
  const changed = Object.keys(draft).filter((field) => JSON.stringify(draft[field]) !== JSON.stringify(data.values[field]) && !data.fixed.includes(field));
  const form: SettingsForm = { draft, errors, editable, hint, set, changed };
  const timezone = String(draft.timezone ?? data.schedule.timezone);

  const save = async () => {
    setSaving(true);
    setErrors({});
    try {
      const body = nest(Object.fromEntries(changed.map((field) => [field, draft[field]])));
      const { data: response } = await put<{ data: SettingsResponse }>(`/${PLUGIN_ID}/settings`, body);
      setData(response.data);
      setDraft(response.data.values);
      toggleNotification({ type: 'success', message: t('settings.saved', 'Saved. The schedule is updated.') });
    } catch (error) {
      const { message, fields } = apiError(error);
      // The first reason of each field (zod may give several for one value).
      setErrors(fields.reduceRight<Record<string, string>>((all, d) => ({ ...all, [d.path.join('.')]: d.message }), {}));
      toggleNotification({ type: 'danger', message });
    } finally {
      setSaving(false);
    }
  };

  const text = (field: string, label: string, help?: string) => (
    <Grid.Item col={6} s={12} direction="column" alignItems="stretch">
      <Field.Root name={field} hint={hint(field, help)} error={errors[field]}>
        <Field.Label>{label}</Field.Label>
        <TextInput value={String(draft[field] ?? '')} disabled={!editable(field)} onChange={(e: React.ChangeEvent<HTMLInputElement>) => set(field, e.target.value)} />
        <Field.Hint />
        <Field.Error />
      </Field.Root>
    </Grid.Item>
  );
  const number = (field: string, label: string, help?: string) => (
    <Grid.Item col={3} s={6} direction="column" alignItems="stretch">
      <Field.Root name={field} hint={hint(field, help)} error={errors[field]}>
        <Field.Label>{label}</Field.Label>
        <NumberInput value={Number(draft[field] ?? 0)} disabled={!editable(field)} onValueChange={(value: number | undefined) => set(field, value ?? 0)} />
        <Field.Hint />
        <Field.Error />
      </Field.Root>
    </Grid.Item>
  );
  /** A cron field, with what it means in words and its next three runs as the admin types. */
  const cron = (field: string, label: string, help?: string) => (
    <Grid.Item col={6} s={12} direction="column" alignItems="stretch" gap={2}>
      <Field.Root name={field} hint={hint(field, help)} error={errors[field]}>
        <Field.Label>{label}</Field.Label>
        <TextInput value={String(draft[field] ?? '')} disabled={!editable(field)} onChange={(e: React.ChangeEvent<HTMLInputElement>) => set(field, e.target.value)} />
        <Field.Hint />
        <Field.Error />
      </Field.Root>
      <CronPreview expression={String(draft[field] ?? '')} timezone={timezone} testId={`cron-${field.replace(/\./g, '-')}`} />
    </Grid.Item>
  );
  const toggle = (field: string, label: string, help?: string) => (
    <Grid.Item col={6} s={12} direction="column" alignItems="stretch">
      <Field.Root name={field} hint={hint(field, help)}>
        <Field.Label>{label}</Field.Label>
        <Toggle
          checked={Boolean(draft[field])}
          disabled={!editable(field)}
          onLabel={t('settings.on', 'On')}
          offLabel={t('settings.off', 'Off')}
          onChange={(e: React.ChangeEvent<HTMLInputElement>) => set(field, e.target.checked)}
        />
        <Field.Hint />
      </Field.Root>
    </Grid.Item>
  );
  const next = (at: string | null) => (at ? formatDate(at, { dateStyle: 'full', timeStyle: 'short', timeZone: data.schedule.timezone }) : t('settings.next.none', 'not scheduled'));

  return (
    <Page.Main>
      <Page.Title>{t('settings.title', 'Backup settings')}</Page.Title>
      <Layouts.Header
        title={t('settings.title', 'Backup settings')}
        subtitle={t('settings.subtitle', 'When automatic backups run, how long they are kept, and what they hold.')}
        primaryAction={
          allowedActions.canSettings ? (
            <Button onClick={save} loading={saving} disabled={!changed.length}>
              {t('settings.save', 'Save')}
            </Button>
          ) : undefined
        }
      />
      <Layouts.Content>
        <Flex direction="column" alignItems="stretch" gap={6}>
          <Section title={t('settings.schedule', 'Schedule')}>
            <Typography role="status" data-testid="next-run">
              {t('settings.next', 'Next backup: {date}', { date: next(data.schedule.backup.nextRun) })}
            </Typography>
            <Grid.Root gap={5}>
              {toggle('enabled', t('settings.enabled', 'Automatic backups'))}
              {cron('schedule', t('settings.cron', 'Schedule (cron)'), t('settings.cron.hint', 'minute hour day month weekday, e.g. 0 2 * * * for 02:00 every day'))}
              {text('timezone', t('settings.timezone', 'Time zone'), t('settings.timezone.hint', 'e.g. Europe/Madrid'))}
              {text('spaceAlertBelow', t('settings.space', 'Alert when free space is below'), t('settings.space.hint', 'bytes, or a percentage such as 10%'))}
            </Grid.Root>
          </Section>
          <Section title={t('settings.retention', 'Retention')}>
            <Grid.Root gap={5}>
              {number('retention.daily', t('settings.daily', 'Days'), t('settings.daily.hint', 'newest backup of each day'))}
              {number('retention.weekly', t('settings.weekly', 'Weeks'), t('settings.weekly.hint', 'newest of each week'))}
              {number('retention.monthly', t('settings.monthly', 'Months'), t('settings.monthly.hint', 'newest of each month'))}
              {number('retention.keepLast', t('settings.keepLast', 'Always keep the newest'), t('settings.keepLast.hint', 'at least 1'))}
              {toggle(
                'retention.includeManual',
                t('settings.includeManual', 'The automatic purge also removes manual backups'),
                t('settings.includeManual.hint', 'Off: a backup a person created stays until a person deletes it.')
              )}
            </Grid.Root>
          </Section>
          <Section title={t('settings.content', 'What scheduled backups hold')}>
            <Grid.Root gap={5}>
              <Grid.Item col={6} s={12} direction="column" alignItems="stretch">
                <Field.Root name="compression" hint={hint('compression')}>
                  <Field.Label>{t('create.compression', 'Compression')}</Field.Label>
                  <SingleSelect value={String(draft.compression)} disabled={!editable('compression')} onChange={(value: string | number) => set('compression', value)}>
                    <SingleSelectOption value="best">{t('compression.best', 'Best (smallest archive)')}</SingleSelectOption>
                    <SingleSelectOption value="fast">{t('compression.fast', 'Fast')}</SingleSelectOption>
                    <SingleSelectOption value="none">{t('compression.none', 'None')}</SingleSelectOption>
                  </SingleSelect>
                  <Field.Hint />
                </Field.Root>
              </Grid.Item>
              <Grid.Item col={6} s={12} direction="column" alignItems="flex-start">
                <Typography variant="sigma" textColor="neutral600">
                  {t('create.contentTypes', 'Content types')}
                </Typography>
                <Typography>
                  {draft['scope.contentTypes'] === 'all' ? t('list.scope.all', 'All') : (draft['scope.contentTypes'] as string[]).join(', ')}
                </Typography>
              </Grid.Item>
              {toggle('scope.media', t('create.media', 'Media files'))}
              {toggle('scope.config', t('create.config', 'Configuration store'))}
              {toggle('scope.adminUsers', t('create.adminUsers', 'Admin users, roles and API tokens (encrypted backups only)'))}
            </Grid.Root>
          </Section>
          <Section title={t('settings.drill', 'Restore drill')}>
            <Typography>{t('settings.drill.next', 'Next drill: {date}', { date: next(data.schedule.drill.nextRun) })}</Typography>
            <Grid.Root gap={5}>
              {toggle('drill.enabled', t('settings.drill.enabled', 'Restore the latest backup into a scratch database and check it'))}
              {cron('drill.schedule', t('settings.cron', 'Schedule (cron)'), t('settings.drill.cron.hint', 'e.g. 0 4 * * 0 for Sundays at 04:00'))}
            </Grid.Root>
          </Section>
          <Section title={t('settings.offsite', 'Off-site copies')}>
            <Flex direction="column" alignItems="stretch" gap={1}>
              <Typography variant="sigma" textColor="neutral600">
                {data.offsite.backend === 'local' ? t('settings.offsite.folder', 'Folder') : t('settings.offsite.bucket', 'S3 bucket')}
              </Typography>
              <Typography data-testid="offsite-location">
                {data.offsite.location ?? t('settings.offsite.none', 'None: name a bucket (offsite.bucket) or a folder (offsite.folder) in config/plugins.ts')}
              </Typography>
              <Typography variant="pi" textColor="neutral600">
                {t('settings.offsite.where', 'Where copies go, and their keys, are set in config/plugins.ts and environment variables only.')}
              </Typography>
            </Flex>
            {data.offsite.location ? (
              <>
                <Grid.Root gap={5}>
                  {toggle(
                    'offsite.enabled',
                    t('settings.offsite.enabled', 'Copy each new backup off-site'),
                    t('settings.offsite.enabled.hint', 'After it is written and verified; a failed copy raises an alert and is copied again by the next backup.')
                  )}
                  {toggle(
                    'offsite.deduplicate',
                    t('settings.offsite.deduplicate', 'Send only what changed (deduplicate)'),
                    t('settings.offsite.deduplicate.hint', 'Each media file and table is stored once; a copy sends what the last ones did not have. Encrypted backups do not gain.')
                  )}
                  {number(
                    'offsite.idleTimeoutSeconds',
                    t('settings.offsite.idle', 'Idle timeout (seconds)'),
                    t('settings.offsite.idle.hint', 'A copy that moves no byte for this long is abandoned (1 to 3600)')
                  )}
                </Grid.Root>
                <Typography data-testid="offsite-next-check">
                  {t('settings.offsite.check.next', 'Next check of the copies: {date}', { date: next(data.schedule.check.nextRun) })}
                </Typography>
                <Grid.Root gap={5}>
                  {toggle(
                    'offsite.check.enabled',
                    t('settings.offsite.check.enabled', 'Check the copies on a schedule'),
                    t('settings.offsite.check.enabled.hint', 'Reads every index, looks for every object, and reads a sample back against its SHA-256; damage raises an alert naming the backups.')
                  )}
                  {cron('offsite.check.schedule', t('settings.cron', 'Schedule (cron)'), t('settings.offsite.check.cron.hint', 'e.g. 0 5 * * 0 for Sundays at 05:00'))}
                  {number(
                    'offsite.check.samplePercent',
                    t('settings.offsite.check.sample', 'Objects read back at each check (%)'),
                    t('settings.offsite.check.sample.hint', '0 to 100: more finds rot sooner and downloads more')
                  )}
                </Grid.Root>
                <OffsiteTest canTest={allowedActions.canSettings} />
              </>
            ) : null}
          </Section>
          <NotificationsSection form={form} timezone={timezone} canSend={allowedActions.canSettings} />
        </Flex>
      </Layouts.Content>
    </Page.Main>
  );
};

const ProtectedSettingsPage = () => (
  <Page.Protect permissions={PERMISSIONS.read}>
    <SettingsPage />
  </Page.Protect>
);

export default ProtectedSettingsPage;
