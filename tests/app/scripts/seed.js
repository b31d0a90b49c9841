#!/usr/bin/env node
'use strict';

/**
 * Seeds the example app's database with deterministic content:
 *
 *   npm run seed -- --documents 200 --media 20 --seed 1
 *
 * Options (defaults in brackets):
 *   --documents N   contracts to create [200]
 *   --media M       files to upload [20]
 *   --pdf-bytes B   each PDF also embeds B bytes of incompressible data (scans) [0]
 *   --seed S        the seed; the same seed gives the same content [1]
 *   --method bulk|documents
 *                   write contracts in batches [bulk] or through the document service, one
 *                   editor action at a time (slow; the reference the bulk writer is checked against)
 *   --check         instead of seeding, seed N contracts both ways into two temporary SQLite
 *                   databases and compare their rows (see seed/equivalence.js)
 *
 * The database is the app's (tests/app/.env, or DATABASE_* variables). It must not hold
 * contracts yet: the seeder refuses to add to existing content, so rerun it on a fresh database.
 * Exits non-zero on any error. Required as a module, it only exports seed() from seed/index.js.
 */
const { bootApp } = require('./boot');
const { seed } = require('./seed/index');
const { checkEquivalence } = require('./seed/equivalence');

const USAGE = 'usage: npm run seed -- [--documents N] [--media M] [--pdf-bytes B] [--seed S] [--method bulk|documents] [--check]';

const parseArgs = (argv) => {
  const options = { documents: 200, media: 20, pdfBytes: 0, seed: 1, method: 'bulk', check: false };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => (inline !== undefined ? inline : argv[(i += 1)]);
    if (flag === '--check') options.check = true;
    else if (flag === '--method') options.method = value();
    else if (['--documents', '--media', '--seed', '--pdf-bytes'].includes(flag)) {
      const raw = value();
      const number = Number(raw);
      if (!/^\d+$/.test(String(raw)) || !Number.isSafeInteger(number)) throw new Error(`${flag} needs a non-negative integer, got ${raw}\n${USAGE}`);
      options[flag === '--pdf-bytes' ? 'pdfBytes' : flag.slice(2)] = number;
    } else throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
  }
  return options;
};

const main = async () => {
  const options = parseArgs(process.argv.slice(2));
  const log = (message) => console.log(`[seed] ${message}`);
  if (options.check) {
    const { equal, differences, tables } = await checkEquivalence({ documents: options.documents, media: options.media, seed: options.seed, log });
    console.log(JSON.stringify({ equal, tables }, null, 2));
    if (!equal) throw new Error(`the bulk writer differs from the document service:\n${differences.join('\n')}`);
    return;
  }
  const strapi = await bootApp();
  try {
    const { check: _check, ...seedOptions } = options;
    const summary = await seed(strapi, { ...seedOptions, log });
    console.log(JSON.stringify(summary, null, 2));
  } finally {
    await strapi.destroy();
  }
};

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(`[seed] ${error.stack || error.message}`);
      process.exit(1);
    },
  );
}

// `require('./seed')` resolves to this file rather than the seed/ folder: export the library too.
module.exports = { seed };
