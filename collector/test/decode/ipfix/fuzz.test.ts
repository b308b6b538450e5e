// SPDX-License-Identifier: Apache-2.0
/** Hostile input for the IPFIX decoder (see templates/fuzz.ts). */
import '../registry/ensure-generated';
import { fuzzSuite } from '../templates/fuzz';

fuzzSuite('ipfix');
