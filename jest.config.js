// SPDX-License-Identifier: Apache-2.0
/**
 * Jest runs every workspace's tests; TypeScript is transpiled by ts-jest (type checking is `npm run build`).
 * The Kibana plugin has its own tsconfig (JSX, DOM); its component tests pick the jsdom environment with a
 * `@jest-environment jsdom` docblock, everything else runs in node. ts-jest keeps the compiler options of
 * whichever transform loads first in a process, so both tsconfigs set `jsx: react` (the collector's has no
 * JSX of its own; without it a .tsx test fails when run in the same process as collector code).
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/collector/test', '<rootDir>/kibana-plugin/test'],
  testMatch: ['**/*.test.ts', '**/*.test.tsx'],
  transform: {
    '^.+/kibana-plugin/.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/kibana-plugin/tsconfig.test.json' }],
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/collector/tsconfig.test.json' }],
  },
  globalSetup: '<rootDir>/collector/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/collector/test/helpers/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
