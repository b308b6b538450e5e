// SPDX-License-Identifier: Apache-2.0
/** The RiskIQ export (DESIGN.md §6): record builder, frame codec, transport, output and reference sink. */
export { RECORD_KEYS, createRecordBuilder, embedsNonPublicIPv4, type RecordBuilder, type RiskiqRecord } from './record';
export {
  FrameReader,
  HEADER_BYTES,
  MAGIC,
  MAX_FRAME_DATA_BYTES,
  NONCE_BYTES,
  RiskiqKeyError,
  TAG_BYTES,
  decodeRecords,
  encodeRecordsFrame,
  encodeRecordsFrameSync,
  frameAad,
  ndjson,
  openFrame,
  parseKey,
  sealFrame,
  uuidBytes,
  uuidText,
  type BadFrameReason,
} from './frame';
export { DropOldestQueue } from './queue';
export {
  connectFailureReason,
  MAX_RECORDS_PER_FRAME,
  RiskiqTransport,
  TRANSPORT_DEFAULTS,
  type ConnectFailureReason,
  type TransportOptions,
  type TransportStats,
} from './transport';
export { RiskiqOutput, riskiqOutputOptions, riskiqTlsOptions, type RiskiqOutputOptions } from './output';
export { recordSchemaProblem, startRiskiqSink, type RiskiqSink, type SinkOptions, type SinkStats } from './sink';
