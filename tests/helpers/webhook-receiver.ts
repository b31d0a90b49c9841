import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** Path and query string, as requested. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The exact body bytes, as text. */
  body: string;
  /** The status this receiver answered. */
  status: number;
}

/**
 * A webhook receiver on 127.0.0.1 (a free port) that records every request. `answers` are the
 * statuses of the first requests in turn (e.g. [500, 500] then 200 for the rest); `status`
 * answers every request after them.
 */
export const startWebhookReceiver = async ({ answers = [], status = 200 }: { answers?: number[]; status?: number } = {}) => {
  const requests: ReceivedRequest[] = [];
  const queue = [...answers];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = queue.length ? queue.shift()! : status;
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status: answer });
      res.writeHead(answer, { 'Content-Type': 'text/plain' });
      res.end(answer < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    requests,
    /** The receiver's URL with `path` (and its query string). */
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    /** The requests whose X-Pacta-Event (or Strapi's X-Strapi-Event) is `event`. */
    of: (event: string) => requests.filter((r) => r.headers['x-pacta-event'] === event || r.headers['x-strapi-event'] === event),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

/** How a receiver checks X-Pacta-Signature: HMAC-SHA256 of the raw body, compared in constant time. */
export const hasValidSignature = (request: ReceivedRequest, secret: string) => {
  const header = request.headers['x-pacta-signature'];
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(request.body).digest('hex')}`);
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
};
