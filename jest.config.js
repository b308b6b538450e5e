// SPDX-License-Identifier: Apache-2.0
/** Jest runs every workspace's tests; TypeScript is transpiled by ts-jest (type checking is `npm run build`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/collector/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/collector/tsconfig.test.json' }],
  },
  globalSetup: '<rootDir>/collector/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/collector/test/helpers/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
