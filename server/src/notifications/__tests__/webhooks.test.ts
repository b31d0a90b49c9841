import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Notice } from '../types';
import { deliverWebhook, displayUrl, isRetryable, signBody } from '../webhooks';

const notice: Notice = {
  id: '3f0c1d2e-0000-4000-8000-000000000001',
  event: 'backup.failed',
  at: '2026-11-30T02:00:05.000Z',
  summary: 'Backup failed: disk full',
  adminUrl: null,
  app: { name: 'pacta', instance: 'host:1:abc' },
};

/** A receiver answering `statuses` in turn (then 200); `hang` answers nothing to the first requests. */
const receiver = async ({ statuses = [] as Array<number | 'hang'>, headers = {} as Record<string, string> } = {}) => {
  const queue = [...statuses];
  const seen: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      const answer = queue.length ? queue.shift()! : 200;
      if (answer === 'hang') return;
      res.writeHead(answer, headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    seen,
    url: `http://127.0.0.1:${port}/hook?token=t0k3n`,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
};

/** The faked clock: records each wait, waits for none. */
const clock = () => {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
};

describe('signBody', () => {
  it('is the HMAC-SHA256 of the exact bytes, as GitHub signs its webhooks', () => {
    const body = JSON.stringify(notice);
    expect(signBody(body, 's3cret')).toBe(`sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`);
    expect(signBody(`${body} `, 's3cret')).not.toBe(signBody(body, 's3cret'));
  });
});

describe('displayUrl', () => {
  it('keeps scheme, host, port and path; drops the query string, the fragment and any credentials', () => {
    expect(displayUrl('https://user:pw@hooks.example.com:8443/a/b?token=x#frag')).toBe('https://hooks.example.com:8443/a/b');
    expect(displayUrl('not a url')).toBe('(invalid URL)');
  });
});

describe('isRetryable', () => {
  it('retries network errors (no status), 429 and 5xx only', () => {
    expect([undefined, 429, 500, 502, 503].map(isRetryable)).toEqual([true, true, true, true, true]);
    expect([200, 301, 400, 401, 404, 410, 422].map(isRetryable)).toEqual([false, false, false, false, false, false, false]);
  });
});

describe('deliverWebhook', () => {
  it('posts the notice signed, with its event, delivery id and a timestamp', async () => {
    const server = await receiver();
    try {
      const delivery = await deliverWebhook({ url: server.url, notice, secret: 'k', retries: 2, backoffMs: 100, timeoutMs: 2000 });
      expect(delivery).toMatchObject({ channel: 'webhook', target: server.url.replace('?token=t0k3n', ''), ok: true, attempts: 1, status: 200 });
      const [{ headers, body }] = server.seen;
      expect(JSON.parse(body)).toEqual(notice);
      expect(headers).toMatchObject({
        'content-type': 'application/json',
        'x-pacta-event': 'backup.failed',
        'x-pacta-delivery': notice.id,
        'x-pacta-signature': signBody(body, 'k'),
        'x-pacta-timestamp': expect.stringMatching(/^\d{10}$/),
      });
    } finally {
      await server.close();
    }
  });

  it('waits backoffMs, then twice as long, and so on, between attempts; stops at the first success', async () => {
    const server = await receiver({ statuses: [503, 500, 429] });
    const { waits, sleep } = clock();
    try {
      const delivery = await deliverWebhook({ url: server.url, notice, retries: 5, backoffMs: 100, timeoutMs: 2000, sleep });
      expect(delivery).toMatchObject({ ok: true, attempts: 4, status: 200 });
      expect(waits).toEqual([100, 200, 400]);
      expect(server.seen[0].headers['x-pacta-signature']).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('gives up after `retries` more attempts, with the last status', async () => {
    const server = await receiver({ statuses: [500, 500, 500, 500] });
    const { waits, sleep } = clock();
    try {
      expect(await deliverWebhook({ url: server.url, notice, retries: 2, backoffMs: 10, timeoutMs: 2000, sleep })).toMatchObject({
        ok: false,
        attempts: 3,
        status: 500,
        error: 'HTTP 500',
      });
      expect(waits).toEqual([10, 20]);
    } finally {
      await server.close();
    }
  });

  it('does not retry a 4xx other than 429, nor follow a redirect', async () => {
    const server = await receiver({ statuses: [404, 302], headers: { Location: 'http://127.0.0.1:1/elsewhere' } });
    const { waits, sleep } = clock();
    try {
      expect(await deliverWebhook({ url: server.url, notice, retries: 3, backoffMs: 10, timeoutMs: 2000, sleep })).toMatchObject({ ok: false, attempts: 1, status: 404 });
      expect(await deliverWebhook({ url: server.url, notice, retries: 3, backoffMs: 10, timeoutMs: 2000, sleep })).toMatchObject({
        ok: false,
        attempts: 1,
        status: 302,
        error: 'HTTP 302 (redirects are not followed)',
      });
      expect(waits).toEqual([]);
      expect(server.seen).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it("honours a 429's Retry-After when it is longer than the backoff", async () => {
    const server = await receiver({ statuses: [429], headers: { 'Retry-After': '3' } });
    const { waits, sleep } = clock();
    try {
      expect(await deliverWebhook({ url: server.url, notice, retries: 1, backoffMs: 10, timeoutMs: 2000, sleep })).toMatchObject({ ok: true, attempts: 2 });
      expect(waits).toEqual([3000]);
    } finally {
      await server.close();
    }
  });

  it('retries a receiver that does not answer within timeoutMs, and says so', async () => {
    const server = await receiver({ statuses: ['hang', 'hang'] });
    const { waits, sleep } = clock();
    try {
      const delivery = await deliverWebhook({ url: server.url, notice, retries: 1, backoffMs: 10, timeoutMs: 200, sleep });
      expect(delivery).toMatchObject({ ok: false, attempts: 2, error: 'no answer within 200 ms' });
      expect(delivery.status).toBeUndefined();
      expect(waits).toEqual([10]);
    } finally {
      await server.close();
    }
  });
});
