'use strict';

/** @type {import('ts-jest').TsJestTransformerOptions} */
const tsJest = ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }];

const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.tsx?$': tsJest },
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/tests/app/dist/', '<rootDir>/tests/app/.strapi/', '<rootDir>/tests/app-atlas/dist/', '<rootDir>/tests/app-atlas/.strapi/'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/server/src/**/*.test.ts', '<rootDir>/tests/unit/**/*.test.ts'],
    },
    {
      ...common,
      // Each file boots a real Strapi of tests/app on a fresh database (TEST_DB picks which).
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/integration/**/*.test.api.ts'],
      setupFilesAfterEnv: ['<rootDir>/tests/helpers/jest-integration.ts'],
    },
    {
      ...common,
      // The admin panel in Debian's chromium, driven by playwright-core, against a booted app
      // whose admin panel was built (tests/run.js runs `strapi build` first).
      displayName: 'e2e',
      testMatch: ['<rootDir>/tests/e2e/**/*.e2e.ts'],
      setupFilesAfterEnv: ['<rootDir>/tests/helpers/jest-integration.ts'],
    },
  ],
};
