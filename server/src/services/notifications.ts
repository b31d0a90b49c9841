import type { Core } from '@strapi/strapi';
import { errors } from '@strapi/utils';

import type { Job } from '../contracts/backups';
import { syncAlerts, type AlertIdentity } from '../notifications/alerts';
import {
  deliveryLine,
  emailRecipientsFor,
  jobEvent,
  noticeFromAlert,
  noticeFromJob,
  strapiWebhooksWanted,
  testNotice,
  webhookTargetsFor,
  type NoticeContext,
  type WebhookTarget,
} from '../notifications/dispatch';
import { createEmailChannel } from '../notifications/email';
import { NOTIFICATION_EVENTS, type Delivery, type Notice, type NotificationEvent } from '../notifications/types';
import { deliverWebhook, displayUrl } from '../notifications/webhooks';
import { getService } from '../utils';
import type { Alert } from './monitoring';
import { INSTANCE_ID } from './locks';

/** How often every instance compares the active alerts with those already told. */
export const ALERT_CHECK_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 3600 * 1000;

/** The key of a plugin event in Strapi's webhook store: `backup.failed` → `PACTA_BACKUP_FAILED`. */
export const strapiEventKey = (event: NotificationEvent) => `PACTA_${event.replace(/[.-]/g, '_').toUpperCase()}`;

export type TestChannel = 'email' | 'webhook' | 'all';

interface StrapiWebhook {
  id: string;
  name: string;
  url: string;
  events: string[];
  isEnabled: boolean;
}

interface WebhookStore {
  addAllowedEvent(key: string, value: string): void;
  getAllowedEvent(key: string): string | undefined;
  findWebhooks(): Promise<StrapiWebhook[]>;
}

/**
 * Tells people what happened: each finished backup, restore, applied import and failed drill,
 * and each alert when it is raised and when it clears, by e-mail (Strapi's e-mail plugin, see
 * notifications/email.ts), to the plugin's own signed webhook targets, and through Strapi's
 * event hub to the webhooks an admin created in Settings → Webhooks. Sending happens after the
 * job has ended and released its lock, in the background: it never delays nor fails a job, and
 * a delivery that fails is logged and written to the job's log, nothing more.
 */
const createNotificationsService = ({ strapi }: { strapi: Core.Strapi }) => {
  const config = () => getService('config', { strapi }).get().notifications;
  const logger = () => getService('logger', { strapi }).get();
  const webhookStore = () => strapi.get('webhookStore') as WebhookStore;
  let email: ReturnType<typeof createEmailChannel> | null = null;
  const emailChannel = () => (email ??= createEmailChannel(strapi));

  /** Sends in progress (stop() waits for them, for a while). */
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>) => {
    inFlight.add(work);
    work.finally(() => inFlight.delete(work)).catch(() => undefined);
    return work;
  };
  let timer: NodeJS.Timeout | null = null;
  let unsubscribe: (() => void) | null = null;
  /** One alert check at a time in this process (a job's end and the timer may meet). */
  let checking: Promise<void> = Promise.resolve();

  /** The admin panel's absolute URL, when the app's public URL is configured (server.url or admin.url). */
  const adminBase = (): string | null => {
    const adminUrl = String(strapi.config.get('admin.url', ''));
    if (!/^https?:\/\//i.test(adminUrl)) return null;
    return String(strapi.config.get('admin.absoluteUrl', adminUrl)).replace(/\/+$/, '');
  };
  const context = (): NoticeContext => ({
    app: { name: String(strapi.config.get('info.name', 'strapi')), instance: INSTANCE_ID },
    adminBase: adminBase(),
  });

  const sendWebhooks = (notice: Notice, targets: WebhookTarget[]): Promise<Delivery[]> => {
    const { retries, backoffMs, timeoutMs } = config().webhooks;
    return Promise.all(
      targets.map(async (target) => {
        const secret = target.secretEnv ? process.env[target.secretEnv] : undefined;
        if (target.secretEnv && !secret) {
          // Unsigned, it would be refused by a receiver that checks: not sent, and said why.
          const error = `environment variable ${target.secretEnv} (the signing secret) is not set; not sent`;
          return { channel: 'webhook' as const, target: displayUrl(target.url), ok: false, attempts: 0, error, at: new Date().toISOString() };
        }
        return deliverWebhook({ url: target.url, notice, secret, retries, backoffMs, timeoutMs });
      })
    );
  };

  const sendEmail = async (notice: Notice, recipients: string[]): Promise<Delivery[]> => {
    try {
      if (!emailChannel().available()) throw new Error("Strapi's e-mail plugin is not installed");
      return await emailChannel().send(notice, recipients);
    } catch (error) {
      const at = new Date().toISOString();
      return recipients.map((target) => ({ channel: 'email' as const, target, ok: false, attempts: 1, error: (error as Error).message, at }));
    }
  };

  /**
   * Emits the event on Strapi's event hub: Strapi's webhook runner queues a POST to each enabled
   * webhook that chose it (body `{ event, createdAt, ...notice }`, header X-Strapi-Event). The
   * runner reports no result to the emitter: a delivery here says the event was handed over.
   */
  const emitToStrapi = async (notice: Notice): Promise<Delivery[]> => {
    const at = new Date().toISOString();
    try {
      const listening = (await webhookStore().findWebhooks()).filter((hook) => hook.isEnabled && hook.events.includes(notice.event));
      await strapi.eventHub.emit(notice.event, { ...notice });
      return listening.map((hook) => ({ channel: 'strapi-webhook' as const, target: displayUrl(hook.url), ok: true, attempts: 1, at }));
    } catch (error) {
      return [{ channel: 'strapi-webhook' as const, target: 'strapi event hub', ok: false, attempts: 1, error: (error as Error).message, at }];
    }
  };

  /** Logs each delivery (never a secret nor a query string: a Delivery holds neither). */
  const report = (notice: Notice, deliveries: Delivery[], jobId?: string) => {
    for (const delivery of deliveries) {
      const line = deliveryLine(notice, delivery);
      const fields = { event: notice.event, noticeId: notice.id, channel: delivery.channel, ...(jobId ? { jobId } : {}) };
      if (delivery.ok) logger().info(line, fields);
      else logger().warn(line, fields);
    }
  };

  const service = {
    /**
     * Sends a notice through every channel that wants it (see notifications/dispatch.ts) and
     * returns one Delivery per target. With `jobId`, a line per delivery goes to that job's log.
     */
    async notify(notice: Notice, { jobId }: { jobId?: string } = {}): Promise<Delivery[]> {
      const current = config();
      const recipients = emailRecipientsFor(notice, current);
      const [emails, hooks, strapiHooks] = await Promise.all([
        recipients.length ? sendEmail(notice, recipients) : [],
        sendWebhooks(notice, webhookTargetsFor(notice, current)),
        strapiWebhooksWanted(notice, current) ? emitToStrapi(notice) : [],
      ]);
      const deliveries = [...emails, ...hooks, ...strapiHooks];
      report(notice, deliveries, jobId);
      if (jobId && deliveries.length) {
        await getService('jobs', { strapi })
          .appendLog(
            jobId,
            deliveries.map((delivery) => deliveryLine(notice, delivery))
          )
          .catch((error: Error) => logger().error(`could not write the notifications of job ${jobId} to its log: ${error.message}`, { jobId }));
      }
      return deliveries;
    },

    /** A job has ended: its event (if it has one) is told, then the alerts are checked. */
    jobEnded(job: Job): Promise<void> {
      return track(
        (async () => {
          const event = jobEvent(job);
          if (event) {
            try {
              await service.notify(noticeFromJob(job, event, context()), { jobId: job.id });
            } catch (error) {
              logger().error(`could not send the notifications of job ${job.id}: ${(error as Error).message}`, { jobId: job.id, event });
            }
          }
          try {
            await service.checkAlerts();
          } catch (error) {
            logger().error(`could not check the alerts after job ${job.id}: ${(error as Error).message}`, { jobId: job.id });
          }
        })()
      );
    },

    /**
     * Tells the alerts that appeared since the last check (`alert.raised`) and those that went
     * away (`alert.cleared`), each once across the instances on this database (see
     * notifications/alerts.ts). Runs after each job and every 5 minutes.
     */
    checkAlerts(now = new Date()): Promise<void> {
      const run = async () => {
        const alerts: Alert[] = await getService('monitoring', { strapi }).alerts(now);
        const { raised, cleared } = await syncAlerts(strapi.db.connection, alerts, { owner: INSTANCE_ID, now: now.getTime() });
        const describe = (alert: AlertIdentity) =>
          `${alert.type.replace(/-/g, ' ')}${alert.jobId ? ` (job ${alert.jobId})` : ''} is no longer active`;
        const notices = [
          ...raised.map((alert) => noticeFromAlert(alert, 'alert.raised', context(), now)),
          ...cleared.map((alert) =>
            noticeFromAlert({ ...alert, message: describe(alert), at: now.toISOString() }, 'alert.cleared', context(), now)
          ),
        ];
        for (const notice of notices) {
          logger().info(`${notice.event}: ${notice.alert?.type} ${notice.alert?.message}`, { event: notice.event, alert: notice.alert?.type });
          await track(service.notify(notice));
        }
      };
      checking = checking.then(run, run);
      return checking;
    },

    /**
     * Sends "Send a test" through the channels asked: the plugin's e-mail recipients and/or its
     * webhook targets (whether or not they are enabled yet: a test comes before). Strapi's own
     * webhooks are tested with their Trigger button in Settings → Webhooks.
     * @throws ValidationError when no channel asked is configured
     */
    async test({ channel = 'all' }: { channel?: TestChannel } = {}): Promise<Delivery[]> {
      const current = config();
      const problems: string[] = [];
      let emailOk = false;
      let webhookOk = false;
      if (channel === 'email' || channel === 'all') {
        if (!emailChannel().available()) problems.push("e-mail: Strapi's e-mail plugin (@strapi/email) is not installed or has no provider");
        else if (!current.email.recipients.length) problems.push('e-mail: no recipient (notifications.email.recipients)');
        else emailOk = true;
      }
      if (channel === 'webhook' || channel === 'all') {
        if (!current.webhooks.targets.length) problems.push('webhook: no target (notifications.webhooks.targets)');
        else webhookOk = true;
      }
      if (!emailOk && !webhookOk) throw new errors.ValidationError(`Nothing to send a test to: ${problems.join('; ')}`, { problems });
      const notice = testNotice(context());
      const [emails, hooks] = await Promise.all([
        emailOk ? sendEmail(notice, current.email.recipients) : [],
        webhookOk ? sendWebhooks(notice, webhookTargetsFor(notice, current)) : [],
      ]);
      const deliveries = [...emails, ...hooks];
      report(notice, deliveries);
      return deliveries;
    },

    /**
     * The daily digest: the jobs of the last 24 hours and the active alerts, by e-mail (when
     * e-mail is enabled with recipients). The scheduler runs it at `digestSchedule` on one instance.
     */
    async sendDigest(now = new Date()): Promise<Delivery[]> {
      const current = config();
      if (!current.email.enabled || !current.email.recipients.length) return [];
      const since = new Date(now.getTime() - DAY_MS);
      const jobs = (await getService('jobs', { strapi }).history({ since, limit: 1000 })).filter((job) => job.status !== 'skipped');
      const alerts = await getService('monitoring', { strapi }).alerts(now);
      let deliveries: Delivery[];
      try {
        if (!emailChannel().available()) throw new Error("Strapi's e-mail plugin is not installed");
        deliveries = await emailChannel().sendDigest({ since, until: now, jobs, alerts }, current.email.recipients);
      } catch (error) {
        const at = new Date().toISOString();
        deliveries = current.email.recipients.map((target) => ({ channel: 'email' as const, target, ok: false, attempts: 1, error: (error as Error).message, at }));
      }
      for (const delivery of deliveries) {
        const line = `digest of ${jobs.length} jobs and ${alerts.length} alerts via e-mail to ${delivery.target}: ${delivery.ok ? 'delivered' : `not delivered (${delivery.error ?? 'error'})`}`;
        if (delivery.ok) logger().info(line, { channel: 'email' });
        else logger().warn(line, { channel: 'email' });
      }
      return deliveries;
    },

    /** The events, those Strapi's webhook store accepts, and whether e-mail can be sent. */
    events() {
      const store = webhookStore();
      return {
        events: [...NOTIFICATION_EVENTS],
        strapiWebhookEvents: NOTIFICATION_EVENTS.filter((event) => store.getAllowedEvent(strapiEventKey(event)) === event),
        emailAvailable: emailChannel().available(),
      };
    },

    /**
     * At bootstrap: the events join Strapi's webhook store (a webhook created through the admin
     * API may then choose them), job ends are told, and, with `checkPeriodically`, the alerts
     * are checked every 5 minutes (even with scheduled backups off: a manual backup can fail,
     * space can run low).
     */
    start({ checkPeriodically = true }: { checkPeriodically?: boolean } = {}) {
      for (const event of NOTIFICATION_EVENTS) webhookStore().addAllowedEvent(strapiEventKey(event), event);
      unsubscribe?.();
      unsubscribe = getService('jobs', { strapi }).onEnd((job) => {
        void service.jobEnded(job);
      });
      if (timer) clearInterval(timer);
      timer = null;
      if (checkPeriodically) {
        timer = setInterval(() => {
          service.checkAlerts().catch((error: Error) => logger().error(`could not check the alerts: ${error.message}`));
        }, ALERT_CHECK_MS);
        timer.unref();
      }
    },

    /** Stops the checks and waits up to `waitMs` for sends in progress. */
    async stop(waitMs = 10_000) {
      if (timer) clearInterval(timer);
      timer = null;
      unsubscribe?.();
      unsubscribe = null;
      if (inFlight.size) {
        await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
      }
    },

    /** Resolves when no send is in progress in this process (the CLI and the tests wait on it). */
    async idle() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
  return service;
};

export default createNotificationsService;
