// SPDX-License-Identifier: Apache-2.0
/** The NetFlow v9 captures shipped in collector/test/fixtures/netflow9 (see templates/fixtures.ts). */
import '../registry/ensure-generated';
import { fixtureSuite } from '../templates/fixtures';

fixtureSuite('netflow9');
