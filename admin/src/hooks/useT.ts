import { useIntl } from 'react-intl';

import { getTranslation } from '../utils/translations';

/** t('create.title', 'Create a backup', values): the plugin's message with its English default. */
export const useT = () => {
  const { formatMessage } = useIntl();
  return (id: string, defaultMessage: string, values?: Record<string, string | number>) =>
    formatMessage({ id: getTranslation(id), defaultMessage }, values);
};
