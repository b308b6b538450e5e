// SPDX-License-Identifier: Apache-2.0
/** Every NetFlow v9 capture of the shared test data, decoded and compared with tshark (see templates/walk.ts). */
import { walkCaptures } from '../templates/walk';

walkCaptures(9);
