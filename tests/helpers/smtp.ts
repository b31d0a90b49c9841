import type { AddressInfo } from 'node:net';

import { SMTPServer } from 'smtp-server';

/** One message as the SMTP server received it, decoded enough for a test to read. */
export interface ReceivedMail {
  /** The envelope: MAIL FROM and every RCPT TO. */
  envelope: { from: string; to: string[] };
  /** Header fields, names lower-cased, values unfolded and RFC 2047-decoded. */
  headers: Record<string, string>;
  subject: string;
  text: string;
  html: string;
  /** The message as it came over the wire. */
  raw: string;
}

/** `=?UTF-8?B?…?=` and `=?UTF-8?Q?…?=` words of a header (RFC 2047), adjacent words joined. */
export const decodeHeader = (value: string): string =>
  value
    .replace(/(=\?[^?]+\?[bqBQ]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([bqBQ])\?([^?]*)\?=/g, (_, charset: string, encoding: string, encoded: string) => {
      const bytes = encoding.toUpperCase() === 'B' ? Buffer.from(encoded, 'base64') : qpBytes(encoded.replace(/_/g, ' '));
      return bytes.toString(charset.toLowerCase() === 'utf-8' || charset.toLowerCase() === 'utf8' ? 'utf8' : 'latin1');
    });

/** Quoted-printable to bytes (soft line breaks removed). */
const qpBytes = (text: string) => {
  const bytes: number[] = [];
  const input = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < input.length; i += 1) {
    if (input[i] === '=' && /^[0-9A-F]{2}$/i.test(input.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(input.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(input[i], 'utf8'));
  }
  return Buffer.from(bytes);
};

/** Splits header block and body; header names lower-cased, folded lines unfolded. */
const splitEntity = (raw: string) => {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at === -1 ? raw : raw.slice(0, at);
  const body = at === -1 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
};

const decodeBody = (body: string, headers: Record<string, string>) => {
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const charset = /charset="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1]?.toLowerCase() ?? 'utf-8';
  const bytes = encoding === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64') : encoding === 'quoted-printable' ? qpBytes(body) : Buffer.from(body, 'utf8');
  return bytes.toString(charset === 'utf-8' || charset === 'utf8' ? 'utf8' : 'latin1').replace(/\r\n/g, '\n');
};

/** The text/plain and text/html parts of a message (single part or nested multipart). */
const bodies = (raw: string): { text: string; html: string } => {
  const { headers, body } = splitEntity(raw);
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const parts = body.split(`--${boundary}`).slice(1);
    return parts
      .filter((part) => !part.startsWith('--'))
      // The line break before a boundary belongs to the boundary (RFC 2046).
      .map((part) => bodies(part.replace(/^\r?\n/, '').replace(/\r?\n$/, '')))
      .reduce((all, part) => ({ text: all.text || part.text, html: all.html || part.html }), { text: '', html: '' });
  }
  const decoded = decodeBody(body, headers);
  return /^text\/html/i.test(type) ? { text: '', html: decoded } : { text: decoded, html: '' };
};

/** Reads a raw RFC 5322 message: headers, decoded subject, text and HTML bodies. */
export const parseMail = (raw: string, envelope: ReceivedMail['envelope']): ReceivedMail => {
  const { headers } = splitEntity(raw);
  const decoded = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, decodeHeader(value)]));
  return { envelope, headers: decoded, subject: decoded.subject ?? '', ...bodies(raw), raw };
};

export interface TestSmtpServer {
  port: number;
  /** Every message received so far, in order. */
  messages: ReceivedMail[];
  /** The messages sent to an address (envelope recipient, compared without case). */
  to(address: string): ReceivedMail[];
  clear(): void;
  /** Stops listening: the next send finds nothing on the port (a mail server that is down). */
  stop(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1 and a free port (smtp-server, the server half of nodemailer's
 * project): no TLS, any or no login accepted, every message kept in memory for the test to read.
 */
export const startSmtpServer = async (): Promise<TestSmtpServer> => {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(_auth, _session, callback) {
      callback(null, { user: 'test' });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        messages.push(parseMail(Buffer.concat(chunks).toString('utf8'), { from, to: session.envelope.rcptTo.map((r) => r.address) }));
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  let stopped = false;
  return {
    port,
    messages,
    to: (address) => messages.filter((m) => m.envelope.to.some((to) => to.toLowerCase() === address.toLowerCase())),
    clear: () => {
      messages.length = 0;
    },
    stop: () =>
      stopped
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            stopped = true;
            server.close(() => resolve());
          }),
  };
};
