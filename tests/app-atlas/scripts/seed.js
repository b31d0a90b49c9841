'use strict';

/**
 * The deterministic seeder of the atlas app (tests/app-atlas).
 *
 * seed(strapi, { documents, media, seed }) fills an EMPTY database with, for `documents` = N:
 *   - `media` uploaded files (PNG images and PDFs with real bytes, tests/app's generator); file 0
 *     is shared: place covers, author avatars, captions (three components deep), guide covers,
 *     category icons and the site config's logo all use it;
 *   - N users-permissions users, N categories, N authors (each with an account), N places (a
 *     tree through parent; English and mostly French; drafts, published, published with a newer
 *     draft; highlights → caption with image and place), then each author's favourite place
 *     (author.favoritePlace ↔ place.curator is a circle), N guides (localized, drafts, a dynamic
 *     zone gallery → slides → caption, one-way relations oneWay / manyWay), N reviews, N trips
 *     (stops → tips), the homepage single type (localized, drafts) and the site config.
 * Everything but documentIds, row ids, timestamps and password hashes is a function of `seed`:
 * every random choice goes through createRandom(seed, kind, index).
 *
 *   node tests/app-atlas/scripts/seed.js [documents] [media] [seed]   seeds the app's own database
 */
const { createRandom } = require('../../app/scripts/seed/random');
const { uploadMedia } = require('../../app/scripts/seed/media');

const UID = {
  user: 'plugin::users-permissions.user',
  category: 'api::category.category',
  author: 'api::author.author',
  place: 'api::place.place',
  guide: 'api::guide.guide',
  review: 'api::review.review',
  trip: 'api::trip.trip',
  homepage: 'api::homepage.homepage',
  siteConfig: 'api::site-config.site-config',
};

const WORDS = ['north', 'lake', 'old', 'harbour', 'stone', 'garden', 'river', 'bright', 'hill', 'market', 'quiet', 'tower'];
const CATEGORIES = ['Museum', 'Beach', 'Viewpoint', 'Market', 'Park', 'Temple', 'Bridge', 'Castle', 'Cave', 'Island'];

const words = (random, n) => Array.from({ length: n }, () => random.pick(WORDS)).join(' ');
const title = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * A relation to documents of a localized type (places, guides) in `locale`. From a localized
 * type Strapi links the version in the locale being written (so a French version links only
 * places that have a French version); from another type the locale must be named.
 * @param {string|string[]|null} documentIds
 */
const en = (documentIds, locale = 'en') =>
  documentIds === null ? null : { set: [].concat(documentIds).map((documentId) => ({ documentId, locale })) };

/** Creates the French locale (English is Strapi's default) when it does not exist. */
const ensureLocale = async (strapi, code, name) => {
  const locales = strapi.plugin('i18n').service('locales');
  if (!(await locales.findByCode(code))) await locales.create({ code, name });
};

/**
 * A caption (the third level under a dynamic zone gallery): text, an image, a place (one with a
 * version in the caption's locale).
 */
const caption = (random, context, label, locale = 'en') => {
  const places = locale === 'en' ? context.places : context.frenchPlaces;
  return {
    text: `${title(words(random, 2))} ${label}`,
    image: random.chance(0.5) ? context.files[0] : random.pick(context.files),
    place: places.length && random.chance(0.8) ? en(random.pick(places), locale) : null,
  };
};

const gallery = (random, context, label, locale = 'en') => ({
  __component: 'atlas.gallery',
  name: `${title(words(random, 2))} gallery ${label}`,
  slides: Array.from({ length: random.int(1, 3) }, (_, i) => ({
    title: title(words(random, 2)),
    position: i + 1,
    caption: caption(random, context, `${label}.${i + 1}`, locale),
  })),
});

const tip = (random, context) => ({ text: `Tip: ${words(random, 5)}`, icon: random.chance(0.5) ? random.pick(context.images) : null });

/**
 * @param {import('@strapi/strapi').Core.Strapi} strapi a loaded Strapi of the atlas app
 * @param {{ documents?: number, media?: number, seed?: number }} [options]
 * @returns {Promise<Record<string, number>>} documents created per kind, and files uploaded
 */
const seed = async (strapi, options = {}) => {
  const { documents: count = 10, media = 5, seed: seedNumber = 1 } = options;
  for (const [name, value] of Object.entries({ documents: count, media, seed: seedNumber })) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
  }
  if (media < 2) throw new Error('media must be at least 2 (file 0 is the shared one)');
  if ((await strapi.db.query(UID.place).count()) > 0) {
    throw new Error('The database already has places: the seeder only fills an empty database.');
  }
  await ensureLocale(strapi, 'fr', 'French (fr)');
  const rnd = (kind, index = 0) => createRandom(seedNumber, kind, index);
  const range = [...Array(count).keys()];

  const files = await uploadMedia(strapi, { seed: seedNumber, count: media });
  const context = {
    files: files.map((file) => file.id),
    images: files.filter((file) => file.mime.startsWith('image/')).map((file) => file.id),
    places: [],
    frenchPlaces: [],
  };

  const authenticated = await strapi.db.query('plugin::users-permissions.role').findOne({ where: { type: 'authenticated' } });
  const users = [];
  for (const i of range) {
    const random = rnd('user', i);
    const user = await strapi.documents(UID.user).create({
      data: {
        username: `traveller${i + 1}`,
        email: `traveller${i + 1}@atlas.test`,
        password: `Atlas-${random.int(100000, 999999)}`,
        provider: 'local',
        confirmed: true,
        blocked: random.chance(0.1),
        role: authenticated.id,
      },
    });
    users.push(user.documentId);
  }

  const categories = [];
  for (const i of range) {
    const random = rnd('category', i);
    const doc = await strapi.documents(UID.category).create({
      data: { name: `${CATEGORIES[i % CATEGORIES.length]} ${i + 1}`, icon: random.chance(0.5) ? context.files[0] : random.pick(context.images) },
    });
    categories.push(doc.documentId);
  }

  const authors = [];
  for (const i of range) {
    const random = rnd('author', i);
    const doc = await strapi.documents(UID.author).create({
      data: {
        name: `${title(words(random, 1))} Writer ${i + 1}`,
        bio: words(random, 8),
        avatar: i % 3 === 0 ? context.files[0] : random.pick(context.images),
        account: users[i],
      },
    });
    authors.push(doc.documentId);
  }

  // Places: each may have an earlier place as parent; English first, French for most.
  const places = context.places;
  const placeService = strapi.documents(UID.place);
  for (const i of range) {
    const random = rnd('place', i);
    const data = {
      name: title(words(random, 2)),
      slug: `place-${i + 1}`,
      description: words(random, 10),
      altitude: random.int(0, 4000),
      cover: i % 2 === 0 ? context.files[0] : random.pick(context.files),
      photos: random.sample(context.files, random.int(0, 3)),
      highlights: Array.from({ length: random.int(0, 2) }, (_, h) => ({
        label: `Highlight ${h + 1}`,
        caption: caption(random, context, `of place ${i + 1}`),
      })),
      parent: places.length && random.chance(0.7) ? en(random.pick(places)) : null,
      curator: random.pick(authors),
      categories: random.sample(categories, random.int(0, 2)),
    };
    const doc = await placeService.create({ locale: 'en', data });
    const state = i % 5 === 4 ? 'draft' : 'published';
    if (random.chance(0.7)) {
      await placeService.update({
        documentId: doc.documentId,
        locale: 'fr',
        data: { name: `${data.name} (fr)`, description: `FR ${words(random, 6)}`, highlights: [{ label: 'Point fort', caption: caption(random, context, 'fr', 'fr') }] },
      });
      if (state === 'published') await placeService.publish({ documentId: doc.documentId, locale: 'fr' });
      context.frenchPlaces.push(doc.documentId);
    }
    if (state === 'published') await placeService.publish({ documentId: doc.documentId, locale: 'en' });
    if (i % 5 === 1) await placeService.update({ documentId: doc.documentId, locale: 'en', data: { description: `Newer draft: ${words(random, 4)}` } });
    places.push(doc.documentId);
  }

  // Closes the circle: author.favoritePlace → place, place.curator → author.
  for (const i of range) {
    const random = rnd('favorite', i);
    if (random.chance(0.8)) await strapi.documents(UID.author).update({ documentId: authors[i], data: { favoritePlace: en(random.pick(places)) } });
  }

  const guides = [];
  for (const i of range) {
    const random = rnd('guide', i);
    const service = strapi.documents(UID.guide);
    const doc = await service.create({
      locale: 'en',
      data: {
        title: `${title(words(random, 3))} guide`,
        code: `G-${String(i + 1).padStart(3, '0')}`,
        cover: i % 2 === 1 ? context.files[0] : random.pick(context.files),
        body: [gallery(random, context, `${i + 1}a`), { __component: 'atlas.tip', ...tip(random, context) }, ...(random.chance(0.5) ? [gallery(random, context, `${i + 1}b`)] : [])],
        author: random.pick(authors),
        oneWay: en(random.pick(places)),
        manyWay: en(random.sample(places, random.int(1, 3))),
      },
    });
    if (random.chance(0.6)) {
      await service.update({ documentId: doc.documentId, locale: 'fr', data: { title: `Guide ${words(random, 2)}`, body: [gallery(random, context, `${i + 1}fr`, 'fr')] } });
      if (i % 4 !== 3) await service.publish({ documentId: doc.documentId, locale: 'fr' });
    }
    if (i % 4 !== 3) await service.publish({ documentId: doc.documentId, locale: 'en' });
    guides.push(doc.documentId);
  }

  const reviews = [];
  for (const i of range) {
    const random = rnd('review', i);
    const doc = await strapi.documents(UID.review).create({
      data: {
        rating: random.int(1, 5),
        text: words(random, 12),
        photos: random.sample(context.images, random.int(0, 2)),
        place: en(random.pick(places)),
        reviewer: random.pick(authors),
      },
    });
    if (i % 3 !== 2) await strapi.documents(UID.review).publish({ documentId: doc.documentId });
    reviews.push(doc.documentId);
  }

  const trips = [];
  for (const i of range) {
    const random = rnd('trip', i);
    const doc = await strapi.documents(UID.trip).create({
      data: {
        name: `Trip ${i + 1}: ${words(random, 2)}`,
        startsOn: `2027-0${random.int(1, 9)}-1${random.int(0, 9)}`,
        budget: random.int(100, 5000) + 0.5,
        stops: Array.from({ length: random.int(1, 3) }, (_, s) => ({
          day: s + 1,
          place: en(random.pick(places)),
          tips: Array.from({ length: random.int(0, 2) }, () => tip(random, context)),
        })),
        guide: en(random.pick(guides)),
        organizer: random.pick(users),
      },
    });
    if (i % 2 === 0) await strapi.documents(UID.trip).publish({ documentId: doc.documentId });
    trips.push(doc.documentId);
  }

  const random = rnd('singles');
  const homepage = strapi.documents(UID.homepage);
  const home = await homepage.create({
    locale: 'en',
    data: { headline: 'Travel the atlas', hero: gallery(random, context, 'hero'), featuredGuides: en(random.sample(guides, 2)) },
  });
  await homepage.update({ documentId: home.documentId, locale: 'fr', data: { headline: "Voyagez dans l'atlas", hero: gallery(random, context, 'hero fr', 'fr') } });
  await homepage.publish({ documentId: home.documentId, locale: 'en' });
  await strapi.documents(UID.siteConfig).create({
    data: { siteName: 'Atlas', logo: context.files[0], defaultPlace: en(places[0]), footer: [tip(random, context), tip(random, context)] },
  });

  return {
    users: users.length,
    categories: categories.length,
    authors: authors.length,
    places: places.length,
    guides: guides.length,
    reviews: reviews.length,
    trips: trips.length,
    files: files.length,
  };
};

module.exports = { UID, en, seed };

if (require.main === module) {
  const { bootApp } = require('./boot');
  const [documents = 10, media = 5, seedNumber = 1] = process.argv.slice(2).map(Number);
  bootApp()
    .then(async (strapi) => {
      try {
        console.log(await seed(strapi, { documents, media, seed: seedNumber }));
      } finally {
        await strapi.destroy();
      }
    })
    .catch((error) => {
      console.error(error);
      process.exitCode = 1;
    });
}
