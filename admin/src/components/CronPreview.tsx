import { useEffect, useState } from 'react';

import { Flex, Typography } from '@strapi/design-system';
import { useFetchClient } from '@strapi/strapi/admin';
import cronstrue from 'cronstrue';
// Registers cronstrue's Spanish (the plugin's other admin language) on the same cronstrue.
import 'cronstrue/locales/es';
import { useIntl } from 'react-intl';

import type { PreviewSchedule, SchedulePreview } from '../../../server/src/contracts/schedule';
import { useT } from '../hooks/useT';
import { PLUGIN_ID } from '../pluginId';

/** Waits this long after the last keystroke before asking the server. */
const DEBOUNCE_MS = 300;

/** What a cron expression means in words, in the admin's language (English, or Spanish). */
export const describeCron = (expression: string, locale: string) => {
  try {
    return cronstrue.toString(expression.trim(), { locale: locale.toLowerCase().startsWith('es') ? 'es' : 'en', throwExceptionOnParseError: true });
  } catch {
    return null;
  }
};

/**
 * Under a cron field: the expression in words and its next three runs in the configured time
 * zone, as the admin types. The runs and whether the expression is valid come from the server
 * (GET /schedule/preview: node-cron's own reckoning, the check the settings schema makes).
 */
export const CronPreview = ({ expression, timezone, testId }: { expression: string; timezone: string; testId: string }) => {
  const { locale, formatDate } = useIntl();
  const { get } = useFetchClient();
  const t = useT();
  const [preview, setPreview] = useState<SchedulePreview | null>(null);

  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      const query = new URLSearchParams({ expression, ...(timezone.trim() ? { timezone: timezone.trim() } : {}) });
      get<PreviewSchedule.Response>(`/${PLUGIN_ID}/schedule/preview?${query}`).then(
        ({ data }) => current && setPreview(data.data),
        () => current && setPreview(null)
      );
    }, DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [expression, timezone, get]);

  if (!preview) return null;
  if (!preview.valid) {
    return (
      <Typography variant="pi" textColor="danger600" role="status" data-testid={testId}>
        {t('cron.invalid', 'Not a schedule: {reason}', { reason: preview.error ?? '' })}
      </Typography>
    );
  }
  const words = describeCron(expression, locale);
  return (
    <Flex direction="column" alignItems="flex-start" gap={1} role="status" data-testid={testId}>
      {words ? (
        <Typography variant="omega" fontWeight="semiBold" data-testid={`${testId}-words`}>
          {words}
        </Typography>
      ) : null}
      <Typography variant="pi" textColor="neutral600">
        {t('cron.next', 'Next runs ({timezone}):', { timezone: preview.timezone })}
      </Typography>
      <Flex tag="ul" direction="column" alignItems="flex-start" gap={0} data-testid={`${testId}-runs`}>
        {preview.nextRuns.map((at) => (
          <Typography key={at} tag="li" variant="pi" textColor="neutral800">
            {formatDate(at, { dateStyle: 'full', timeStyle: 'short', timeZone: preview.timezone })}
          </Typography>
        ))}
      </Flex>
    </Flex>
  );
};
