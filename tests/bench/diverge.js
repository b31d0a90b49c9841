#!/usr/bin/env node
'use strict';

/**
 * Makes the bench's database a diverged copy of the backup it was restored from, the way a team
 * goes on working after a restore: some contracts edited (their drafts, in one query), some
 * deleted and some created (through the document service, as the admin panel does).
 *
 *   node tests/bench/diverge.js --edit 0.05 --delete 0.01 --create 0.01 --seed 1
 *
 * Fractions are of the contracts' documents. Deterministic for a seed. The database is the one
 * the DATABASE_* variables name (the bench sets them). Prints a JSON summary on stdout.
 */
const path = require('node:path');

const { bootApp } = require(path.join(__dirname, '..', 'app', 'scripts', 'boot.js'));

const CONTRACT = 'api::contract.contract';
const USAGE = 'usage: node tests/bench/diverge.js [--edit F] [--delete F] [--create F] [--seed S]';

const parseArgs = (argv) => {
  const options = { edit: 0.05, delete: 0.01, create: 0.01, seed: 1 };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i].split('=', 2);
    const name = flag.replace(/^--/, '');
    if (!(name in options)) throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
    const value = Number(inline !== undefined ? inline : argv[(i += 1)]);
    if (!Number.isFinite(value) || value < 0 || (name !== 'seed' && value > 1)) throw new Error(`${flag}: a number${name === 'seed' ? '' : ' from 0 to 1'}\n${USAGE}`);
    options[name] = value;
  }
  return options;
};

/** mulberry32: a small seeded generator, so two runs diverge the same way. */
const random = (seed) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** `count` distinct items of `items`, picked with `next`. */
const pick = (items, count, next) => {
  const pool = [...items];
  const out = [];
  while (out.length < count && pool.length) out.push(pool.splice(Math.floor(next() * pool.length), 1)[0]);
  return out;
};

const main = async () => {
  const options = parseArgs(process.argv.slice(2));
  const next = random(options.seed);
  const started = Date.now();
  const strapi = await bootApp({ compile: false });
  try {
    const rows = await strapi.db.query(CONTRACT).findMany({ select: ['id', 'documentId', 'locale', 'publishedAt'], orderBy: { id: 'asc' } });
    const documentIds = [...new Set(rows.map((r) => r.documentId))];
    const count = (fraction) => Math.round(documentIds.length * fraction);
    const chosen = pick(documentIds, count(options.edit) + count(options.delete), next);
    const edited = new Set(chosen.slice(0, count(options.edit)));
    const deleted = chosen.slice(count(options.edit));

    // Edits: the drafts of the chosen documents (every locale), so draft and published differ,
    // as after an editor saves without publishing. One query for all of them.
    const draftIds = rows.filter((r) => edited.has(r.documentId) && r.publishedAt === null).map((r) => r.id);
    const now = new Date();
    for (let i = 0; i < draftIds.length; i += 500) {
      await strapi.db.query(CONTRACT).updateMany({
        where: { id: { $in: draftIds.slice(i, i + 500) } },
        data: { title: `Edited in the diverged copy (${options.seed})`, amount: 4321.5, updatedAt: now },
      });
    }

    // Deletes: every locale and version of a document, relations and components included.
    for (const documentId of deleted) await strapi.documents(CONTRACT).delete({ documentId, locale: '*' });

    // Creates: new contracts, half of them published.
    const created = count(options.create);
    for (let i = 0; i < created; i += 1) {
      await strapi.documents(CONTRACT).create({
        locale: 'en',
        status: i % 2 === 0 ? 'published' : 'draft',
        data: {
          title: `Created in the diverged copy ${i}`,
          number: `DIVERGED-${options.seed}-${String(i).padStart(6, '0')}`,
          amount: 1000 + i,
          contractStatus: 'negotiation',
          clauses: [{ heading: `Clause ${i}`, body: 'Added after the backup.' }],
        },
      });
    }
    const summary = {
      documents: documentIds.length,
      edited: edited.size,
      editedRows: draftIds.length,
      deleted: deleted.length,
      created,
      seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
    };
    console.log(JSON.stringify(summary));
  } finally {
    await strapi.destroy();
  }
};

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`[diverge] ${error.stack || error.message}`);
    process.exit(1);
  }
);
