// SPDX-License-Identifier: Apache-2.0
export * from './constants';
export * from './types';
export * from './validate';
export * from './launch_url';
export * from './links';
