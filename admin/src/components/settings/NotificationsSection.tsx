import { useEffect, useState } from 'react';

import {
  Badge,
  Box,
  Button,
  Checkbox,
  Field,
  Flex,
  Grid,
  IconButton,
  MultiSelect,
  MultiSelectOption,
  Radio,
  SingleSelect,
  SingleSelectOption,
  Tag,
  TextInput,
  Toggle,
  Typography,
} from '@strapi/design-system';
import { Cross, Plus, Trash } from '@strapi/icons';
import { useFetchClient, useNotification } from '@strapi/strapi/admin';

import { NOTIFICATION_EVENTS, type Delivery, type NotificationEvent } from '../../../../server/src/notifications/types';
import { useT } from '../../hooks/useT';
import { PLUGIN_ID } from '../../pluginId';
import { apiError } from '../../utils/errors';
import { CronPreview } from '../CronPreview';
import { Section } from '../Section';
import type { SettingsForm } from './form';

interface WebhookTarget {
  url: string;
  events?: NotificationEvent[];
  secretEnv?: string;
}
type TestChannel = 'all' | 'email' | 'webhook';

/** What the server's schema takes for an address (a light check before it does the real one). */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The events in words, in the admin's language. */
const useEventLabels = (): Record<NotificationEvent, string> => {
  const t = useT();
  return {
    'backup.succeeded': t('notifications.event.backup.succeeded', 'A backup succeeded'),
    'backup.failed': t('notifications.event.backup.failed', 'A backup failed'),
    'backup.warning': t('notifications.event.backup.warning', 'A backup completed with warnings'),
    'restore.succeeded': t('notifications.event.restore.succeeded', 'A restore succeeded'),
    'restore.failed': t('notifications.event.restore.failed', 'A restore failed'),
    'import.applied': t('notifications.event.import.applied', 'An import was applied'),
    'drill.failed': t('notifications.event.drill.failed', 'A restore drill failed'),
    'alert.raised': t('notifications.event.alert.raised', 'An alert was raised'),
    'alert.cleared': t('notifications.event.alert.cleared', 'An alert was cleared'),
  };
};

/** A target as the settings schema takes it: no empty event list (that is "all") or secret name. */
const cleanTarget = ({ url, events, secretEnv }: WebhookTarget): WebhookTarget => ({
  url,
  ...(events?.length ? { events } : {}),
  ...(secretEnv?.trim() ? { secretEnv: secretEnv.trim() } : {}),
});

/** The e-mail recipients: a list of addresses, added one at a time and removed by their tag. */
const Recipients = ({ form }: { form: SettingsForm }) => {
  const t = useT();
  const field = 'notifications.email.recipients';
  const recipients = (form.draft[field] as string[] | undefined) ?? [];
  const [address, setAddress] = useState('');
  const [invalid, setInvalid] = useState(false);
  const editable = form.editable(field);
  const serverError = Object.entries(form.errors).find(([key]) => key === field || key.startsWith(`${field}.`))?.[1];

  const add = () => {
    const value = address.trim();
    if (!EMAIL.test(value)) {
      setInvalid(true);
      return;
    }
    if (!recipients.includes(value)) form.set(field, [...recipients, value]);
    setAddress('');
    setInvalid(false);
  };

  return (
    <Flex direction="column" alignItems="stretch" gap={2}>
      <Field.Root
        name={field}
        hint={form.hint(field, t('notifications.recipients.hint', 'Each address receives the e-mails in the language below.'))}
        error={invalid ? t('notifications.recipients.invalid', 'Not an e-mail address') : serverError}
      >
        <Field.Label>{t('notifications.recipients', 'Recipients')}</Field.Label>
        <Flex gap={2} alignItems="flex-start">
          <Box grow={1}>
            <TextInput
              type="email"
              placeholder="ops@example.com"
              value={address}
              disabled={!editable}
              onChange={(e: React.ChangeEvent<HTMLInputElement>) => setAddress(e.target.value)}
              onKeyDown={(e: React.KeyboardEvent<HTMLInputElement>) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  add();
                }
              }}
            />
          </Box>
          <Button variant="secondary" startIcon={<Plus />} size="L" disabled={!editable || !address.trim()} onClick={add}>
            {t('notifications.recipients.add', 'Add')}
          </Button>
        </Flex>
        <Field.Hint />
        <Field.Error />
      </Field.Root>
      {recipients.length ? (
        <Flex gap={2} wrap="wrap" role="list" aria-label={t('notifications.recipients', 'Recipients')}>
          {recipients.map((recipient) => (
            <Box key={recipient} role="listitem">
              <Tag
                icon={<Cross />}
                disabled={!editable}
                label={t('notifications.recipients.remove', 'Remove {address}', { address: recipient })}
                onClick={() => form.set(field, recipients.filter((r) => r !== recipient))}
              >
                {recipient}
              </Tag>
            </Box>
          ))}
        </Flex>
      ) : (
        <Typography variant="pi" textColor="neutral600">
          {t('notifications.recipients.none', 'No recipient yet.')}
        </Typography>
      )}
    </Flex>
  );
};

/** The plugin's own webhook targets: URL, optional events, optional name of the secret's variable. */
const WebhookTargets = ({ form }: { form: SettingsForm }) => {
  const t = useT();
  const labels = useEventLabels();
  const field = 'notifications.webhooks.targets';
  const targets = (form.draft[field] as WebhookTarget[] | undefined) ?? [];
  const editable = form.editable(field);
  const update = (index: number, change: Partial<WebhookTarget>) =>
    form.set(
      field,
      targets.map((target, i) => (i === index ? cleanTarget({ ...target, ...change }) : target))
    );

  return (
    <Flex direction="column" alignItems="stretch" gap={3}>
      <Typography variant="sigma" textColor="neutral600">
        {t('notifications.targets', 'Webhook targets')}
      </Typography>
      <Typography variant="pi" textColor="neutral600">
        {form.hint(
          field,
          t(
            'notifications.targets.hint',
            'Each receives a JSON POST per event. With a secret, the body is signed (HMAC-SHA256, X-Pacta-Signature header): give the name of the environment variable that holds it, never the secret itself.'
          )
        )}
      </Typography>
      {targets.map((target, index) => (
        <Box key={index} padding={4} hasRadius borderColor="neutral200" role="group" aria-label={t('notifications.target', 'Webhook target {n}', { n: index + 1 })}>
          <Grid.Root gap={4}>
            <Grid.Item col={6} s={12} direction="column" alignItems="stretch">
              <Field.Root name={`${field}.${index}.url`} error={form.errors[`${field}.${index}.url`]} required>
                <Field.Label>{t('notifications.target.url', 'Receiver URL')}</Field.Label>
                <TextInput
                  type="url"
                  placeholder="https://hooks.example.com/backups"
                  value={target.url}
                  disabled={!editable}
                  onChange={(e: React.ChangeEvent<HTMLInputElement>) => update(index, { url: e.target.value })}
                />
                <Field.Error />
              </Field.Root>
            </Grid.Item>
            <Grid.Item col={5} s={10} direction="column" alignItems="stretch">
              <Field.Root
                name={`${field}.${index}.secretEnv`}
                error={form.errors[`${field}.${index}.secretEnv`]}
                hint={t('notifications.target.secret.hint', 'Optional, e.g. BACKUP_WEBHOOK_SECRET')}
              >
                <Field.Label>{t('notifications.target.secret', 'Secret: environment variable name')}</Field.Label>
                <TextInput
                  value={target.secretEnv ?? ''}
                  disabled={!editable}
                  onChange={(e: React.ChangeEvent<HTMLInputElement>) => update(index, { secretEnv: e.target.value })}
                />
                <Field.Hint />
                <Field.Error />
              </Field.Root>
            </Grid.Item>
            <Grid.Item col={1} s={2} direction="column" alignItems="flex-end" justifyContent="center">
              <IconButton
                label={t('notifications.target.remove', 'Remove this target')}
                variant="ghost"
                disabled={!editable}
                onClick={() => form.set(field, targets.filter((_, i) => i !== index))}
              >
                <Trash />
              </IconButton>
            </Grid.Item>
            <Grid.Item col={12} direction="column" alignItems="stretch">
              <Field.Root name={`${field}.${index}.events`} hint={t('notifications.target.events.hint', 'None chosen: every event chosen above')}>
                <Field.Label>{t('notifications.target.events', 'Events')}</Field.Label>
                <MultiSelect
                  withTags
                  value={target.events ?? []}
                  disabled={!editable}
                  placeholder={t('notifications.target.events.all', 'Every event chosen above')}
                  onChange={(values: string[]) => update(index, { events: values as NotificationEvent[] })}
                >
                  {NOTIFICATION_EVENTS.map((event) => (
                    <MultiSelectOption key={event} value={event}>
                      {labels[event]}
                    </MultiSelectOption>
                  ))}
                </MultiSelect>
                <Field.Hint />
              </Field.Root>
            </Grid.Item>
          </Grid.Root>
        </Box>
      ))}
      <Box>
        <Button variant="secondary" startIcon={<Plus />} disabled={!editable} onClick={() => form.set(field, [...targets, { url: '' }])}>
          {t('notifications.target.add', 'Add a webhook target')}
        </Button>
      </Box>
    </Flex>
  );
};

/** Send a test: POST /notifications/test with the saved settings, then each delivery's result. */
const SendTest = ({ form, canSend }: { form: SettingsForm; canSend: boolean }) => {
  const t = useT();
  const { post } = useFetchClient();
  const { toggleNotification } = useNotification();
  const [channel, setChannel] = useState<TestChannel>('all');
  const [sending, setSending] = useState(false);
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const unsaved = form.changed.some((field) => field.startsWith('notifications.'));

  const send = async () => {
    setSending(true);
    setFailure(null);
    setDeliveries(null);
    try {
      const { data } = await post<{ data: { deliveries: Delivery[] } }>(`/${PLUGIN_ID}/notifications/test`, { channel });
      setDeliveries(data.data.deliveries);
    } catch (error) {
      const { message } = apiError(error);
      setFailure(message);
      toggleNotification({ type: 'danger', message });
    } finally {
      setSending(false);
    }
  };
  const channelLabel = (value: Delivery['channel']) =>
    value === 'email' ? t('notifications.channel.email', 'E-mail') : value === 'webhook' ? t('notifications.channel.webhook', 'Webhook') : t('notifications.channel.strapi', 'Strapi webhook');

  if (!canSend) return null;
  return (
    <Flex direction="column" alignItems="stretch" gap={3}>
      <Typography variant="sigma" textColor="neutral600">
        {t('notifications.test', 'Send a test')}
      </Typography>
      <Flex gap={2} alignItems="flex-end" wrap="wrap">
        <Box minWidth="240px">
          <Field.Root name="notifications.test.channel">
            <Field.Label>{t('notifications.test.channel', 'Channel')}</Field.Label>
            <SingleSelect value={channel} onChange={(value: string | number) => setChannel(value as TestChannel)}>
              <SingleSelectOption value="all">{t('notifications.test.all', 'E-mail and webhooks')}</SingleSelectOption>
              <SingleSelectOption value="email">{t('notifications.channel.email', 'E-mail')}</SingleSelectOption>
              <SingleSelectOption value="webhook">{t('notifications.channel.webhook', 'Webhook')}</SingleSelectOption>
            </SingleSelect>
          </Field.Root>
        </Box>
        <Button variant="secondary" size="L" onClick={send} loading={sending} disabled={unsaved}>
          {t('notifications.test', 'Send a test')}
        </Button>
      </Flex>
      <Typography variant="pi" textColor={unsaved ? 'warning600' : 'neutral600'}>
        {unsaved
          ? t('notifications.test.unsaved', 'Save first: the test uses the saved settings.')
          : t('notifications.test.hint', 'Sends a test notice to every enabled target of the channel, with the saved settings.')}
      </Typography>
      {failure ? (
        <Typography textColor="danger600" role="alert">
          {failure}
        </Typography>
      ) : null}
      {deliveries ? (
        <Flex direction="column" alignItems="stretch" gap={2} role="status" aria-label={t('notifications.test.result', 'Test result')}>
          {deliveries.length === 0 ? <Typography>{t('notifications.test.nothing', 'Nothing was sent: no enabled target.')}</Typography> : null}
          {deliveries.map((delivery, index) => (
            <Flex key={`${delivery.channel}-${delivery.target}-${index}`} gap={2} wrap="wrap" data-testid="test-delivery">
              <Badge variant={delivery.ok ? 'success' : 'danger'}>
                {delivery.ok ? t('notifications.test.ok', 'Delivered') : t('notifications.test.error', 'Failed')}
              </Badge>
              <Typography fontWeight="bold">{channelLabel(delivery.channel)}</Typography>
              <Typography>{delivery.target}</Typography>
              {delivery.status ? <Typography textColor="neutral600">{`HTTP ${delivery.status}`}</Typography> : null}
              <Typography textColor="neutral600">{t('notifications.test.attempts', '{count, plural, one {# attempt} other {# attempts}}', { count: delivery.attempts })}</Typography>
              {delivery.error ? <Typography textColor="danger600">{delivery.error}</Typography> : null}
            </Flex>
          ))}
        </Flex>
      ) : null}
    </Flex>
  );
};

/** Settings → Backups → Notifications: channels, recipients, when, language, events, webhook targets, a test. */
export const NotificationsSection = ({ form, timezone, canSend }: { form: SettingsForm; timezone: string; canSend: boolean }) => {
  const t = useT();
  const { get } = useFetchClient();
  const labels = useEventLabels();
  const [emailAvailable, setEmailAvailable] = useState<boolean | null>(null);
  useEffect(() => {
    // Whether Strapi's e-mail plugin is there to send (A's endpoint; unknown until it answers).
    get<{ data: { emailAvailable: boolean } }>(`/${PLUGIN_ID}/notifications/events`).then(
      ({ data }) => setEmailAvailable(data.data.emailAvailable),
      () => setEmailAvailable(null)
    );
  }, [get]);

  const toggle = (field: string, label: string, help?: string) => (
    <Grid.Item col={6} s={12} direction="column" alignItems="stretch">
      <Field.Root name={field} hint={form.hint(field, help)}>
        <Field.Label>{label}</Field.Label>
        <Toggle
          checked={Boolean(form.draft[field])}
          disabled={!form.editable(field)}
          onLabel={t('settings.on', 'On')}
          offLabel={t('settings.off', 'Off')}
          onChange={(e: React.ChangeEvent<HTMLInputElement>) => form.set(field, e.target.checked)}
        />
        <Field.Hint />
      </Field.Root>
    </Grid.Item>
  );
  const when = String(form.draft['notifications.email.when'] ?? 'failures');
  const events = (form.draft['notifications.events'] as NotificationEvent[] | undefined) ?? [];
  const digest = String(form.draft['notifications.email.digestSchedule'] ?? '');

  return (
    <Section title={t('notifications.title', 'Notifications')}>
      <Typography textColor="neutral600">
        {t('notifications.subtitle', 'Who is told when a backup, a restore or a drill fails, and when an alert is raised or cleared.')}
      </Typography>
      <Grid.Root gap={5}>
        {toggle(
          'notifications.email.enabled',
          t('notifications.channel.email', 'E-mail'),
          emailAvailable === false
            ? t('notifications.email.unavailable', "Strapi's e-mail plugin has no provider configured: configure one in config/plugins.ts to send e-mails.")
            : t('notifications.email.hint', "Sent through Strapi's e-mail plugin, with the provider this app configured.")
        )}
        {toggle('notifications.webhooks.enabled', t('notifications.channel.webhooks', 'Webhooks'), t('notifications.webhooks.hint', 'JSON POSTed to the targets below.'))}
      </Grid.Root>

      <Recipients form={form} />

      <Grid.Root gap={5}>
        <Grid.Item col={6} s={12} direction="column" alignItems="stretch">
          <Field.Root name="notifications.email.when" hint={form.hint('notifications.email.when')}>
            <Field.Label>{t('notifications.when', 'When to send e-mails')}</Field.Label>
            <Radio.Group
              value={when}
              disabled={!form.editable('notifications.email.when')}
              onValueChange={(value: string) => form.set('notifications.email.when', value)}
              aria-label={t('notifications.when', 'When to send e-mails')}
            >
              <Radio.Item value="failures">{t('notifications.when.failures', 'Failures and alerts only')}</Radio.Item>
              <Radio.Item value="always">{t('notifications.when.always', 'Every event')}</Radio.Item>
              <Radio.Item value="digest">{t('notifications.when.digest', 'A daily digest')}</Radio.Item>
            </Radio.Group>
            <Field.Hint />
          </Field.Root>
        </Grid.Item>
        <Grid.Item col={6} s={12} direction="column" alignItems="stretch">
          <Field.Root
            name="notifications.email.language"
            hint={form.hint('notifications.email.language', t('notifications.language.hint', "For recipients who are not admins with an interface language of their own."))}
          >
            <Field.Label>{t('notifications.language', 'Default language of e-mails')}</Field.Label>
            <SingleSelect
              value={String(form.draft['notifications.email.language'] ?? 'en')}
              disabled={!form.editable('notifications.email.language')}
              onChange={(value: string | number) => form.set('notifications.email.language', value)}
            >
              <SingleSelectOption value="en">English</SingleSelectOption>
              <SingleSelectOption value="es">Español</SingleSelectOption>
            </SingleSelect>
            <Field.Hint />
          </Field.Root>
        </Grid.Item>
        {when === 'digest' ? (
          <Grid.Item col={6} s={12} direction="column" alignItems="stretch" gap={2}>
            <Field.Root
              name="notifications.email.digestSchedule"
              hint={form.hint('notifications.email.digestSchedule', t('notifications.digest.hint', 'When the daily summary is sent, e.g. 0 8 * * * for 08:00'))}
              error={form.errors['notifications.email.digestSchedule']}
            >
              <Field.Label>{t('notifications.digest', 'Digest schedule (cron)')}</Field.Label>
              <TextInput
                value={digest}
                disabled={!form.editable('notifications.email.digestSchedule')}
                onChange={(e: React.ChangeEvent<HTMLInputElement>) => form.set('notifications.email.digestSchedule', e.target.value)}
              />
              <Field.Hint />
              <Field.Error />
            </Field.Root>
            <CronPreview expression={digest} timezone={timezone} testId="cron-digest" />
          </Grid.Item>
        ) : null}
      </Grid.Root>

      <Flex direction="column" alignItems="stretch" gap={2} role="group" aria-label={t('notifications.events', 'Events')}>
        <Typography variant="sigma" textColor="neutral600">
          {t('notifications.events', 'Events')}
        </Typography>
        <Typography variant="pi" textColor="neutral600">
          {form.hint('notifications.events', t('notifications.events.hint', 'What is sent at all, on every channel; "Failures and alerts only" narrows the e-mails further.'))}
        </Typography>
        <Grid.Root gap={2}>
          {NOTIFICATION_EVENTS.map((event) => (
            <Grid.Item key={event} col={4} s={12}>
              <Checkbox
                checked={events.includes(event)}
                disabled={!form.editable('notifications.events')}
                onCheckedChange={(on: boolean | 'indeterminate') =>
                  form.set(
                    'notifications.events',
                    NOTIFICATION_EVENTS.filter((e) => (e === event ? on === true : events.includes(e)))
                  )
                }
              >
                {labels[event]}
              </Checkbox>
            </Grid.Item>
          ))}
        </Grid.Root>
      </Flex>

      <WebhookTargets form={form} />
      <SendTest form={form} canSend={canSend} />
    </Section>
  );
};
