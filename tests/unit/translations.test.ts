import fs from 'node:fs';
import path from 'node:path';

import en from '../../admin/src/translations/en.json';
import es from '../../admin/src/translations/es.json';

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
        [...fs.readFileSync(file, 'utf8').matchAll(/getTranslation\(\s*'([^']+)'/g)].map((m) => m[1])
      )
    ),
  ].sort();

describe('admin translations', () => {
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
      (key) => (es as Record<string, string>)[key] === (en as Record<string, string>)[key]
    );
    expect(untranslated).toEqual([]);
  });
});
