import fs from 'node:fs';
import path from 'node:path';

import en from '../../admin/src/translations/en.json';
import es from '../../admin/src/translations/es.json';
import { ALERT_TYPES } from '../../server/src/services/monitoring';

const adminSrc = path.join(__dirname, '..', '..', 'admin', 'src');

const sourceFiles = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(entry.name) ? [full] : [];
  });

/** Every `getTranslation('…')` id the admin panel uses. */
const usedIds = () =>
  [
    ...new Set(
      sourceFiles(adminSrc).flatMap((file) =>
        // getTranslation('id') and the pages' t('id', 'default') helper
        [...fs.readFileSync(file, 'utf8').matchAll(/(?:getTranslation|\bt)\(\s*'([^']+)'/g)].map((m) => m[1])
      )
    ),
  ].sort();

/** Words that are the same in Spanish. */
const SAME_IN_BOTH = ['kind.manual', 'no'];

describe('admin translations', () => {
  it('translates every value of the dynamic ids (job phases, backup kinds, compression levels)', () => {
    const dynamic = [
      ...['starting', 'validate', 'snapshot', 'rows', 'media', 'verify', 'safety-backup', 'offsite', 'fetch', 'drill', 'done', 'failed'].map((p) => `phase.${p}`),
      ...['manual', 'scheduled', 'safety'].map((k) => `kind.${k}`),
      ...['none', 'fast', 'best'].map((c) => `compression.${c}`),
      ...ALERT_TYPES.map((a) => `alert.${a}`),
      ...['backup', 'verify', 'restore', 'drill'].map((j) => `job.${j}`),
      ...['manual', 'scheduled', 'cli'].map((tr) => `trigger.${tr}`),
      ...['queued', 'running', 'succeeded', 'warning', 'failed', 'interrupted', 'skipped'].map((st) => `status.${st}`),
    ];
    expect(dynamic.filter((id) => !(id in en) || !(id in es))).toEqual([]);
  });

  it('English and Spanish have the same keys', () => {
    expect(Object.keys(es).sort()).toEqual(Object.keys(en).sort());
  });

  it('every id used by the admin panel is translated in both languages', () => {
    const ids = usedIds();
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.filter((id) => !(id in en))).toEqual([]);
    expect(ids.filter((id) => !(id in es))).toEqual([]);
  });

  it('no Spanish string is left in English', () => {
    const untranslated = Object.keys(en).filter(
      (key) => (es as Record<string, string>)[key] === (en as Record<string, string>)[key] && !SAME_IN_BOTH.includes(key)
    );
    expect(untranslated).toEqual([]);
  });
});
