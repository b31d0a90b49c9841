#!/usr/bin/env node
'use strict';

/**
 * One step of an import, in its own process so the bench measures it alone (wall time, peak
 * RSS), the way the CLI runs it: the app booted headless through the built CLI's bootStrapi
 * (dist/cli/boot.js), then the plugin's imports service, its job followed to the end.
 *
 *   node tests/bench/import-step.js preview --app DIR --backup ID
 *       → {"previewId", "mode", "modeReason", "types": [{uid, counts}], "media", "dangling", "jobMs"}
 *   node tests/bench/import-step.js apply --app DIR --preview ID [--policy keep|incoming|newer|skip]
 *       → the import report (ImportReport) and "jobMs"
 *
 * The apply uses one policy for every content type of the preview (default incoming: every
 * conflict takes the archive's version, the most writing) and drops dangling links. Exits
 * non-zero when the job fails.
 */
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const USAGE = 'usage: node tests/bench/import-step.js preview --app DIR --backup ID | apply --app DIR --preview ID [--policy P]';

const parseArgs = (argv) => {
  const [step, ...rest] = argv;
  if (step !== 'preview' && step !== 'apply') throw new Error(USAGE);
  const options = { step, app: null, backup: null, preview: null, policy: 'incoming' };
  for (let i = 0; i < rest.length; i += 1) {
    const [flag, inline] = rest[i].split('=', 2);
    const name = flag.replace(/^--/, '');
    if (!['app', 'backup', 'preview', 'policy'].includes(name)) throw new Error(`unknown argument ${rest[i]}\n${USAGE}`);
    options[name] = inline !== undefined ? inline : rest[(i += 1)];
  }
  if (!options.app || (step === 'preview' ? !options.backup : !options.preview)) throw new Error(USAGE);
  if (!['keep', 'incoming', 'newer', 'skip'].includes(options.policy)) throw new Error(`--policy: keep, incoming, newer or skip\n${USAGE}`);
  return options;
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for a job of the plugin's jobs service to finish; its result, or a thrown failure. */
const follow = async (jobs, started) => {
  for (;;) {
    const job = jobs.get(started.id) ?? started;
    if (job.finishedAt) {
      if (job.status === 'failed') {
        const error = job.error ?? { message: 'unknown error', code: 'FAILED' };
        throw new Error(`the ${job.type} job failed: ${error.message} (${error.code})${job.result ? `\n${JSON.stringify(job.result)}` : ''}`);
      }
      return { job, ms: job.durationMs };
    }
    await sleep(50);
  }
};

const main = async () => {
  const options = parseArgs(process.argv.slice(2));
  const { bootStrapi } = require(path.join(ROOT, 'dist', 'cli', 'boot.js'));
  const strapi = await bootStrapi(path.resolve(options.app));
  try {
    const plugin = strapi.plugin('pacta-backup');
    const imports = plugin.service('imports');
    const jobs = plugin.service('jobs');
    if (!imports || typeof imports.startPreview !== 'function') throw new Error('this build of the plugin has no imports service (run npm run build on a version with the import)');
    if (options.step === 'preview') {
      const { job, ms } = await follow(jobs, await imports.startPreview({ source: { backupId: options.backup } }, { trigger: 'cli' }));
      const preview = await imports.getPreview(job.result.previewId);
      console.log(
        JSON.stringify({
          previewId: preview.id,
          mode: preview.mode,
          modeReason: preview.modeReason,
          types: preview.types.map((t) => ({ uid: t.uid, counts: t.counts })),
          media: preview.media,
          dangling: preview.dangling.length,
          jobMs: ms,
        })
      );
    } else {
      const preview = await imports.getPreview(options.preview);
      const policies = Object.fromEntries(preview.types.map((t) => [t.uid, options.policy]));
      const { job, ms } = await follow(jobs, await imports.startApply(options.preview, { policies, dangling: 'drop', confirm: true }, { trigger: 'cli' }));
      console.log(JSON.stringify({ ...job.result, jobMs: ms }));
    }
  } finally {
    await strapi.destroy();
  }
};

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`[import-step] ${error.stack || error.message}`);
    process.exit(1);
  }
);
