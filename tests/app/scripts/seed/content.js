'use strict';

/**
 * Content generators: pure functions from (seed, index) to the data of one document, in the
 * shape the document service takes. References to other documents and to media files are
 * indexes (supplier #3, media file #0); the writers turn them into documentIds and file ids.
 * Every document draws from its own random stream, so contract #7 is the same whether 10 or
 * 50,000 contracts are generated.
 */
const { createRandom } = require('./random');

/** English and Spanish wording side by side: index i of `en` translates index i of `es`. */
const WORDS = {
  subjects: {
    en: ['office supplies', 'cloud hosting', 'cleaning services', 'legal advice', 'fleet maintenance',
      'catering', 'security services', 'software licences', 'printing', 'logistics', 'consulting', 'training'],
    es: ['material de oficina', 'alojamiento en la nube', 'servicios de limpieza', 'asesoría jurídica',
      'mantenimiento de flota', 'catering', 'servicios de seguridad', 'licencias de software', 'impresión',
      'logística', 'consultoría', 'formación'],
  },
  kinds: {
    en: ['Framework agreement for', 'Service contract for', 'Purchase order of', 'Maintenance contract for', 'Supply of'],
    es: ['Acuerdo marco de', 'Contrato de servicios de', 'Orden de compra de', 'Contrato de mantenimiento de', 'Suministro de'],
  },
  clauses: {
    en: ['Scope', 'Term', 'Payment', 'Confidentiality', 'Liability', 'Termination', 'Data protection', 'Jurisdiction'],
    es: ['Objeto', 'Plazo', 'Pago', 'Confidencialidad', 'Responsabilidad', 'Resolución', 'Protección de datos', 'Jurisdicción'],
  },
  sentences: {
    en: ['The supplier shall deliver the agreed services on time.', 'Invoices are payable within thirty days.',
      'Either party may terminate this agreement with written notice.', 'All information exchanged remains confidential.',
      'Prices are fixed for the whole term of the contract.', 'Disputes are settled by the courts of the buyer.'],
    es: ['El proveedor entregará los servicios acordados a tiempo.', 'Las facturas se pagan en un plazo de treinta días.',
      'Cualquiera de las partes puede resolver este acuerdo con preaviso escrito.', 'Toda la información intercambiada es confidencial.',
      'Los precios son fijos durante toda la vigencia del contrato.', 'Las disputas se resuelven ante los tribunales del comprador.'],
  },
  milestones: {
    en: ['Kick-off', 'First delivery', 'Acceptance', 'Final payment'],
    es: ['Inicio', 'Primera entrega', 'Aceptación', 'Pago final'],
  },
  penalties: {
    en: ['Late delivery', 'Service level not met', 'Breach of confidentiality'],
    es: ['Entrega tardía', 'Nivel de servicio incumplido', 'Incumplimiento de confidencialidad'],
  },
  revised: { en: '(revised)', es: '(revisado)' },
};

const COMPANY = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Stark', 'Wayne', 'Tyrell', 'Soylent',
  'Cyberdyne', 'Wonka', 'Aperture', 'Gringotts', 'Monarch', 'Oscorp'];
const COMPANY_SUFFIX = ['S.A.', 'S.L.', 'Ltd', 'GmbH', 'Inc.', 'SAS'];
const COUNTRIES = ['ES', 'MX', 'CO', 'US', 'DE', 'FR', 'AR', 'CL'];
const TAGS = ['urgent', 'it', 'facilities', 'legal', 'finance', 'hr', 'marketing', 'public-sector', 'framework',
  'renewable', 'high-value', 'audit', 'gdpr', 'critical', 'low-risk', 'strategic'];
const TAG_COLOURS = ['#d02b20', '#328048', '#0c75af', '#ee5e52', '#7b79ff', '#f29d41', '#4945ff', '#32324d'];
const DEPARTMENTS = ['Procurement', 'Legal', 'Finance', 'Operations', 'IT', 'Human Resources', 'Marketing', 'Facilities'];
const STATUSES = ['negotiation', 'active', 'suspended', 'expired', 'terminated'];
const CURRENCIES = ['EUR', 'USD', 'MXN', 'COP'];
const LOCALES = ['en', 'es'];

/** 2020-01-01 plus `days`, as YYYY-MM-DD. */
const day = (days) => new Date(Date.UTC(2020, 0, 1) + days * 86400000).toISOString().slice(0, 10);
const money = (random, max) => random.int(100, max * 100) / 100;

/** How many suppliers, tags and departments go with `documents` contracts. */
const countsFor = (documents) => ({
  suppliers: Math.max(3, Math.ceil(documents / 20)),
  tags: Math.min(64, 8 + Math.ceil(documents / 500)),
  departments: Math.min(40, 4 + Math.ceil(documents / 1000)),
});

/** A name from `list`, made unique past the end of the list by a number. */
const uniqueName = (list, index) => {
  const round = Math.floor(index / list.length);
  return round === 0 ? list[index % list.length] : `${list[index % list.length]}-${round + 1}`;
};

/**
 * @param {{ seed: number, images: number[] }} context images: indexes of the image media files
 */
const supplier = ({ seed, images }, index) => {
  const random = createRandom(seed, 'supplier', index);
  const name = `${random.pick(COMPANY)} ${random.pick(COMPANY_SUFFIX)} #${index + 1}`;
  return {
    name,
    taxId: `TX-${seed}-${String(index + 1).padStart(6, '0')}`,
    email: `contact${index + 1}@supplier${random.int(1, 99)}.example`,
    phone: `+34 6${String(random.int(0, 99999999)).padStart(8, '0')}`,
    country: random.pick(COUNTRIES),
    bankAccount: `ES${String(random.int(10, 99))}${String(random.int(0, 1e9)).padStart(10, '0')}${String(random.int(0, 1e9)).padStart(10, '0')}`,
    rating: random.int(0, 5),
    logo: images.length > 0 && random.chance(0.5) ? { media: random.pick(images) } : null,
  };
};

const tag = ({ seed }, index) => {
  const random = createRandom(seed, 'tag', index);
  return { name: uniqueName(TAGS, index), color: random.pick(TAG_COLOURS) };
};

/** Departments form a forest: the first few are roots, later ones hang under an earlier one. */
const department = ({ seed }, index) => {
  const random = createRandom(seed, 'department', index);
  return {
    name: uniqueName(DEPARTMENTS, index),
    code: `D${String(index + 1).padStart(3, '0')}`,
    parent: index < 3 ? null : { department: random.int(0, index - 1) },
  };
};

const settings = ({ seed, images }) => {
  const random = createRandom(seed, 'settings');
  return {
    shared: {
      companyName: `PACTA Seed ${seed}`,
      defaultCurrency: random.pick(CURRENCIES),
      renewalNoticeDays: random.int(15, 90),
      logo: images.length > 0 ? { media: random.pick(images) } : null,
    },
    locales: {
      en: { footer: `Contract registry generated from seed ${seed}.` },
      es: { footer: `Registro de contratos generado con la semilla ${seed}.` },
    },
  };
};

const paragraph = (text) => ({ type: 'paragraph', children: [{ type: 'text', text }] });

/**
 * The words used by both locales of a contract are chosen once; each locale then renders them
 * in its language, so the Spanish version is a translation of the English one.
 */
const contract = (context, index) => {
  const { seed, media, counts } = context;
  const random = createRandom(seed, 'contract', index);
  const subject = random.int(0, WORDS.subjects.en.length - 1);
  const kind = random.int(0, WORDS.kinds.en.length - 1);
  const sentences = random.sample([...WORDS.sentences.en.keys()], random.int(1, 3));
  const start = random.int(0, 5 * 365);
  const amount = money(random, 2000000);
  const clauses = Array.from({ length: random.int(2, 4) }, () => ({
    heading: random.int(0, WORDS.clauses.en.length - 1),
    body: random.int(0, WORDS.sentences.en.length - 1),
    mandatory: random.chance(0.5),
    annex: media > 0 && random.chance(0.3) ? { media: random.int(0, media - 1) } : null,
    counterparty: random.chance(0.7) ? { supplier: random.int(0, counts.suppliers - 1) } : null,
  }));
  const sections = Array.from({ length: random.int(0, 3) }, (_, position) =>
    random.chance(0.6)
      ? { kind: 'milestone', label: random.int(0, WORDS.milestones.en.length - 1), dueDate: day(start + 30 * (position + 1)),
        amount: money(random, 100000), done: random.chance(0.4) }
      : { kind: 'penalty', reason: random.int(0, WORDS.penalties.en.length - 1), percentage: random.int(1, 2500) / 100 });

  /** Publication state per locale: draft only, published, or published with a newer draft. */
  const enState = random.chance(0.15) ? 'draft' : random.chance(0.8) ? 'published' : 'modified';
  const hasSpanish = random.chance(0.8);
  const esState = enState === 'draft' || random.chance(0.15) ? 'draft' : enState;

  const localized = (locale) => ({
    title: `${WORDS.kinds[locale][kind]} ${WORDS.subjects[locale][subject]} ${index + 1}`,
    summary: sentences.map((s) => paragraph(WORDS.sentences[locale][s])),
    notes: `## ${WORDS.clauses[locale][0]}\n\n${sentences.map((s) => `- ${WORDS.sentences[locale][s]}`).join('\n')}\n`,
    clauses: clauses.map((c) => ({
      heading: WORDS.clauses[locale][c.heading],
      body: WORDS.sentences[locale][c.body],
      mandatory: c.mandatory,
      annex: c.annex,
      counterparty: c.counterparty,
    })),
    sections: sections.map((s) =>
      s.kind === 'milestone'
        ? { __component: 'contract.milestone', label: WORDS.milestones[locale][s.label], dueDate: s.dueDate, amount: s.amount, done: s.done }
        : { __component: 'contract.penalty', reason: WORDS.penalties[locale][s.reason], percentage: s.percentage }),
  });
  const revision = (locale, data) => ({ title: `${data.title} ${WORDS.revised[locale]}`, notes: `${data.notes}\n${WORDS.revised[locale]}\n` });

  // Every 7th contract renews the one three places before it (a oneToOne needs distinct
  // targets), in each locale that both versions have.
  const renewed = index % 7 === 6 ? index - 3 : null;
  const renewedLocales = renewed === null ? [] : Object.keys(contract(context, renewed).locales);

  const locales = {};
  for (const [locale, state] of [['en', enState], ...(hasSpanish ? [['es', esState]] : [])]) {
    const data = localized(locale);
    data.renewalOf = renewedLocales.includes(locale) ? { contract: renewed } : null;
    locales[locale] = { state, data, revision: state === 'modified' ? revision(locale, data) : null };
  }

  return {
    number: `PC-${seed}-${String(index + 1).padStart(6, '0')}`,
    shared: {
      contractStatus: random.pick(STATUSES),
      amount,
      currency: random.pick(CURRENCIES),
      startDate: day(start),
      endDate: day(start + random.int(90, 3 * 365)),
      signedAt: new Date(Date.UTC(2020, 0, 1) + (start - random.int(1, 60)) * 86400000 + random.int(0, 86399) * 1000).toISOString(),
      autoRenew: random.chance(0.3),
      metadata: { source: 'seed', seed, index, priority: random.int(1, 5), reviewers: random.sample(['ana', 'luis', 'marta', 'john', 'kate'], random.int(0, 3)) },
      document: media > 0 && random.chance(0.7) ? { media: random.int(0, media - 1) } : null,
      attachments: media > 0 ? random.sample([...Array(media).keys()], random.int(0, 3)).map((m) => ({ media: m })) : [],
    },
    relations: {
      supplier: { supplier: random.int(0, counts.suppliers - 1) },
      tags: random.sample([...Array(counts.tags).keys()], random.int(0, 4)).map((t) => ({ tag: t })),
      department: random.chance(0.9) ? { department: random.int(0, counts.departments - 1) } : null,
    },
    locales,
  };
};

module.exports = { LOCALES, countsFor, supplier, tag, department, settings, contract };
