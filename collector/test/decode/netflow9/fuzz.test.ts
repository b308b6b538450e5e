// SPDX-License-Identifier: Apache-2.0
/** Hostile input for the NetFlow v9 decoder (see templates/fuzz.ts). */
import '../registry/ensure-generated';
import { fuzzSuite } from '../templates/fuzz';

fuzzSuite('netflow9');
