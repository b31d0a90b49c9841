import { useEffect, useState } from 'react';

import { useFetchClient } from '@strapi/strapi/admin';

import type { Job } from '../../../server/src/contracts/backups';
import { PLUGIN_ID } from '../pluginId';

const POLL_MS = 500;

/** Follows a job (GET /jobs/:id every half second) until it has finished. */
export const useJob = (id: string | null) => {
  const { get } = useFetchClient();
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setJob(null);
    setError(null);
    if (!id) return undefined;
    let active = true;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        const { data } = await get<{ data: Job }>(`/${PLUGIN_ID}/jobs/${id}`);
        if (!active) return;
        setJob(data.data);
        if (!data.data.finishedAt) timer = setTimeout(poll, POLL_MS);
      } catch (err) {
        if (active) setError((err as Error).message);
      }
    };
    poll();
    return () => {
      active = false;
      clearTimeout(timer);
    };
  }, [id, get]);

  return { job, error, finished: Boolean(job?.finishedAt) };
};
