import { ALERT_TYPES } from '../../services/monitoring';
import { fill, MESSAGES, notificationLanguage, placeholders, type Catalogue } from '../messages';
import { NOTIFICATION_EVENTS, NOTIFICATION_LANGUAGES } from '../types';

/** Every string of a catalogue with its dotted path. */
const strings = (value: unknown, prefix = ''): Array<[string, string]> =>
  typeof value === 'string'
    ? [[prefix, value]]
    : Object.entries(value as Record<string, unknown>).flatMap(([key, inner]) => strings(inner, prefix ? `${prefix}.${key}` : key));

const keysOf = (catalogue: Catalogue) => strings(catalogue).map(([path]) => path);

/** The placeholders each kind of text may use (what the renderer gives it). */
const ALLOWED: Array<[RegExp, string[]]> = [
  [/^events\..+\.(subject|lead)$/, ['app', 'backup', 'alert', 'error']],
  [/^labels\.log$/, ['count']],
  [/^labels\.footer$/, ['app', 'instance']],
  [/^digest\.subject$/, ['app', 'date']],
  [/^digest\.subjectFailures$/, ['app', 'date', 'count']],
  [/^digest\.lead$/, ['app', 'since', 'until']],
  [/^digest\.countLine$/, ['type', 'counts']],
];

describe('e-mail messages', () => {
  it('has a subject and a lead for every event in both languages', () => {
    for (const language of NOTIFICATION_LANGUAGES) {
      expect(Object.keys(MESSAGES[language].events).sort()).toEqual([...NOTIFICATION_EVENTS].sort());
      for (const event of NOTIFICATION_EVENTS) {
        expect(MESSAGES[language].events[event].subject).toMatch(/^\[\{app\}\] \S/);
        expect(MESSAGES[language].events[event].lead.length).toBeGreaterThan(10);
      }
      expect(Object.keys(MESSAGES[language].alerts).sort()).toEqual([...ALERT_TYPES].sort());
    }
  });

  it('has the same texts in Spanish as in English, each one translated', () => {
    expect(keysOf(MESSAGES.es)).toEqual(keysOf(MESSAGES.en));
    const en = new Map(strings(MESSAGES.en));
    // Words that are the same in both languages.
    const same = new Set(['labels.error', 'severities.error', 'digest.countLine']);
    for (const [path, text] of strings(MESSAGES.es)) {
      expect(text.trim()).not.toBe('');
      if (!same.has(path)) expect([path, text]).not.toEqual([path, en.get(path)]);
      // The same placeholders as the English text: a translation does not drop a value.
      expect([path, placeholders(text).sort()]).toEqual([path, placeholders(en.get(path) as string).sort()]);
    }
    expect(MESSAGES.es.events['backup.failed'].subject).toBe('[{app}] La copia de seguridad ha fallado');
    expect(MESSAGES.es.events['drill.failed'].lead).toContain('simulacro de restauración');
  });

  it('uses only the placeholders the renderer fills, and fill() fills them all', () => {
    const values = { app: 'PACTA', backup: 'nightly', alert: 'Low space', error: 'disk full', count: 3, instance: 'web-1', date: '30 Nov', since: 'a', until: 'b', type: 'Backup', counts: 'Failed 1' };
    for (const language of NOTIFICATION_LANGUAGES) {
      for (const [path, text] of strings(MESSAGES[language])) {
        const allowed = ALLOWED.find(([pattern]) => pattern.test(path))?.[1] ?? [];
        for (const name of placeholders(text)) expect([language, path, name, allowed.includes(name)]).toEqual([language, path, name, true]);
        const filled = fill(text, values);
        expect(filled).not.toMatch(/[{}]/);
      }
    }
    expect(fill(MESSAGES.es.events['backup.warning'].subject, values)).toBe('[PACTA] Copia de seguridad completada con avisos: nightly');
    expect(fill(MESSAGES.en.labels.log, { count: 20 })).toBe('Log (last 20 lines)');
  });

  it('refuses to fill a template with a missing value', () => {
    expect(() => fill('[{app}] Backup completed: {backup}', { app: 'PACTA' })).toThrow('needs a value for {backup}');
    expect(fill('{app} {app}', { app: 'x' })).toBe('x x');
  });

  it("takes an admin's interface language: any Spanish is Spanish, any other choice English, none the fallback", () => {
    expect(notificationLanguage('es', 'en')).toBe('es');
    expect(notificationLanguage('es-MX', 'en')).toBe('es');
    expect(notificationLanguage('ES_es', 'en')).toBe('es');
    expect(notificationLanguage('en', 'es')).toBe('en');
    expect(notificationLanguage('fr', 'es')).toBe('en');
    expect(notificationLanguage(null, 'es')).toBe('es');
    expect(notificationLanguage(undefined, 'en')).toBe('en');
    expect(notificationLanguage('', 'es')).toBe('es');
  });
});
