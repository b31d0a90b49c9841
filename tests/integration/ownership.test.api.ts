import type { Core } from '@strapi/strapi';

import type { Job } from '../../server/src/contracts/backups';
import { loginAsSuperAdmin, type Agent } from '../helpers/agent';
import { databaseClient, startApp, type TestApp } from '../helpers/app';
import { dumpDatabase, hashUploads } from '../helpers/dump';
import { runJob, waitForJob } from '../helpers/jobs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seed, UID, en } = require('../app-atlas/scripts/seed') as {
  seed: (strapi: Core.Strapi, options: { documents: number; media: number; seed: number }) => Promise<Record<string, number>>;
  UID: Record<string, string>;
  en: (documentIds: string | string[] | null, locale?: string) => unknown;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { uploadMedia } = require('../app/scripts/seed/media') as {
  uploadMedia: (strapi: Core.Strapi, options: { seed: number; count: number }) => Promise<Array<{ id: number; mime: string }>>;
};

/**
 * Ownership of a selective restore, on the atlas app (tests/app-atlas: components three deep
 * under a dynamic zone, one file shared by many types and components, self, circular and one-way
 * relations, i18n with drafts, single types, users).
 *
 * B0 is a full backup of the seeded app, B1 one taken after changes to every type. For each type
 * T alone: full restore of B1 (`before` = a dump of that state), selective restore of T from B0,
 * dump (`after`). What T owns is computed here, from Strapi's metadata and the dumps, without the
 * plugin's scope service, by the rules the README states:
 *
 *   - T's table; T's `_cmps` rows; every component row reachable from them at any depth (a
 *     component's own `_cmps` rows whose entity_id is an owned component row, down to the last);
 *   - link tables (`_lnk`) of the relations T declares (not mappedBy; self relations included),
 *     and rows of a component's link table whose component row T owns;
 *   - `files_related_mph` rows with related_type = T, or a component uid with related_id among
 *     the component rows T owns (media links; `files` rows themselves are shared).
 *
 * Links that OTHER models declare towards T (the inverse side of a bidirectional relation,
 * one-way relations, relations of other owners' components) are theirs: "incoming".
 *
 * Expected:
 *   (a) T's rows after = T's rows in B0, but for B0's link rows whose other side no longer exists
 *       (they cannot come back; each is reported);
 *   (i) incoming rows after = the incoming rows before whose T row still exists (the others are
 *       removed and reported), plus B0's incoming rows of T rows the restore brought back (not
 *       there before) whose other side exists;
 *   (b) every other row equals `before` (a `files` row another owner links to is never removed,
 *       and every file a `files` row names is on disk);
 *   (c) `result.links` reports, per table, exactly the rows of (a) and (i) that were dropped;
 *   (d) the job ends without error.
 */

type Dump = Awaited<ReturnType<typeof dumpDatabase>>;
type Row = Record<string, unknown>;

interface LinkReport {
  table: string;
  column: string;
  from: string;
  to: string;
  dropped: number;
  nulled: number;
}

const CONTENT_TYPES = [
  'api::author.author',
  'api::category.category',
  'api::guide.guide',
  'api::homepage.homepage',
  'api::place.place',
  'api::review.review',
  'api::site-config.site-config',
  'api::trip.trip',
  'plugin::users-permissions.user',
];

interface LinkTable {
  /** The model whose attribute declares the relation (the owning side, never mappedBy). */
  declaredBy: string;
  /** Its column pointing at the declaring model's rows, and the column pointing at the target. */
  from: { column: string; table: string };
  to: { column: string; table: string };
}

/** What the walk needs from Strapi's metadata: tables, `_cmps` tables, link tables. */
const readSchema = (strapi: Core.Strapi) => {
  type Attribute = {
    mappedBy?: string;
    joinTable?: { name: string; joinColumn: { name: string; referencedTable?: string }; inverseJoinColumn?: { name: string; referencedTable?: string } };
  };
  const models = [...(strapi.db.metadata as unknown as Map<string, { uid: string; tableName: string; attributes: Record<string, Attribute> }>).values()].filter(
    (m) => m.uid && m.uid !== m.tableName
  );
  const tableOf = new Map(models.map((m) => [m.uid, m.tableName]));
  const cmps = new Map<string, Set<string>>();
  const links = new Map<string, LinkTable>();
  for (const model of models) {
    for (const attribute of Object.values(model.attributes)) {
      const join = attribute.joinTable;
      if (!join) continue;
      if (join.name.endsWith('_cmps')) {
        cmps.set(model.uid, (cmps.get(model.uid) ?? new Set()).add(join.name));
      } else if (join.name.endsWith('_lnk') && join.inverseJoinColumn && !attribute.mappedBy) {
        links.set(join.name, {
          declaredBy: model.uid,
          from: { column: join.joinColumn.name, table: join.joinColumn.referencedTable! },
          to: { column: join.inverseJoinColumn.name, table: join.inverseJoinColumn.referencedTable! },
        });
      }
    }
  }
  return { tableOf, cmps, links };
};

type Schema = ReturnType<typeof readSchema>;

const rowsOf = (dump: Dump, table: string): Row[] => (dump[table] ?? []).map((pairs) => Object.fromEntries(pairs as Array<[string, unknown]>));
const idsOf = (dump: Dump, table: string) => new Set(rowsOf(dump, table).map((row) => String(row.id)));
const keyOf = (row: Row) => ('id' in row ? String(row.id) : JSON.stringify(row));

/** The component rows T owns in `dump`: component table → ids, and the `_cmps` rows on the way. */
const walkComponents = (schema: Schema, dump: Dump, uid: string) => {
  const owned = new Map<string, Set<string>>();
  const joins = new Map<string, Map<string, Row>>();
  let frontier = [{ uid, ids: idsOf(dump, schema.tableOf.get(uid)!) }];
  while (frontier.length) {
    const next: typeof frontier = [];
    for (const entity of frontier) {
      for (const table of schema.cmps.get(entity.uid) ?? []) {
        const found = new Map<string, Set<string>>();
        for (const row of rowsOf(dump, table)) {
          if (!entity.ids.has(String(row.entity_id))) continue;
          joins.set(table, (joins.get(table) ?? new Map()).set(keyOf(row), row));
          const componentTable = schema.tableOf.get(String(row.component_type))!;
          const known = owned.get(componentTable) ?? new Set<string>();
          owned.set(componentTable, known);
          if (known.has(String(row.cmp_id))) continue;
          known.add(String(row.cmp_id));
          found.set(String(row.component_type), (found.get(String(row.component_type)) ?? new Set()).add(String(row.cmp_id)));
        }
        for (const [componentUid, ids] of found) next.push({ uid: componentUid, ids });
      }
    }
    frontier = next;
  }
  return { owned, joins };
};

/**
 * Splits the rows of `dump` for T (see the comment at the top): `owned` (by table) and
 * `incoming` (link rows other models declare towards T, by table).
 */
const ownership = (schema: Schema, dump: Dump, uid: string) => {
  const table = schema.tableOf.get(uid)!;
  const { owned: components, joins } = walkComponents(schema, dump, uid);
  const owned = new Map<string, Row[]>([[table, rowsOf(dump, table)]]);
  const incoming = new Map<string, Row[]>();
  for (const [name, rows] of joins) owned.set(name, [...rows.values()]);
  for (const [name, ids] of components) owned.set(name, rowsOf(dump, name).filter((row) => ids.has(String(row.id))));
  for (const [name, link] of schema.links) {
    const rows = rowsOf(dump, name);
    if (link.declaredBy === uid) {
      owned.set(name, rows);
      continue;
    }
    const ownedComponents = components.get(link.from.table);
    const mine = rows.filter((row) => ownedComponents?.has(String(row[link.from.column])));
    if (ownedComponents) owned.set(name, mine);
    if (link.to.table === table) incoming.set(name, rows.filter((row) => !mine.includes(row)));
  }
  owned.set(
    'files_related_mph',
    rowsOf(dump, 'files_related_mph').filter((row) => {
      const type = String(row.related_type);
      if (type === uid) return true;
      const componentTable = schema.tableOf.get(type);
      return Boolean(componentTable && components.get(componentTable)?.has(String(row.related_id)));
    })
  );
  return { owned, incoming };
};

/** Rows of `expected` missing from `actual` and rows of `actual` not expected, by table (JSON). */
const compareTables = (actual: Map<string, Row[]>, expected: Map<string, Row[]>) => {
  const out: Record<string, { missing: string[]; unexpected: string[] }> = {};
  for (const table of new Set([...actual.keys(), ...expected.keys()])) {
    const a = new Set((actual.get(table) ?? []).map((row) => JSON.stringify(row)));
    const e = new Set((expected.get(table) ?? []).map((row) => JSON.stringify(row)));
    const missing = [...e].filter((row) => !a.has(row));
    const unexpected = [...a].filter((row) => !e.has(row));
    if (missing.length || unexpected.length) out[table] = { missing: missing.slice(0, 3), unexpected: unexpected.slice(0, 3) };
    if (missing.length > 3 || unexpected.length > 3) out[table] = { ...out[table], ...{ counts: `${missing.length} missing, ${unexpected.length} unexpected` } };
  }
  return out;
};

/** Number of rows (by id) that differ between two lists of rows of one table. */
const differingRows = (before: Row[], after: Row[]) => {
  const b = new Map(before.map((row) => [keyOf(row), JSON.stringify(row)]));
  const a = new Map(after.map((row) => [keyOf(row), JSON.stringify(row)]));
  return [...new Set([...a.keys(), ...b.keys()])].filter((key) => a.get(key) !== b.get(key)).length;
};

/** Files named by the `files` rows (original and formats) that are not in the uploads folder. */
const filesMissingOnDisk = async (strapi: Core.Strapi, publicDir: string) => {
  const onDisk = new Set(Object.keys(hashUploads(publicDir)));
  const rows = (await strapi.db.connection('files').select('url', 'formats')) as Array<{ url: string; formats: unknown }>;
  const urls = rows.flatMap((row) => {
    const formats = (typeof row.formats === 'string' ? JSON.parse(row.formats) : row.formats) as Record<string, { url: string }> | null;
    return [row.url, ...Object.values(formats ?? {}).map((format) => format.url)];
  });
  return urls.map((url) => url.replace(/^\/uploads\//, '')).filter((name) => !onDisk.has(name));
};

/** A gallery (dynamic zone entry or single component): slides → caption with media and a place. */
const gallery = (name: string, image: number, placeDocumentId: string, locale = 'en') => ({
  name,
  slides: [
    { title: `${name} slide`, position: 1, caption: { text: `${name} caption`, image, place: en(placeDocumentId, locale) } },
    { title: `${name} second slide`, position: 2, caption: { text: `${name} second caption`, image } },
  ],
});

/** Changes every type after B0: creations, edits, deletions, publish/unpublish, a locale, media, relations, nested components. */
const changeEverything = async (strapi: Core.Strapi) => {
  const documents = (uid: string) => strapi.documents(uid as never);
  const list = async (uid: string, params: object = {}) =>
    (await documents(uid).findMany({ sort: 'id:asc', ...params } as never)) as unknown as Array<{ documentId: string }>;
  const [newFile, otherNewFile] = (await uploadMedia(strapi, { seed: 77, count: 2 })).map((file) => file.id);
  const [sharedFile] = ((await strapi.db.query('plugin::upload.file').findMany({ orderBy: { id: 'asc' }, limit: 1 })) as Array<{ id: number }>).map((f) => f.id);
  const locales = strapi.plugin('i18n').service('locales');
  if (!(await locales.findByCode('de'))) await locales.create({ code: 'de', name: 'German (de)' });

  const [places, authors, users, categories, guides, reviews, trips] = await Promise.all([
    list(UID.place, { locale: 'en' }),
    list(UID.author),
    list(UID.user),
    list(UID.category),
    list(UID.guide, { locale: 'en' }),
    list(UID.review),
    list(UID.trip),
  ]);

  const user = await documents(UID.user).create({
    data: { username: 'late-traveller', email: 'late@atlas.test', password: 'Atlas-Late-2027', provider: 'local', confirmed: true },
  } as never);
  await documents(UID.user).update({ documentId: users[0].documentId, data: { username: 'renamed-traveller' } } as never);
  await documents(UID.user).delete({ documentId: users[1].documentId } as never);

  // A place that others link to below: it is gone after a restore of places from B0.
  const placeService = documents(UID.place);
  const place = await placeService.create({
    locale: 'en',
    data: {
      name: 'Added after B0',
      slug: 'place-late',
      cover: newFile,
      photos: [sharedFile, otherNewFile],
      parent: en(places[0].documentId),
      curator: authors[0].documentId,
      highlights: [{ label: 'Late', caption: { text: 'Late caption', image: newFile, place: en(places[1].documentId) } }],
    },
  } as never);
  await placeService.publish({ documentId: place.documentId, locale: 'en' } as never);
  await placeService.update({
    documentId: places[1].documentId,
    locale: 'en',
    data: {
      name: 'Renamed place',
      altitude: 1234,
      photos: [newFile],
      highlights: [{ label: 'Changed', caption: { text: 'Changed caption', image: otherNewFile, place: en(place.documentId) } }],
    },
  } as never);
  await placeService.delete({ documentId: places[2].documentId, locale: '*' } as never);
  await placeService.publish({ documentId: places[4].documentId, locale: 'en' } as never);
  await placeService.unpublish({ documentId: places[3].documentId, locale: 'en' } as never);
  await placeService.update({ documentId: places[0].documentId, locale: 'de', data: { name: 'Ort', description: 'Neu auf Deutsch' } } as never);
  await placeService.publish({ documentId: places[0].documentId, locale: 'de' } as never);

  const author = await documents(UID.author).create({
    data: { name: 'Late Writer', avatar: sharedFile, favoritePlace: en(place.documentId), account: user.documentId },
  } as never);
  await documents(UID.author).update({ documentId: authors[1].documentId, data: { bio: 'Changed after B0', avatar: newFile, favoritePlace: en(place.documentId) } } as never);
  await documents(UID.author).delete({ documentId: authors[2].documentId } as never);

  await documents(UID.category).create({ data: { name: 'Late category', icon: newFile, places: en([place.documentId, places[0].documentId]) } } as never);
  await documents(UID.category).update({ documentId: categories[0].documentId, data: { name: 'Renamed category', places: en([place.documentId]) } } as never);
  await documents(UID.category).delete({ documentId: categories[1].documentId } as never);

  const guideService = documents(UID.guide);
  const guide = await guideService.create({
    locale: 'en',
    data: {
      title: 'Late guide',
      code: 'G-LATE',
      cover: sharedFile,
      body: [{ __component: 'atlas.gallery', ...gallery('Late', sharedFile, place.documentId) }, { __component: 'atlas.tip', text: 'Late tip', icon: newFile }],
      author: author.documentId,
      oneWay: en(place.documentId),
      manyWay: en([place.documentId, places[5].documentId]),
    },
  } as never);
  await guideService.publish({ documentId: guide.documentId, locale: 'en' } as never);
  await guideService.update({
    documentId: guides[0].documentId,
    locale: 'en',
    data: {
      title: 'Changed guide',
      oneWay: en(place.documentId),
      manyWay: en([places[6].documentId, place.documentId]),
      body: [{ __component: 'atlas.gallery', ...gallery('Changed', otherNewFile, place.documentId) }],
    },
  } as never);
  await guideService.delete({ documentId: guides[1].documentId, locale: '*' } as never);
  await guideService.publish({ documentId: guides[3].documentId, locale: 'en' } as never);
  await guideService.unpublish({ documentId: guides[2].documentId, locale: 'en' } as never);

  const review = await documents(UID.review).create({ data: { rating: 5, text: 'Late review', photos: [newFile], place: en(place.documentId), reviewer: author.documentId } } as never);
  await documents(UID.review).publish({ documentId: review.documentId } as never);
  await documents(UID.review).update({ documentId: reviews[0].documentId, data: { rating: 1, text: 'Changed my mind', place: en(place.documentId) } } as never);
  await documents(UID.review).delete({ documentId: reviews[1].documentId } as never);
  await documents(UID.review).publish({ documentId: reviews[2].documentId } as never);
  await documents(UID.review).unpublish({ documentId: reviews[3].documentId } as never);

  await documents(UID.trip).create({
    data: {
      name: 'Late trip',
      stops: [{ day: 1, place: en(place.documentId), tips: [{ text: 'Late stop tip', icon: newFile }] }],
      guide: en(guide.documentId),
      organizer: user.documentId,
    },
  } as never);
  await documents(UID.trip).update({
    documentId: trips[0].documentId,
    data: { name: 'Changed trip', stops: [{ day: 2, place: en(place.documentId), tips: [{ text: 'Changed tip', icon: sharedFile }] }], guide: en(guide.documentId) },
  } as never);
  await documents(UID.trip).delete({ documentId: trips[1].documentId } as never);
  await documents(UID.trip).publish({ documentId: trips[3].documentId } as never);
  await documents(UID.trip).unpublish({ documentId: trips[2].documentId } as never);

  const homepage = documents(UID.homepage);
  const home = (await homepage.findFirst({ locale: 'en' } as never)) as unknown as { documentId: string };
  await homepage.update({
    documentId: home.documentId,
    locale: 'en',
    data: { headline: 'Changed headline', hero: gallery('Changed hero', newFile, place.documentId), featuredGuides: en([guide.documentId, guides[0].documentId]) },
  } as never);
  await homepage.publish({ documentId: home.documentId, locale: 'en' } as never);
  await homepage.update({ documentId: home.documentId, locale: 'de', data: { headline: 'Reisen' } } as never);

  const siteConfig = documents(UID.siteConfig);
  const config = (await siteConfig.findFirst({} as never)) as unknown as { documentId: string };
  await siteConfig.update({ documentId: config.documentId, data: { logo: newFile, defaultPlace: en(place.documentId), footer: [{ text: 'Changed footer', icon: otherNewFile }] } } as never);
};

/** The passphrase of the backups: with it, they hold admin users, tokens and the config store. */
const KEY = 'ownership-passphrase-7d2e';

/** Rows of every table of a dump, as `compareTables` takes them. */
const tablesOf = (dump: Dump) => new Map(Object.keys(dump).map((table) => [table, rowsOf(dump, table)]));

/** How often the rules above had something to check, over all the types (see the last test). */
const exercised = { dropped: 0, broughtBack: 0, kept: 0 };

describe(`ownership of a selective restore on the atlas app (${databaseClient})`, () => {
  let app: TestApp;
  let admin: Agent;
  let schema: Schema;
  let b0: { id: string; dump: Dump; uploads: Record<string, string> };
  let b1: { id: string; dump: Dump };

  /**
   * Runs a restore and waits for it. One that restores admin users ends every admin session
   * (the poll then answers 401): log in again and follow the job on.
   */
  const restore = async (backupId: string, body: object = {}): Promise<Job> => {
    const res = await admin.post(`/pacta-backup/backups/${backupId}/restore`, { confirm: true, ...body });
    if (res.status !== 202) throw new Error(`POST restore answered ${res.status}: ${res.text}`);
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await waitForJob(admin, res.body.data.id);
      } catch (error) {
        if (attempt > 0 || !/answered 401/.test((error as Error).message)) throw error;
        admin = await loginAsSuperAdmin(app.strapi);
      }
    }
  };

  beforeAll(async () => {
    app = await startApp({ app: 'atlas' });
    process.env.PACTA_BACKUP_KEY = KEY;
    await seed(app.strapi, { documents: 10, media: 5, seed: 9 });
    admin = await loginAsSuperAdmin(app.strapi);
    schema = readSchema(app.strapi);
    // Full backups of everything: content, media, admin users and tokens, the config store.
    const everything = { adminUsers: true, config: true };
    const first = await runJob(admin, '/pacta-backup/backups', { name: 'B0: seeded', ...everything });
    if (first.status !== 'succeeded') throw new Error(`B0 failed: ${JSON.stringify(first.error)}`);
    b0 = { id: first.backupId!, dump: await dumpDatabase(app.strapi), uploads: hashUploads(app.publicDir) };
    await changeEverything(app.strapi);
    const second = await runJob(admin, '/pacta-backup/backups', { name: 'B1: every type changed', ...everything });
    if (second.status !== 'succeeded') throw new Error(`B1 failed: ${JSON.stringify(second.error)}`);
    b1 = { id: second.backupId!, dump: await dumpDatabase(app.strapi) };
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('has the shapes the ownership rules are about, and every type changed between B0 and B1', () => {
    expect(
      Object.keys(app.strapi.contentTypes)
        .filter((uid) => uid.startsWith('api::') || uid === 'plugin::users-permissions.user')
        .sort()
    ).toEqual(CONTENT_TYPES);
    // Components three deep under a dynamic zone: guide → gallery → slide → caption (media + place).
    const guideComponents = walkComponents(schema, b0.dump, UID.guide).owned;
    expect(guideComponents.get('components_atlas_captions')?.size).toBeGreaterThan(0);
    // One file used by several types and components.
    const sharedBy = new Set(rowsOf(b0.dump, 'files_related_mph').filter((row) => String(row.file_id) === '1').map((row) => row.related_type));
    expect([...sharedBy].sort()).toEqual(expect.arrayContaining(['api::author.author', 'api::place.place', 'atlas.caption', 'api::site-config.site-config']));
    // Links of other types and components point at places (one-way and inverse sides).
    const intoPlaces = [...schema.links].filter(([, link]) => link.to.table === 'places' && link.declaredBy !== UID.place).map(([name]) => name);
    expect(intoPlaces.sort()).toEqual(
      expect.arrayContaining(['components_atlas_captions_place_lnk', 'components_atlas_stops_place_lnk', 'guides_many_way_lnk', 'guides_one_way_lnk', 'site_configs_default_place_lnk'])
    );
    for (const uid of CONTENT_TYPES) {
      const table = schema.tableOf.get(uid)!;
      expect({ uid, changed: JSON.stringify(b1.dump[table]) !== JSON.stringify(b0.dump[table]) }).toEqual({ uid, changed: true });
    }
  });

  it.each(CONTENT_TYPES)('a selective restore of %s from B0 replaces exactly the rows it owns', async (uid) => {
    const full = await restore(b1.id);
    if (full.error) throw new Error(`The full restore of B1 failed: ${full.error.message}`);
    const before = await dumpDatabase(app.strapi);

    const job: Job = await restore(b0.id, { contentTypes: [uid] });
    const after = await dumpDatabase(app.strapi);

    const table = schema.tableOf.get(uid)!;
    const mineAfter = ownership(schema, after, uid);
    const mineB0 = ownership(schema, b0.dump, uid);
    const mineBefore = ownership(schema, before, uid);
    const expectedDropped: Record<string, number> = {};
    const drop = (name: string, count: number) => {
      if (count) expectedDropped[name] = (expectedDropped[name] ?? 0) + count;
    };

    // (a) T's rows are B0's; B0's link rows whose other side is gone cannot come back.
    const ownedInB0 = new Map(mineB0.owned);
    for (const [name, rows] of ownedInB0) {
      const link = schema.links.get(name);
      if (!link) continue;
      const back = rows.filter((row) => [link.from, link.to].every((side) => idsOf(after, side.table).has(String(row[side.column]))));
      drop(name, rows.length - back.length);
      ownedInB0.set(name, back);
    }
    const owned = compareTables(mineAfter.owned, ownedInB0);

    // (i) Incoming links: those of T rows still here stay, those of T rows brought back return.
    const tBefore = idsOf(before, table);
    const tAfter = idsOf(after, table);
    const expectedIncoming = new Map<string, Row[]>();
    for (const [name, rows] of mineBefore.incoming) {
      const link = schema.links.get(name)!;
      const stay = rows.filter((row) => tAfter.has(String(row[link.to.column])));
      drop(name, rows.length - stay.length);
      const present = new Set(stay.map(keyOf));
      const back = (mineB0.incoming.get(name) ?? []).filter(
        (row) =>
          !tBefore.has(String(row[link.to.column])) &&
          tAfter.has(String(row[link.to.column])) &&
          idsOf(after, link.from.table).has(String(row[link.from.column])) &&
          !idsOf(before, name).has(String(row.id)) &&
          !present.has(keyOf(row))
      );
      expectedIncoming.set(name, [...stay, ...back]);
      exercised.broughtBack += back.length;
      exercised.kept += stay.length;
    }
    const incoming = compareTables(mineAfter.incoming, expectedIncoming);

    // (b) Everything else is `before`.
    const rest = (dump: Dump, mine: ReturnType<typeof ownership>, name: string) => {
      const taken = new Set([...(mine.owned.get(name) ?? []), ...(mine.incoming.get(name) ?? [])].map(keyOf));
      return rowsOf(dump, name).filter((row) => !taken.has(keyOf(row)));
    };
    const differences: Record<string, number> = {};
    for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (name === 'files') continue;
      const count = differingRows(rest(before, mineBefore, name), rest(after, mineAfter, name));
      if (count) differences[name] = count;
    }

    exercised.dropped += Object.values(expectedDropped).reduce((n, c) => n + c, 0);

    // (c) What the job reports.
    const reported: Record<string, number> = {};
    for (const link of ((job.result?.links ?? []) as LinkReport[])) {
      if (link.dropped + link.nulled) reported[link.table] = (reported[link.table] ?? 0) + link.dropped + link.nulled;
    }

    // `files` rows: another owner's files stay, and every file a row names is on disk.
    const afterFiles = idsOf(after, 'files');
    const linkedByOthers = new Set(rest(before, mineBefore, 'files_related_mph').map((row) => String(row.file_id)));
    const filesLost = [...linkedByOthers].filter((id) => !afterFiles.has(id)).sort();

    expect({
      error: job.error,
      owned,
      incoming,
      differences,
      reported,
      filesLost,
      missingOnDisk: await filesMissingOnDisk(app.strapi, app.publicDir),
    }).toEqual({ error: null, owned: {}, incoming: {}, differences: {}, reported: expectedDropped, filesLost: [], missingOnDisk: [] });
  });

  it('checked links of each kind: dropped and reported, kept, and brought back with their documents', () => {
    expect(exercised.dropped).toBeGreaterThan(0);
    expect(exercised.kept).toBeGreaterThan(0);
    expect(exercised.broughtBack).toBeGreaterThan(0);
  });

  it('a full restore of B0 brings back every table and exactly the uploads of B0 (no file missing, none left over)', async () => {
    // One more file, uploaded after both backups: not in B0, so it must not stay.
    await uploadMedia(app.strapi, { seed: 78, count: 1 });
    expect(hashUploads(app.publicDir)).not.toEqual(b0.uploads);

    // Everything, admin users and the config store included (B0 is sealed with this app's key).
    const job = await restore(b0.id, { adminUsers: true, config: true });
    expect(job.error).toBeNull();
    expect(compareTables(tablesOf(await dumpDatabase(app.strapi)), tablesOf(b0.dump))).toEqual({});
    const uploads = hashUploads(app.publicDir);
    const missing = Object.keys(b0.uploads).filter((name) => uploads[name] !== b0.uploads[name]);
    const leftover = Object.keys(uploads).filter((name) => !(name in b0.uploads));
    expect({ missing, leftover }).toEqual({ missing: [], leftover: [] });
  });
});
