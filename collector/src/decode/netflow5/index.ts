// SPDX-License-Identifier: Apache-2.0
export { decodeNetflow5, NETFLOW5_HEADER_LENGTH, NETFLOW5_RECORD_LENGTH, NETFLOW5_MAX_COUNT } from './decode';
