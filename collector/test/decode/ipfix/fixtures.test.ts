// SPDX-License-Identifier: Apache-2.0
/** The IPFIX captures shipped in collector/test/fixtures/ipfix (see templates/fixtures.ts). */
import '../registry/ensure-generated';
import { fixtureSuite } from '../templates/fixtures';

fixtureSuite('ipfix');
