import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import type { Backup, Job } from '../../server/src/contracts/backups';
import { createEmailChannel } from '../../server/src/notifications/email';
import type { Notice, NotificationEvent } from '../../server/src/notifications/types';
import { loginAsSuperAdmin, superAdminCredentials, type Agent } from '../helpers/agent';
import { databaseClient, describeOn, startApp, type TestApp } from '../helpers/app';
import { runJob } from '../helpers/jobs';
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp';
import { until } from '../helpers/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed } = require('../app/scripts/seed/index');

const KEY = 'email-test-passphrase-7d2a91';
const OPS = 'ops@pacta.test';
const LUCIA = 'lucia@pacta.test';

/**
 * E-mail notifications through Strapi's e-mail plugin with the nodemailer provider, to a real
 * SMTP server on loopback: the message arrives with the right subject and body, in the
 * recipient's language, with the job's log and a link, and with no secret in it.
 */
/**
 * Nothing here depends on the database (the job log on each engine is covered by
 * notifications.test.api.ts, alerts across instances by notifications-alerts.test.api.ts): it
 * runs on SQLite only, to keep CI's three database runs short.
 */
describeOn('sqlite')(`e-mail notifications on ${databaseClient}`, () => {
  let app: TestApp;
  let admin: Agent;
  let smtp: TestSmtpServer;
  /** A media file the backups need; moved aside, a backup fails (media.missing is "fail"). */
  let media: { file: string; aside: string };

  const channel = () => createEmailChannel(app.strapi);
  const appName = () => String(app.strapi.config.get('info.name'));
  const adminUrl = () => `http://127.0.0.1:${(app.strapi.server.httpServer.address() as { port: number }).port}/admin/plugins/pacta-backup/monitoring`;

  /** The notice of a job that ended, with the backup's name read through the API. */
  const noticeOf = async (job: Job, event: NotificationEvent, extra: Partial<Notice> = {}): Promise<Notice> => {
    const backup = job.backupId ? ((await admin.get(`/pacta-backup/backups/${job.backupId}`)).body.data as Backup) : null;
    return {
      id: randomUUID(),
      event,
      at: job.finishedAt ?? new Date().toISOString(),
      summary: job.error ? `The ${job.type} failed: ${job.error.message}` : `The ${job.type} ${job.status}`,
      job: {
        id: job.id,
        type: job.type,
        trigger: job.trigger,
        status: job.status,
        startedAt: job.startedAt,
        finishedAt: job.finishedAt,
        durationMs: job.durationMs,
        backupId: job.backupId,
        error: job.error,
        log: job.log.slice(-20),
      },
      backup: backup ? { id: backup.id, name: backup.name } : null,
      adminUrl: adminUrl(),
      app: { name: appName(), instance: job.instance },
      ...extra,
    };
  };

  /** The channel itself, given a job's notice (the dispatch tests, below, let the job's end send it). */
  const deliver = async (notice: Notice, recipients: string[]) => channel().send(notice, recipients);

  const mailTo = (address: string, count = 1) =>
    until(`${count} e-mail(s) to ${address}`, () => (smtp.to(address).length >= count ? smtp.to(address) : false), { timeoutMs: 20_000 });

  /** Everything a reader of the message could see: headers, raw MIME, decoded text and HTML. */
  const everything = (mail: ReceivedMail) => [mail.raw, mail.subject, mail.text, mail.html, JSON.stringify(mail.headers)].join('\n');

  const settings = async (email: Record<string, unknown>) => {
    const res = await admin.put('/pacta-backup/settings', { notifications: { email } });
    if (res.status !== 200) throw new Error(`PUT /pacta-backup/settings answered ${res.status}: ${res.text}`);
  };

  const failBackup = async () => {
    fs.renameSync(media.file, media.aside);
    try {
      return await runJob(admin, '/pacta-backup/backups', {});
    } finally {
      fs.renameSync(media.aside, media.file);
    }
  };

  beforeAll(async () => {
    smtp = await startSmtpServer();
    app = await startApp({ env: { PACTA_TEST_SMTP_PORT: String(smtp.port), PACTA_BACKUP_KEY: KEY, PACTA_BACKUP_MEDIA_MISSING: 'fail', PACTA_BACKUP_TIMEZONE: 'UTC' } });
    await seed(app.strapi, { documents: 4, media: 2, seed: 41 });
    admin = await loginAsSuperAdmin(app.strapi);
    const [row] = (await app.strapi.db.connection('files').select('url').orderBy('id').limit(1)) as Array<{ url: string }>;
    const file = path.join(app.publicDir, row.url.replace(/^\//, ''));
    media = { file, aside: `${file}.aside` };
    // An admin who chose Spanish as the interface language (Profile → Interface language).
    const editor = await app.strapi.service('admin::role').create({ name: 'Editors', description: 'Content editors (e-mail test)' });
    const lucia = await app.strapi.service('admin::user').create({
      email: LUCIA,
      firstname: 'Lucía',
      lastname: 'Ortega',
      password: 'Lucia-Pass-2026',
      isActive: true,
      registrationToken: null,
      roles: [editor.id],
    });
    await app.strapi.db.query('admin::user').update({ where: { id: lucia.id }, data: { preferedLanguage: 'es' } });
    // The channel does not look at `enabled` (the dispatch does): off, so that once the dispatch
    // is merged it sends nothing on its own while the channel's tests count messages.
    await settings({ enabled: false, recipients: [OPS], when: 'failures', language: 'en' });
  });

  afterAll(async () => {
    await app?.stop();
    await smtp?.stop();
    delete process.env.PACTA_TEST_SMTP_PORT;
  });

  beforeEach(() => smtp.clear());

  it("is available: Strapi's e-mail plugin has the nodemailer provider", () => {
    expect(app.strapi.config.get('plugin::email.provider')).toBe('nodemailer');
    expect(channel().available()).toBe(true);
  });

  it('a failed backup sends one e-mail with what happened, the log excerpt and the link, and no secret', async () => {
    const job = await failBackup();
    expect(job).toMatchObject({ status: 'failed', error: { code: 'MEDIA_MISSING' } });
    expect(job.log.length).toBeGreaterThan(0);

    const deliveries = await deliver(await noticeOf(job, 'backup.failed'), [OPS]);
    expect(deliveries).toEqual([{ channel: 'email', target: OPS, ok: true, attempts: 1, at: expect.any(String) }]);

    const [mail] = await mailTo(OPS);
    expect(smtp.messages).toHaveLength(1);
    expect(mail.envelope).toEqual({ from: 'backups@pacta.test', to: [OPS] });
    expect(mail.headers.from).toBe('PACTA Backup <backups@pacta.test>');
    expect(mail.subject).toBe(`[${appName()}] Backup failed`);
    expect(job.error!.message).toMatch(/media files? named in the database (is|are) missing on disk/);
    expect(mail.text).toContain(`A backup of ${appName()} failed: ${job.error!.message}`);
    expect(mail.text).toContain(`Job: Backup ${job.id}`);
    expect(mail.text).toContain('Started by: An admin');
    expect(mail.text).toContain('(MEDIA_MISSING)');
    const excerpt = job.log.slice(-20);
    expect(mail.text).toContain(`Log (last ${excerpt.length} lines):`);
    expect(mail.text).toContain(`  ${excerpt[excerpt.length - 1]}`);
    expect(mail.text).toContain(`Open it in the admin panel: ${adminUrl()}`);
    expect(mail.html).toContain(`<a href="${adminUrl()}">Open it in the admin panel</a>`);
    expect(mail.html).toContain('<pre');
    expect(everything(mail)).not.toContain(KEY);
  });

  it('takes out a secret that reached a log line or an error before the e-mail leaves', async () => {
    const job = await failBackup();
    const notice = await noticeOf(job, 'backup.failed');
    // What a misbehaving driver or provider could put in a job's log and error.
    notice.job!.log.push(`retrying with postgres://pacta:db-pass-91@db.internal:5432/pacta and key ${KEY}`, 'upstream said: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig');
    notice.job!.error = { message: `could not open the archive with password=${KEY}`, code: 'TEST' };

    expect(await deliver(notice, [OPS])).toEqual([expect.objectContaining({ ok: true })]);
    const [mail] = await mailTo(OPS);
    const seen = everything(mail);
    for (const secret of [KEY, 'db-pass-91', 'eyJhbGciOiJIUzI1NiJ9']) expect(seen).not.toContain(secret);
    expect(mail.text).toContain('retrying with postgres://pacta:[redacted]@db.internal:5432/pacta and key [redacted]');
    expect(mail.text).toContain('Authorization: [redacted]');
    expect(mail.text).toContain('could not open the archive with password=[redacted]');
  });

  it("writes to an admin in the language of their interface, to anyone else in the configured language", async () => {
    const job = await failBackup();
    const notice = await noticeOf(job, 'backup.failed');
    const outsider = 'auditor@example.com';

    // Configured language English: Lucía (interface in Spanish) gets Spanish; the super admin
    // (no language chosen) and an address that is no admin get English.
    await settings({ language: 'en' });
    const deliveries = await deliver(notice, [LUCIA, superAdminCredentials.email, outsider]);
    expect(deliveries.map((d) => [d.target, d.ok])).toEqual([
      [LUCIA, true],
      [superAdminCredentials.email, true],
      [outsider, true],
    ]);
    const [lucia] = await mailTo(LUCIA);
    expect(lucia.subject).toBe(`[${appName()}] La copia de seguridad ha fallado`);
    expect(lucia.text).toContain(`Una copia de seguridad de ${appName()} ha fallado: ${job.error!.message}`);
    expect(lucia.text).toContain('Estado: Fallida');
    expect(lucia.text).toContain('Iniciada por: Un administrador');
    expect(lucia.text).toContain('Ábrela en el panel de administración');
    expect(lucia.html).toContain('<html lang="es">');
    expect((await mailTo(superAdminCredentials.email))[0].subject).toBe(`[${appName()}] Backup failed`);
    expect((await mailTo(outsider))[0].subject).toBe(`[${appName()}] Backup failed`);
    // One message per recipient: no one sees the others' addresses.
    expect(smtp.messages.map((m) => m.envelope.to)).toEqual(expect.arrayContaining([[LUCIA], [superAdminCredentials.email], [outsider]]));
    expect(smtp.messages).toHaveLength(3);

    // Configured language Spanish: the outsider and the super admin get Spanish too; a test is marked.
    await settings({ language: 'es' });
    smtp.clear();
    await deliver({ ...notice, test: true }, [superAdminCredentials.email, outsider]);
    for (const address of [superAdminCredentials.email, outsider]) {
      const [mail] = await mailTo(address);
      expect(mail.subject).toBe(`[Prueba] [${appName()}] La copia de seguridad ha fallado`);
      expect(mail.text).toMatch(/^\[Prueba\] Este es un mensaje de prueba enviado desde Ajustes/);
    }
    await settings({ language: 'en' });
  });

  it('tells a Spanish reader of a restore, with the accented subject decoded as sent', async () => {
    const backup = await runJob(admin, '/pacta-backup/backups', { name: 'antes-de-restaurar' });
    expect(backup.status).toBe('succeeded');
    const restore = await runJob(admin, `/pacta-backup/backups/${backup.backupId}/restore`, { confirm: true });
    expect(restore).toMatchObject({ type: 'restore', status: 'succeeded', backupId: backup.backupId });
    // Her address as someone typed it in the settings: still her language, and one message.
    const typed = 'Lucia@Pacta.test';
    expect(await deliver(await noticeOf(restore, 'restore.succeeded'), [typed, LUCIA])).toEqual([expect.objectContaining({ target: typed, ok: true })]);
    const [mail] = await mailTo(typed);
    expect(smtp.messages.map((m) => m.envelope.to)).toEqual([[expect.stringMatching(/^lucia@pacta\.test$/i)]]);
    // Non-ASCII subjects travel RFC 2047-encoded; the helper decodes them as a mail client does.
    expect(mail.raw).toMatch(/^Subject: =\?UTF-8\?[BQ]\?/m);
    expect(mail.subject).toBe(`[${appName()}] Restauración completada desde antes-de-restaurar`);
    expect(mail.text).toContain(`${appName()} se ha restaurado desde la copia antes-de-restaurar.`);
    expect(mail.text).toContain(`Copia: antes-de-restaurar (${backup.backupId})`);
    expect(mail.text).toContain(`Tarea: Restauración ${restore.id}`);
    expect(mail.text).toContain('Estado: Correcta');
  });

  it("sends the digest of a period's real jobs and the active alerts", async () => {
    const since = new Date(Date.now() - 24 * 3600 * 1000);
    const good = await runJob(admin, '/pacta-backup/backups', { name: 'digest-ok' });
    expect(good.status).toBe('succeeded');
    const failed = await failBackup();
    const jobs = ((await admin.get('/pacta-backup/jobs')).body.data as Job[]).filter((j) => Date.parse(j.startedAt) >= since.getTime());
    const alerts = (await admin.get('/pacta-backup/alerts')).body.data;
    expect(alerts).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'failed-job', jobId: failed.id })]));
    const failures = jobs.filter((j) => j.status === 'failed').length;

    const deliveries = await channel().sendDigest({ since, until: new Date(), jobs, alerts }, [OPS, LUCIA]);
    expect(deliveries.every((d) => d.ok)).toBe(true);
    const [en] = await mailTo(OPS);
    expect(en.subject).toMatch(new RegExp(`^\\[${appName()}\\] Backup report for .+: ${failures} failed$`));
    expect(en.text).toContain(`- Backup: Succeeded ${jobs.filter((j) => j.type === 'backup' && j.status === 'succeeded').length} · Failed ${failures}`);
    expect(en.text).toContain(`- Backup ${failed.id}, `);
    expect(en.text).toContain(`Active alerts:\n- Failed job (error): The last backup failed: ${failed.error!.message}`);
    const [es] = await mailTo(LUCIA);
    expect(es.subject).toMatch(new RegExp(`^\\[${appName()}\\] Informe de copias del .+: ${failures} con fallos$`));
    expect(es.text).toContain('Alertas activas:\n- Tarea fallida (error)');
    for (const mail of [en, es]) expect(everything(mail)).not.toContain(KEY);

    // A day without jobs says so.
    smtp.clear();
    await channel().sendDigest({ since: new Date(Date.now() + 1000), until: new Date(Date.now() + 2000), jobs: [], alerts: [] }, [LUCIA]);
    expect((await mailTo(LUCIA))[0].text).toContain('Sin novedades: en este periodo no se ha ejecutado ninguna copia, restauración ni simulacro.');
  });

  /** The first e-mail to OPS whose subject is `subject` (alerts raised or cleared may come too). */
  const mailWithSubject = (subject: string) =>
    until(`an e-mail to ${OPS} with the subject "${subject}"`, () => smtp.to(OPS).find((m) => m.subject === subject), { timeoutMs: 20_000 });

  it("when 'always' a successful backup sends; when 'failures' it sends nothing", async () => {
    await settings({ enabled: true, when: 'always' });
    try {
      const sent = await runJob(admin, '/pacta-backup/backups', { name: 'always-sent' });
      expect(sent.status).toBe('succeeded');
      const mail = await mailWithSubject(`[${appName()}] Backup completed: always-sent`);
      expect(mail.text).toContain(`Job: Backup ${sent.id}`);

      await settings({ when: 'failures' });
      smtp.clear();
      const quiet = await runJob(admin, '/pacta-backup/backups', { name: 'not-sent' });
      expect(quiet.status).toBe('succeeded');
      // One job at a time, notices in order: once the next failure's e-mail is here, the success sent nothing.
      const failed = await failBackup();
      expect((await mailWithSubject(`[${appName()}] Backup failed`)).text).toContain(`Job: Backup ${failed.id}`);
      expect(smtp.to(OPS).filter((m) => m.subject.includes('Backup completed'))).toEqual([]);
    } finally {
      await settings({ enabled: false, when: 'failures' });
    }
  });

  it('with the mail server down, each recipient gets a failed Delivery with the reason, and nothing throws', async () => {
    const job = await runJob(admin, '/pacta-backup/backups', { name: 'smtp-down' });
    await smtp.stop();
    const deliveries = await deliver(await noticeOf(job, 'backup.succeeded'), [OPS, LUCIA]);
    expect(deliveries).toEqual([
      { channel: 'email', target: OPS, ok: false, attempts: 1, error: expect.stringMatching(/ECONNREFUSED|connect/i), at: expect.any(String) },
      { channel: 'email', target: LUCIA, ok: false, attempts: 1, error: expect.stringMatching(/ECONNREFUSED|connect/i), at: expect.any(String) },
    ]);
    const digest = await channel().sendDigest({ since: new Date(0), until: new Date(), jobs: [job], alerts: [] }, [OPS]);
    expect(digest).toEqual([expect.objectContaining({ ok: false, error: expect.stringMatching(/ECONNREFUSED|connect/i) })]);
  });

  it("with the mail server down a backup still succeeds", async () => {
    await settings({ enabled: true, when: 'always' });
    const job = await runJob(admin, '/pacta-backup/backups', { name: 'smtp-still-down' });
    expect(job).toMatchObject({ status: 'succeeded', error: null });
    expect((await admin.get(`/pacta-backup/backups/${job.backupId}`)).status).toBe(200);
  });
});
