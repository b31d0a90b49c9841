import { useEffect, useState } from 'react';

import { Box, Flex, Grid, Typography } from '@strapi/design-system';
import { Layouts, Page, useFetchClient } from '@strapi/strapi/admin';
import { useIntl } from 'react-intl';

import type { GetHealth, Health } from '../../../server/src/contracts/health';
import { PLUGIN_ID } from '../pluginId';
import { getTranslation } from '../utils/translations';

type State = { status: 'loading' } | { status: 'ready'; health: Health } | { status: 'error'; message: string };

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

export const HomePage = () => {
  const { formatMessage } = useIntl();
  const { get } = useFetchClient();
  const [state, setState] = useState<State>({ status: 'loading' });

  useEffect(() => {
    let active = true;
    get<GetHealth.Response>(`/${PLUGIN_ID}/health`)
      .then(({ data }) => active && setState({ status: 'ready', health: data.data }))
      .catch((error: Error) => active && setState({ status: 'error', message: error.message }));
    return () => {
      active = false;
    };
  }, [get]);

  const title = formatMessage({ id: getTranslation('home.title'), defaultMessage: 'Backups' });

  if (state.status === 'loading') {
    return <Page.Loading />;
  }

  return (
    <Page.Main>
      <Page.Title>{title}</Page.Title>
      <Layouts.Header
        title={title}
        subtitle={formatMessage({
          id: getTranslation('home.subtitle'),
          defaultMessage:
            'Back up and restore every row, relation, locale, draft and media file of this app.',
        })}
      />
      <Layouts.Content>
        {state.status === 'error' ? (
          <Page.Error
            content={formatMessage(
              {
                id: getTranslation('home.error'),
                defaultMessage: 'The backup service did not answer: {message}',
              },
              { message: state.message }
            )}
          />
        ) : (
          <Box background="neutral0" hasRadius shadow="tableShadow" padding={6}>
            <Flex direction="column" alignItems="stretch" gap={4}>
              <Typography variant="delta" tag="h2">
                {formatMessage({ id: getTranslation('home.installation'), defaultMessage: 'Installation' })}
              </Typography>
              <Grid.Root gap={5}>
                <Fact
                  label={formatMessage({ id: getTranslation('home.installation.plugin'), defaultMessage: 'Plugin version' })}
                  value={state.health.plugin.version}
                />
                <Fact
                  label={formatMessage({ id: getTranslation('home.installation.strapi'), defaultMessage: 'Strapi version' })}
                  value={state.health.strapiVersion}
                />
                <Fact
                  label={formatMessage({ id: getTranslation('home.installation.database'), defaultMessage: 'Database' })}
                  value={state.health.database.client}
                />
                <Fact
                  label={formatMessage({ id: getTranslation('home.installation.storage'), defaultMessage: 'Backup folder' })}
                  value={state.health.storage.folder}
                />
              </Grid.Root>
            </Flex>
          </Box>
        )}
      </Layouts.Content>
    </Page.Main>
  );
};
