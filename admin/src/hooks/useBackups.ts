import { useCallback, useEffect, useState } from 'react';

import { useFetchClient } from '@strapi/strapi/admin';

import type { Backup, SelectableContentType, StorageInfo } from '../../../server/src/contracts/backups';
import { PLUGIN_ID } from '../pluginId';

/** The backups list, the storage figures and the content types' names, with a reload. */
export const useBackups = () => {
  const { get } = useFetchClient();
  const [backups, setBackups] = useState<Backup[] | null>(null);
  const [storage, setStorage] = useState<StorageInfo | null>(null);
  const [names, setNames] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      const [list, space, types] = await Promise.all([
        get<{ data: Backup[] }>(`/${PLUGIN_ID}/backups`),
        get<{ data: StorageInfo }>(`/${PLUGIN_ID}/storage`),
        get<{ data: SelectableContentType[] }>(`/${PLUGIN_ID}/content-types`),
      ]);
      setBackups(list.data.data);
      setStorage(space.data.data);
      setNames(Object.fromEntries(types.data.data.map((ct) => [ct.uid, ct.displayName])));
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [get]);

  useEffect(() => {
    reload();
  }, [reload]);

  return { backups, storage, names, error, reload };
};
