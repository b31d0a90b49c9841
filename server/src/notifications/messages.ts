/**
 * The texts of the plugin's e-mails, in every language a notice is sent in (English and
 * Spanish). Placeholders are `{name}`; `fill` replaces them and refuses a template that names a
 * value it was not given, so no e-mail goes out with a `{backup}` in it.
 */
import type { JobStatus, JobTrigger, JobType } from '../contracts/backups';
import type { ALERT_TYPES } from '../services/monitoring';
import { NOTIFICATION_LANGUAGES, type NotificationEvent, type NotificationLanguage } from './types';

type AlertType = (typeof ALERT_TYPES)[number];

export interface EventText {
  /** Placeholders: {app}, {backup}, {alert}. */
  subject: string;
  /** The first paragraph. Placeholders: {app}, {backup}, {alert}, {error}. */
  lead: string;
}

export interface Catalogue {
  /** BCP 47 locale of dates and numbers. */
  locale: string;
  events: Record<NotificationEvent, EventText>;
  /** Put before the subject of a notice sent by "Send a test". */
  testMarker: string;
  testLead: string;
  labels: {
    event: string;
    job: string;
    status: string;
    trigger: string;
    backup: string;
    started: string;
    duration: string;
    error: string;
    alert: string;
    /** Placeholder: {count}. */
    log: string;
    open: string;
    /** The signature. Placeholders: {app}, {instance}. */
    footer: string;
  };
  jobTypes: Record<JobType, string>;
  statuses: Record<JobStatus, string>;
  triggers: Record<JobTrigger, string>;
  alerts: Record<AlertType, string>;
  severities: Record<'warning' | 'error', string>;
  digest: {
    /** Placeholders: {app}, {date}. */
    subject: string;
    /** Placeholders: {app}, {date}, {count}. */
    subjectFailures: string;
    /** Placeholders: {app}, {since}, {until}. */
    lead: string;
    nothing: string;
    jobs: string;
    /** Placeholders: {type}, {counts}. */
    countLine: string;
    failures: string;
    activeAlerts: string;
    noAlerts: string;
    open: string;
  };
}

export const MESSAGES: Record<NotificationLanguage, Catalogue> = {
  en: {
    locale: 'en-GB',
    events: {
      'backup.succeeded': { subject: '[{app}] Backup completed: {backup}', lead: 'The backup {backup} of {app} completed.' },
      'backup.failed': { subject: '[{app}] Backup failed', lead: 'A backup of {app} failed: {error}' },
      'backup.warning': {
        subject: '[{app}] Backup completed with warnings: {backup}',
        lead: 'The backup {backup} of {app} was written with warnings: some of what it should hold could not be read (see the log below).',
      },
      'restore.succeeded': { subject: '[{app}] Restore completed from {backup}', lead: '{app} was restored from the backup {backup}.' },
      'restore.failed': { subject: '[{app}] Restore failed', lead: 'The restore of {app} from the backup {backup} failed: {error}' },
      'import.applied': { subject: '[{app}] Import applied from {backup}', lead: 'Content from {backup} was imported into {app}.' },
      'drill.failed': {
        subject: '[{app}] Restore drill failed: {backup}',
        lead: 'The restore drill of the backup {backup} failed: {error}. That backup may not restore.',
      },
      'alert.raised': { subject: '[{app}] Alert: {alert}', lead: 'An alert was raised on {app}: {alert}.' },
      'alert.cleared': { subject: '[{app}] Alert cleared: {alert}', lead: 'This alert of {app} has cleared: {alert}.' },
    },
    testMarker: '[Test]',
    testLead: 'This is a test sent from Settings → Backups → Notifications: nothing happened to your backups.',
    labels: {
      event: 'Event',
      job: 'Job',
      status: 'Status',
      trigger: 'Started by',
      backup: 'Backup',
      started: 'Started',
      duration: 'Duration',
      error: 'Error',
      alert: 'Alert',
      log: 'Log (last {count} lines)',
      open: 'Open it in the admin panel',
      footer: 'Sent by PACTA Backup on {app} ({instance}).',
    },
    jobTypes: { backup: 'Backup', verify: 'Verify', restore: 'Restore', drill: 'Restore drill', 'import-preview': 'Import preview', import: 'Import', fetch: 'Fetch from off-site', check: 'Off-site repository check' },
    statuses: {
      queued: 'Queued',
      running: 'Running',
      succeeded: 'Succeeded',
      warning: 'Completed with warnings',
      failed: 'Failed',
      interrupted: 'Interrupted (process stopped)',
      skipped: 'Skipped (another instance)',
    },
    triggers: { manual: 'An admin', scheduled: 'The schedule', cli: 'The CLI' },
    alerts: {
      'failed-job': 'Failed job',
      'interrupted-job': 'Interrupted job',
      'backup-warnings': 'Backup with warnings',
      stale: 'No recent backup',
      'low-space': 'Low space',
      'failed-drill': 'Failed drill',
      'offsite-failed': 'Off-site copy failed',
      'offsite-damaged': 'Off-site copies damaged',
      'storage-unavailable': 'Storage unavailable',
    },
    severities: { warning: 'warning', error: 'error' },
    digest: {
      subject: '[{app}] Backup report for {date}',
      subjectFailures: '[{app}] Backup report for {date}: {count} failed',
      lead: 'What happened on {app} from {since} to {until}.',
      nothing: 'Nothing happened: no backup, restore or drill ran in this period.',
      jobs: 'Jobs',
      countLine: '{type}: {counts}',
      failures: 'Failures',
      activeAlerts: 'Active alerts',
      noAlerts: 'No active alert.',
      open: 'Open the Monitoring page',
    },
  },
  es: {
    locale: 'es-ES',
    events: {
      'backup.succeeded': { subject: '[{app}] Copia de seguridad completada: {backup}', lead: 'La copia de seguridad {backup} de {app} se ha completado.' },
      'backup.failed': { subject: '[{app}] La copia de seguridad ha fallado', lead: 'Una copia de seguridad de {app} ha fallado: {error}' },
      'backup.warning': {
        subject: '[{app}] Copia de seguridad completada con avisos: {backup}',
        lead: 'La copia de seguridad {backup} de {app} se ha escrito con avisos: no se ha podido leer parte de lo que debía contener (consulta el registro más abajo).',
      },
      'restore.succeeded': { subject: '[{app}] Restauración completada desde {backup}', lead: '{app} se ha restaurado desde la copia {backup}.' },
      'restore.failed': { subject: '[{app}] La restauración ha fallado', lead: 'La restauración de {app} desde la copia {backup} ha fallado: {error}' },
      'import.applied': { subject: '[{app}] Importación aplicada desde {backup}', lead: 'El contenido de {backup} se ha importado en {app}.' },
      'drill.failed': {
        subject: '[{app}] El simulacro de restauración ha fallado: {backup}',
        lead: 'El simulacro de restauración de la copia {backup} ha fallado: {error}. Es posible que esa copia no se pueda restaurar.',
      },
      'alert.raised': { subject: '[{app}] Alerta: {alert}', lead: 'Se ha activado una alerta en {app}: {alert}.' },
      'alert.cleared': { subject: '[{app}] Alerta resuelta: {alert}', lead: 'Se ha resuelto esta alerta de {app}: {alert}.' },
    },
    testMarker: '[Prueba]',
    testLead: 'Este es un mensaje de prueba enviado desde Ajustes → Copias de seguridad → Notificaciones: a tus copias no les ha pasado nada.',
    labels: {
      event: 'Evento',
      job: 'Tarea',
      status: 'Estado',
      trigger: 'Iniciada por',
      backup: 'Copia',
      started: 'Inicio',
      duration: 'Duración',
      error: 'Error',
      alert: 'Alerta',
      log: 'Registro (últimas {count} líneas)',
      open: 'Ábrela en el panel de administración',
      footer: 'Enviado por PACTA Backup desde {app} ({instance}).',
    },
    jobTypes: {
      backup: 'Copia',
      verify: 'Verificación',
      restore: 'Restauración',
      drill: 'Simulacro de restauración',
      'import-preview': 'Vista previa de importación',
      import: 'Importación',
      fetch: 'Recuperación de la copia externa',
      check: 'Comprobación del repositorio externo',
    },
    statuses: {
      queued: 'En cola',
      running: 'En curso',
      succeeded: 'Correcta',
      warning: 'Completada con avisos',
      failed: 'Fallida',
      interrupted: 'Interrumpida (el proceso se detuvo)',
      skipped: 'Omitida (otra instancia)',
    },
    triggers: { manual: 'Un administrador', scheduled: 'La programación', cli: 'La línea de comandos' },
    alerts: {
      'failed-job': 'Tarea fallida',
      'interrupted-job': 'Tarea interrumpida',
      'backup-warnings': 'Copia con avisos',
      stale: 'Sin copia reciente',
      'low-space': 'Poco espacio',
      'failed-drill': 'Simulacro fallido',
      'offsite-failed': 'Copia externa fallida',
      'offsite-damaged': 'Copias externas dañadas',
      'storage-unavailable': 'Almacenamiento no disponible',
    },
    severities: { warning: 'aviso', error: 'error' },
    digest: {
      subject: '[{app}] Informe de copias del {date}',
      subjectFailures: '[{app}] Informe de copias del {date}: {count} con fallos',
      lead: 'Lo que ha pasado en {app} desde el {since} hasta el {until}.',
      nothing: 'Sin novedades: en este periodo no se ha ejecutado ninguna copia, restauración ni simulacro.',
      jobs: 'Tareas',
      countLine: '{type}: {counts}',
      failures: 'Fallos',
      activeAlerts: 'Alertas activas',
      noAlerts: 'Ninguna alerta activa.',
      open: 'Abrir la página de Monitorización',
    },
  },
};

/** The names of the placeholders a template uses, in order of appearance. */
export const placeholders = (template: string): string[] => [...template.matchAll(/\{([a-zA-Z]+)\}/g)].map((m) => m[1]);

/**
 * Replaces `{name}` by `values.name`. A placeholder without a value is a mistake in the
 * caller or the template: it throws rather than sending the braces.
 */
export const fill = (template: string, values: Record<string, string | number>): string =>
  template.replace(/\{([a-zA-Z]+)\}/g, (_, name: string) => {
    if (!Object.prototype.hasOwnProperty.call(values, name)) throw new Error(`The message "${template}" needs a value for {${name}}`);
    return String(values[name]);
  });

/**
 * The language of an admin user's interface (`preferedLanguage`, as Strapi spells it) as a
 * notification language: any Spanish (`es`, `es-ES`, `es_MX`…) is Spanish, any other chosen
 * language English; no choice at all falls back to the configured language.
 */
export const notificationLanguage = (preferred: string | null | undefined, fallback: NotificationLanguage): NotificationLanguage => {
  if (!preferred) return fallback;
  const base = preferred.trim().toLowerCase().split(/[-_]/)[0];
  if (!base) return fallback;
  return (NOTIFICATION_LANGUAGES as ReadonlyArray<string>).includes(base) ? (base as NotificationLanguage) : 'en';
};
