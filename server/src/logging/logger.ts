import path from 'node:path';

import winston from 'winston';
import DailyRotateFile from 'winston-daily-rotate-file';

export type Level = 'error' | 'warn' | 'info' | 'debug';

/** Structured fields of a log line: job id, type, phase, durations, sizes. Never secrets. */
export type Fields = Record<string, unknown>;

export interface PluginLogger {
  log(level: Level, message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  debug(message: string, fields?: Fields): void;
  /** The folder of the rotated files. */
  folder: string;
  close(): Promise<void>;
}

export interface LoggerOptions {
  folder: string;
  level: Level;
  maxDays: number;
  /** Strapi's logger: every line is also written there. */
  forward?: Pick<winston.Logger, Level>;
  /** Values that must never appear in a line (the passphrase); replaced by [redacted]. */
  secrets?: () => Array<string | null | undefined>;
}

const REDACTED = '[redacted]';

/** Replaces every secret in a string; secrets shorter than 4 characters are not searched. */
export const redact = (text: string, secrets: Array<string | null | undefined>) => {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 4) out = out.split(secret).join(REDACTED);
  return out;
};

const redactFields = (fields: Fields, secrets: Array<string | null | undefined>): Fields =>
  JSON.parse(redact(JSON.stringify(fields), secrets)) as Fields;

/**
 * The plugin's own log: JSON lines in `<folder>/pacta-backup-YYYY-MM-DD.log`, rotated daily by
 * winston-daily-rotate-file and kept `maxDays` days, each line also forwarded to Strapi's log.
 * Lines are redacted before they reach any transport.
 */
export const createPluginLogger = ({ folder, level, maxDays, forward, secrets = () => [] }: LoggerOptions): PluginLogger => {
  const rotating = new DailyRotateFile({
    dirname: folder,
    filename: 'pacta-backup-%DATE%.log',
    datePattern: 'YYYY-MM-DD',
    maxFiles: `${maxDays}d`,
    utc: true,
  });
  const file = winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [rotating],
  });

  const log = (lineLevel: Level, message: string, fields: Fields = {}) => {
    const current = secrets();
    const safeMessage = redact(message, current);
    const safeFields = redactFields(fields, current);
    file.log(lineLevel, safeMessage, safeFields);
    if (forward) {
      const context = ['jobId', 'type', 'phase'].filter((k) => safeFields[k] !== undefined).map((k) => `${k}=${String(safeFields[k])}`);
      forward[lineLevel](`[pacta-backup] ${safeMessage}${context.length ? ` (${context.join(' ')})` : ''}`);
    }
  };

  return {
    folder: path.resolve(folder),
    log,
    error: (message, fields) => log('error', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    info: (message, fields) => log('info', message, fields),
    debug: (message, fields) => log('debug', message, fields),
    close: () =>
      new Promise<void>((resolve) => {
        file.on('finish', () => resolve());
        file.end();
        setTimeout(resolve, 1000).unref();
      }),
  };
};
