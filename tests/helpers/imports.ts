import type { ApplyBody, DocumentPage, ImportPreview, ImportReport, PreviewBody, PreviewDocument, PreviewJobResult } from '../../server/src/contracts/imports';
import type { Job } from '../../server/src/contracts/backups';
import type { Agent } from './agent';
import { runJob } from './jobs';

/** The import through the admin API, as the wizard drives it. */

export const BASE = '/pacta-backup/imports';

/** Runs a preview job; it must succeed. Returns the job and the stored preview. */
export const previewImport = async (agent: Agent, body: PreviewBody): Promise<{ job: Job; preview: ImportPreview }> => {
  const job = await runJob(agent, `${BASE}/preview`, body);
  if (job.status !== 'succeeded') throw new Error(`The preview failed: ${JSON.stringify(job.error)}\n${job.log.join('\n')}`);
  const { previewId } = job.result as unknown as PreviewJobResult;
  const res = await agent.get(`${BASE}/previews/${previewId}`);
  if (res.status !== 200) throw new Error(`GET ${BASE}/previews/${previewId} answered ${res.status}: ${res.text}`);
  return { job, preview: res.body.data as ImportPreview };
};

/** Every document of a preview (all pages), optionally of one content type or state. */
export const previewDocuments = async (agent: Agent, previewId: string, filter: { uid?: string; state?: string } = {}): Promise<PreviewDocument[]> => {
  const out: PreviewDocument[] = [];
  for (let page = 1; ; page += 1) {
    const query = new URLSearchParams({ ...filter, page: String(page), pageSize: '100' });
    const res = await agent.get(`${BASE}/previews/${previewId}/documents?${query}`);
    if (res.status !== 200) throw new Error(`GET ${BASE}/previews/${previewId}/documents answered ${res.status}: ${res.text}`);
    const body = res.body as DocumentPage & { data?: DocumentPage };
    const data = (body.data ?? body) as DocumentPage;
    out.push(...data.results);
    if (page >= data.pagination.pageCount) return out;
  }
};

/** Starts the apply of a preview and waits for it (whatever its end). */
export const applyImport = async (agent: Agent, previewId: string, body: Omit<ApplyBody, 'confirm'> = {}): Promise<{ job: Job; report: ImportReport | null }> => {
  const job = await runJob(agent, `${BASE}/previews/${previewId}/apply`, { ...body, confirm: true });
  return { job, report: job.status === 'succeeded' ? (job.result as unknown as ImportReport) : null };
};
