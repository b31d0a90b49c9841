import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runnableDir } from '../boot';

/** A TypeScript app laid out as Strapi's: tsconfig.json, src/, config/, and its compiled dist/. */
const makeApp = (tsconfig: unknown = { compilerOptions: { outDir: 'dist' } }) => {
  const app = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-boot-'));
  const write = (relative: string, text: string, secondsAgo: number) => {
    const file = path.join(app, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    const time = new Date(Date.now() - secondsAgo * 1000);
    fs.utimesSync(file, time, time);
  };
  write('tsconfig.json', typeof tsconfig === 'string' ? tsconfig : JSON.stringify(tsconfig), 100);
  write('src/index.ts', 'export default {};', 100);
  write('config/server.ts', 'export default {};', 100);
  write('dist/src/index.js', '', 50);
  write('dist/config/server.js', '', 50);
  return { app, write };
};

describe('runnableDir: the CLI compiles a TypeScript app only when a source is newer than its dist/', () => {
  const apps: string[] = [];
  const app = (tsconfig?: unknown) => {
    const made = makeApp(tsconfig);
    apps.push(made.app);
    return made;
  };
  afterAll(() => apps.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  it('runs a JavaScript app from its own folder', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacta-boot-js-'));
    apps.push(dir);
    expect(runnableDir(dir)).toBe(dir);
  });

  it('runs an up-to-date TypeScript app from its dist/ folder', () => {
    const { app: dir } = app();
    expect(runnableDir(dir)).toBe(path.join(dir, 'dist'));
  });

  it('reads the output folder from tsconfig.json', () => {
    const { app: dir, write } = app({ compilerOptions: { outDir: 'build' } });
    expect(runnableDir(dir)).toBeNull();
    write('build/config/server.js', '', 10);
    expect(runnableDir(dir)).toBe(path.join(dir, 'build'));
  });

  it('compiles when a source, a config file or tsconfig.json changed after the build', () => {
    for (const changed of ['src/api/contract/routes.ts', 'config/plugins.ts', 'tsconfig.json']) {
      const { app: dir, write } = app();
      write(changed, '{}', 0);
      expect({ changed, dir: runnableDir(dir) }).toEqual({ changed, dir: null });
    }
  });

  it('compiles when there is no dist/ yet, or when tsconfig.json cannot be read as plain JSON', () => {
    const { app: dir } = app();
    fs.rmSync(path.join(dir, 'dist'), { recursive: true });
    expect(runnableDir(dir)).toBeNull();
    expect(runnableDir(app('{ // a comment\n "compilerOptions": {} }').app)).toBeNull();
    expect(runnableDir(app({ extends: '@strapi/typescript-utils/tsconfigs/server' }).app)).toBeNull();
  });
});
