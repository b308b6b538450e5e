// SPDX-License-Identifier: Apache-2.0
/**
 * Pieces of the routes' `@kbn/config-schema` query schemas. The checks are common/validate.ts's (the same
 * functions the lib functions and the harness apply), and the bounds its constants, so Kibana refuses
 * exactly what they refuse, with the same messages.
 */
import { schema } from '@kbn/config-schema';
import { instantError, rangeError } from '../../common';

export const integerError = (n: number): string | undefined => (Number.isInteger(n) ? undefined : `must be an integer, got ${n}`);

export function oneOfError(allowed: readonly string[]): (v: string) => string | undefined {
  return (v) => (allowed.includes(v) ? undefined : `must be one of ${allowed.join(', ')}`);
}

/** A bounded integer query parameter (query strings arrive as text; schema.number converts). */
export function intParam(min: number, max: number, defaultValue: number) {
  return schema.number({ min, max, defaultValue, validate: integerError });
}

/** `from` and `to`: ISO-8601 instants with a zone. */
export const rangeProps = {
  from: schema.string({ validate: instantError }),
  to: schema.string({ validate: instantError }),
};

/** Object-level check: the range is ordered and not too long. */
export const validateRange = (q: { from: string; to: string }): string | undefined => rangeError(q.from, q.to);
