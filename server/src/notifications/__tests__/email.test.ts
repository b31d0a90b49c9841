import type { Job } from '../../contracts/backups';
import type { Alert } from '../../services/monitoring';
import { formatDuration, LOG_EXCERPT_LINES, redactSecrets, renderDigest, renderNotice, secretValues } from '../email';
import type { Notice } from '../types';

const KEY = 'correct-horse-battery-staple';
const clean = (text: string) => redactSecrets(text, [KEY]);

const failedBackup = (overrides: Partial<Notice> = {}): Notice => ({
  id: 'n-1',
  event: 'backup.failed',
  at: '2026-11-30T02:00:05.000Z',
  summary: 'The backup failed',
  job: {
    id: 'job-42',
    type: 'backup',
    trigger: 'scheduled',
    status: 'failed',
    startedAt: '2026-11-30T02:00:00.000Z',
    finishedAt: '2026-11-30T02:00:05.000Z',
    durationMs: 5300,
    backupId: null,
    error: { message: `could not connect to postgres://pacta:s3cr3t-pw@db:5432/pacta with key ${KEY}`, code: 'DB_UNREACHABLE' },
    log: Array.from({ length: 30 }, (_, i) => `line ${i + 1}${i === 29 ? ` token=abc123def <script>` : ''}`),
  },
  backup: null,
  adminUrl: 'https://cms.example.com/admin/plugins/pacta-backup/jobs/job-42',
  app: { name: 'PACTA', instance: 'web-1:123:abcdef' },
  ...overrides,
});

const job = (overrides: Partial<Job>): Job => ({
  id: 'j',
  type: 'backup',
  trigger: 'scheduled',
  status: 'succeeded',
  phase: 'done',
  progress: { done: 1, total: 1, bytes: 0 },
  backupId: null,
  instance: 'web-1',
  startedAt: '2026-11-29T02:00:00.000Z',
  finishedAt: '2026-11-29T02:01:00.000Z',
  durationMs: 60_000,
  measures: { bytes: null, rows: null, ratio: null },
  result: null,
  error: null,
  log: [],
  warnings: [],
  ...overrides,
});

describe('redactSecrets', () => {
  it('removes known secret values, as is and URL-encoded, longest first', () => {
    expect(redactSecrets(`key=${KEY}; again ${KEY}`, [KEY])).toBe('key=[redacted]; again [redacted]');
    expect(redactSecrets('url ?k=p%40ss%2Fword', ['p@ss/word'])).toBe('url ?k=[redacted]');
    expect(redactSecrets('abcdef and abc', ['abc', 'abcdef'])).toBe('[redacted] and abc');
  });

  it('removes what looks like a secret whatever its value', () => {
    expect(redactSecrets('connect postgres://pacta:s3cr3t@db:5432/app failed')).toBe('connect postgres://pacta:[redacted]@db:5432/app failed');
    expect(redactSecrets('mysql://root:pw@127.0.0.1/x and smtp://u:p@mail')).toBe('mysql://root:[redacted]@127.0.0.1/x and smtp://u:[redacted]@mail');
    expect(redactSecrets('sent Authorization: Bearer eyJhbGciOi.J9.x-y_z')).toBe('sent Authorization: [redacted]');
    expect(redactSecrets('header bearer abc.def')).toBe('header Bearer [redacted]');
    expect(redactSecrets('password=hunter2&user=ada')).toBe('password=[redacted]&user=ada');
    expect(redactSecrets('DATABASE_PASSWORD: "hunter 2", next')).toBe('DATABASE_PASSWORD: [redacted], next');
    expect(redactSecrets('{"access_token":"abc","client_secret":"def","apiKey":"ghi"}')).toBe(
      '{"access_token":[redacted],"client_secret":[redacted],"apiKey":[redacted]}'
    );
    expect(redactSecrets("token = 'xyz' api-key=k1")).toBe('token = [redacted] api-key=[redacted]');
  });

  it('leaves ordinary text alone', () => {
    const text = 'password authentication failed for user "pacta"; 3 API tokens restored; see https://cms.example.com/admin';
    expect(redactSecrets(text, ['abc'])).toBe(text);
  });
});

describe('secretValues', () => {
  const config = {
    encryptionKeyEnv: 'MY_KEY',
    notifications: {
      events: [],
      email: { enabled: true, recipients: [], when: 'failures' as const, digestSchedule: '0 8 * * *', language: 'en' as const },
      webhooks: { enabled: true, targets: [{ url: 'https://h.example.com', secretEnv: 'HOOK_SECRET' }, { url: 'https://i.example.com' }], retries: 3, backoffMs: 2000, timeoutMs: 10_000 },
    },
  };

  it("reads the passphrase, the webhook secrets and Strapi's secrets from the environment", () => {
    const env = { MY_KEY: 'passphrase-1', HOOK_SECRET: 'hook-secret-2', APP_KEYS: 'k1aaaa,k2bbbb', ADMIN_JWT_SECRET: 'jwt-3', PATH: '/usr/bin', PACTA_BACKUP_KEY: 'not-configured' };
    expect(secretValues(config, env).sort()).toEqual(['hook-secret-2', 'jwt-3', 'k1aaaa', 'k1aaaa,k2bbbb', 'k2bbbb', 'passphrase-1'].sort());
    expect(secretValues(config, {})).toEqual([]);
  });
});

describe('renderNotice', () => {
  it('writes a failure in English with the details, the last log lines, the link, and no secret', () => {
    const mail = renderNotice(failedBackup(), { language: 'en', timeZone: 'Europe/Madrid', redact: clean });
    expect(mail.subject).toBe('[PACTA] Backup failed');
    expect(mail.text).toContain('A backup of PACTA failed: could not connect to postgres://pacta:[redacted]@db:5432/pacta with key [redacted]');
    expect(mail.text).toContain('Job: Backup job-42');
    expect(mail.text).toContain('Status: Failed');
    expect(mail.text).toContain('Started by: The schedule');
    expect(mail.text).toContain('Duration: 5.3 s');
    expect(mail.text).toContain('Started: 30 Nov 2026, 03:00:00 CET');
    expect(mail.text).toContain('(DB_UNREACHABLE)');
    expect(mail.text).toContain(`Log (last ${LOG_EXCERPT_LINES} lines):`);
    expect(mail.text).toContain('  line 11\n');
    expect(mail.text).not.toContain('  line 10\n');
    expect(mail.text).toContain('line 30 token=[redacted] <script>');
    expect(mail.text).toContain('Open it in the admin panel: https://cms.example.com/admin/plugins/pacta-backup/jobs/job-42');
    expect(mail.text).toContain('Sent by PACTA Backup on PACTA (web-1:123:abcdef).');
    for (const body of [mail.subject, mail.text, mail.html]) {
      expect(body).not.toContain(KEY);
      expect(body).not.toContain('s3cr3t-pw');
      expect(body).not.toContain('abc123def');
    }
    // The HTML escapes what came from the job.
    expect(mail.html).toContain('line 30 token=[redacted] &lt;script&gt;');
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('<a href="https://cms.example.com/admin/plugins/pacta-backup/jobs/job-42">Open it in the admin panel</a>');
    expect(mail.html).toMatch(/^<!DOCTYPE html><html lang="en">/);
  });

  it('writes the same notice in Spanish', () => {
    const mail = renderNotice(failedBackup(), { language: 'es', timeZone: 'Europe/Madrid', redact: clean });
    expect(mail.subject).toBe('[PACTA] La copia de seguridad ha fallado');
    expect(mail.text).toContain('Una copia de seguridad de PACTA ha fallado: could not connect');
    expect(mail.text).toContain('Tarea: Copia job-42');
    expect(mail.text).toContain('Estado: Fallida');
    expect(mail.text).toContain('Iniciada por: La programación');
    expect(mail.text).toContain('Registro (últimas 20 líneas):');
    expect(mail.text).toContain('Ábrela en el panel de administración: https://');
    expect(mail.html).toContain('<html lang="es">');
    expect(mail.html).toContain('Ábrela en el panel de administración');
  });

  it('marks a test, names the backup, and links only to a web address', () => {
    const notice = failedBackup({
      event: 'backup.succeeded',
      test: true,
      backup: { id: '20261130-020000-ab12', name: 'nightly' },
      adminUrl: 'javascript:alert(1)',
      job: { ...failedBackup().job!, status: 'succeeded', error: null, backupId: '20261130-020000-ab12', log: [] },
    });
    const en = renderNotice(notice, { language: 'en', timeZone: 'UTC', redact: clean });
    expect(en.subject).toBe('[Test] [PACTA] Backup completed: nightly');
    expect(en.text.startsWith('[Test] This is a test sent from Settings')).toBe(true);
    expect(en.text).toContain('Backup: nightly (20261130-020000-ab12)');
    expect(en.text).not.toContain('Log (');
    expect(en.text).not.toContain('javascript:');
    expect(en.html).not.toContain('javascript:');
    const es = renderNotice(notice, { language: 'es', timeZone: 'UTC', redact: clean });
    expect(es.subject).toBe('[Prueba] [PACTA] Copia de seguridad completada: nightly');
  });

  it('writes an alert with its translated title and its message', () => {
    const notice: Notice = {
      id: 'n-2',
      event: 'alert.raised',
      at: '2026-11-30T02:00:05.000Z',
      summary: 'Low free space',
      alert: { type: 'low-space', severity: 'warning', message: 'Low free space for backups in /srv/backups: 10 bytes free of 1000', at: '2026-11-30T02:00:05.000Z' },
      adminUrl: null,
      app: { name: 'PACTA', instance: 'web-1' },
    };
    const es = renderNotice(notice, { language: 'es', timeZone: 'UTC', redact: clean });
    expect(es.subject).toBe('[PACTA] Alerta: Poco espacio');
    expect(es.text).toContain('Se ha activado una alerta en PACTA: Poco espacio.');
    expect(es.text).toContain('Alerta: Poco espacio (aviso): Low free space for backups in /srv/backups');
    const en = renderNotice({ ...notice, event: 'alert.cleared' }, { language: 'en', timeZone: 'UTC', redact: clean });
    expect(en.subject).toBe('[PACTA] Alert cleared: Low space');
  });

  it('keeps the subject on one line', () => {
    const notice = failedBackup({ event: 'drill.failed', backup: { id: 'b1', name: 'evil\r\nBcc: someone@example.com' } });
    expect(renderNotice(notice, { language: 'en', timeZone: 'UTC', redact: clean }).subject).toBe('[PACTA] Restore drill failed: evil Bcc: someone@example.com');
  });
});

describe('renderDigest', () => {
  const period = { since: new Date('2026-11-29T07:00:00.000Z'), until: new Date('2026-11-30T07:00:00.000Z') };
  const options = { timeZone: 'Europe/Madrid', redact: clean, app: { name: 'PACTA', instance: 'web-1' }, monitoringUrl: 'https://cms.example.com/admin/plugins/pacta-backup/monitoring' };

  it('says so when nothing happened', () => {
    const en = renderDigest({ ...period, jobs: [], alerts: [] }, { ...options, language: 'en' });
    expect(en.subject).toBe('[PACTA] Backup report for 30 November 2026');
    expect(en.text).toContain('Nothing happened: no backup, restore or drill ran in this period.');
    expect(en.text).toContain('Active alerts:\nNo active alert.');
    expect(en.text).toContain('Open the Monitoring page: https://cms.example.com/admin/plugins/pacta-backup/monitoring');
    const es = renderDigest({ ...period, jobs: [], alerts: [] }, { ...options, language: 'es', monitoringUrl: null });
    expect(es.subject).toBe('[PACTA] Informe de copias del 30 de noviembre de 2026');
    expect(es.text).toContain('Sin novedades: en este periodo no se ha ejecutado ninguna copia, restauración ni simulacro.');
    expect(es.text).toContain('Ninguna alerta activa.');
    expect(es.text).not.toContain('Monitorización');
  });

  it('counts the jobs per type and status, lists the failures with their errors and the active alerts', () => {
    const jobs = [
      job({ id: 'b1' }),
      job({ id: 'b3', status: 'failed', error: { message: `disk full; key ${KEY}`, code: 'WRITE_FAILED' } }),
      job({ id: 'd1', type: 'drill', status: 'interrupted', error: { message: 'process stopped', code: 'INTERRUPTED' } }),
      job({ id: 'r1', type: 'restore', status: 'warning' }),
      job({ id: 'b2' }),
    ];
    const alerts: Alert[] = [{ type: 'failed-job', severity: 'error', message: 'The last backup failed: disk full', at: '2026-11-30T02:00:00.000Z', jobId: 'b3' }];
    const en = renderDigest({ ...period, jobs, alerts }, { ...options, language: 'en' });
    expect(en.subject).toBe('[PACTA] Backup report for 30 November 2026: 2 failed');
    expect(en.text).toContain('Jobs:\n- Backup: Succeeded 2 · Failed 1\n- Restore: Completed with warnings 1\n- Restore drill: Interrupted (process stopped) 1');
    expect(en.text).toContain('- Backup b3, 29 Nov 2026, 03:01:00 CET — Failed: disk full; key [redacted] (WRITE_FAILED)');
    expect(en.text).toContain('- Restore drill d1');
    expect(en.text).toContain('- Failed job (error): The last backup failed: disk full');
    expect(en.text).not.toContain('Nothing happened');
    expect(en.html).not.toContain(KEY);
    const es = renderDigest({ ...period, jobs, alerts }, { ...options, language: 'es' });
    expect(es.subject).toBe('[PACTA] Informe de copias del 30 de noviembre de 2026: 2 con fallos');
    expect(es.text).toContain('- Copia: Correcta 2 · Fallida 1');
    expect(es.text).toContain('Fallos:\n- Copia b3');
    expect(es.text).toContain('- Tarea fallida (error): The last backup failed: disk full');
  });
});

describe('formatDuration', () => {
  it('reads as a person would say it', () => {
    expect([850, 5300, 184_000, 3_720_000].map(formatDuration)).toEqual(['850 ms', '5.3 s', '3 min 4 s', '1 h 2 min']);
  });
});
