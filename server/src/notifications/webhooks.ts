import { createHmac } from 'node:crypto';

import type { Delivery, Notice } from './types';

/** The headers a receiver reads. */
export const SIGNATURE_HEADER = 'X-Pacta-Signature';
export const EVENT_HEADER = 'X-Pacta-Event';
export const DELIVERY_HEADER = 'X-Pacta-Delivery';
export const TIMESTAMP_HEADER = 'X-Pacta-Timestamp';

/** The longest Retry-After (429, 503) a delivery waits for; past it, its own backoff applies. */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * `sha256=<hex>`: the HMAC-SHA256 of the exact body bytes, keyed with the target's secret (as
 * GitHub's X-Hub-Signature-256). The body holds the notice's `id` and `at`, so they are signed
 * too: a receiver drops an `id` it already has, and may refuse an old `at`.
 */
export const signBody = (body: string, secret: string) => `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

/**
 * A URL as it may be shown and logged: scheme, host, port and path. The query string (it may
 * hold a token), the fragment and any user:password@ are left out.
 */
export const displayUrl = (url: string) => {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
};

/** Whether another attempt may succeed: a network error or timeout (no status), 429 or 5xx. */
export const isRetryable = (status: number | undefined) => status === undefined || status === 429 || status >= 500;

export interface WebhookRequest {
  url: string;
  notice: Notice;
  /** The HMAC secret (the value of the target's `secretEnv`); unsigned when absent. */
  secret?: string | null;
  /** Attempts after the first one. */
  retries: number;
  /** Delay before the first retry; doubles after each. */
  backoffMs: number;
  timeoutMs: number;
  /** Waits between attempts (the tests' clock). */
  sleep?: (ms: number) => Promise<void>;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Why a fetch failed, without the URL (undici puts the cause, e.g. ECONNREFUSED, in `cause`). */
const describeError = (error: unknown, timeoutMs: number) => {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  return err.cause?.code ?? err.cause?.message ?? err.message;
};

/** Retry-After in ms (seconds or an HTTP date), or null. */
const retryAfterMs = (value: string | null, now = Date.now()) => {
  if (!value) return null;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : null;
};

/**
 * POSTs a notice to one webhook receiver with Node's fetch: the notice as JSON, signed when
 * the target has a secret, each attempt within `timeoutMs`. Network errors, timeouts, 429 and
 * 5xx are tried again after `backoffMs`, then twice that, and so on (`retries` times at most);
 * any other answer is final. Redirects are not followed (a receiver answers where it is
 * configured). Never throws: the result says what happened, with the URL's query left out.
 */
export const deliverWebhook = async ({ url, notice, secret, retries, backoffMs, timeoutMs, sleep = wait }: WebhookRequest): Promise<Delivery> => {
  const body = JSON.stringify(notice);
  const target = displayUrl(url);
  let attempts = 0;
  let status: number | undefined;
  let error: string | undefined;
  for (;;) {
    attempts += 1;
    let delay = backoffMs * 2 ** (attempts - 1);
    try {
      const response = await fetch(url, {
        method: 'POST',
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'pacta-backup-webhook',
          [EVENT_HEADER]: notice.event,
          [DELIVERY_HEADER]: notice.id,
          [TIMESTAMP_HEADER]: String(Math.floor(Date.now() / 1000)),
          ...(secret ? { [SIGNATURE_HEADER]: signBody(body, secret) } : {}),
        },
      });
      status = response.status;
      // The receiver's answer is not read further than needed to free the connection.
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) {
        return { channel: 'webhook', target, ok: true, attempts, status, at: new Date().toISOString() };
      }
      error = `HTTP ${response.status}${response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : ''}`;
      delay = Math.max(delay, retryAfterMs(response.headers.get('retry-after')) ?? 0);
    } catch (caught) {
      status = undefined;
      error = describeError(caught, timeoutMs);
    }
    if (!isRetryable(status) || attempts > retries) {
      return { channel: 'webhook', target, ok: false, attempts, ...(status === undefined ? {} : { status }), error, at: new Date().toISOString() };
    }
    await sleep(delay);
  }
};
