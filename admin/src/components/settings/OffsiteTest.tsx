import { useState } from 'react';

import { Badge, Button, Flex, Typography } from '@strapi/design-system';
import { useFetchClient, useNotification } from '@strapi/strapi/admin';

import { useT } from '../../hooks/useT';
import { PLUGIN_ID } from '../../pluginId';
import { apiError } from '../../utils/errors';

interface ProbeResult {
  ok: boolean;
  location: string;
  seconds: number;
  error?: string;
}

/**
 * Test the off-site location: POST /offsite/test writes a probe object there, reads it back with
 * its SHA-256 checked and deletes it, so an admin knows the bucket or share works before the
 * first copy depends on it.
 */
export const OffsiteTest = ({ canTest }: { canTest: boolean }) => {
  const t = useT();
  const { post } = useFetchClient();
  const { toggleNotification } = useNotification();
  const [testing, setTesting] = useState(false);
  const [result, setResult] = useState<ProbeResult | null>(null);

  const test = async () => {
    setTesting(true);
    setResult(null);
    try {
      const { data } = await post<{ data: ProbeResult }>(`/${PLUGIN_ID}/offsite/test`, {});
      setResult(data.data);
    } catch (error) {
      toggleNotification({ type: 'danger', message: apiError(error).message });
    } finally {
      setTesting(false);
    }
  };

  if (!canTest) return null;
  return (
    <Flex direction="column" alignItems="stretch" gap={2}>
      <Flex gap={2} alignItems="center" wrap="wrap">
        <Button variant="secondary" size="L" onClick={test} loading={testing}>
          {t('settings.offsite.test', 'Test the connection')}
        </Button>
        <Typography variant="pi" textColor="neutral600">
          {t('settings.offsite.test.hint', 'Writes a small object there, reads it back and deletes it.')}
        </Typography>
      </Flex>
      {result ? (
        <Flex gap={2} wrap="wrap" role="status" aria-label={t('settings.offsite.test.result', 'Connection test')}>
          <Badge variant={result.ok ? 'success' : 'danger'}>
            {result.ok ? t('settings.offsite.test.ok', 'Works') : t('settings.offsite.test.failed', 'Failed')}
          </Badge>
          <Typography>
            {result.ok
              ? t('settings.offsite.test.done', 'Written, read back and deleted at {location} in {seconds} s', { location: result.location, seconds: result.seconds })
              : result.error}
          </Typography>
        </Flex>
      ) : null}
    </Flex>
  );
};
