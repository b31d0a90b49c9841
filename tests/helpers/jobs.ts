import type { Job } from '../../server/src/contracts/backups';
import type { Agent } from './agent';

/** Polls GET /pacta-backup/jobs/:id, as the admin panel does, until the job has finished. */
export const waitForJob = async (agent: Agent, id: string, timeoutMs = 170_000): Promise<Job> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await agent.get(`/pacta-backup/jobs/${id}`);
    if (res.status !== 200) throw new Error(`GET /pacta-backup/jobs/${id} answered ${res.status}: ${res.text}`);
    const job = res.body.data as Job;
    if (job.finishedAt) return job;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for job ${id} (${job.type}) to finish: still ${job.status} (${job.phase})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

/** Starts a job through the API and waits for it. */
export const runJob = async (agent: Agent, url: string, body: object = {}): Promise<Job> => {
  const res = await agent.post(url, body);
  if (res.status !== 202) throw new Error(`POST ${url} answered ${res.status}: ${res.text}`);
  return waitForJob(agent, res.body.data.id);
};
