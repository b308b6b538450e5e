// SPDX-License-Identifier: Apache-2.0
/**
 * The routes' `@kbn/config-schema` query schemas. Kibana must accept and refuse exactly what the harness and
 * the route functions do, with the same messages, so the rules live in one place (common/validate.ts's
 * parse* functions) and the schemas only hand the raw query to them:
 *
 * - every known parameter is an optional string, or a list of strings: Kibana (hapi) parses a repeated
 *   query key into an array, and the parse function then says "<key> given more than once" rather than
 *   config-schema's type error;
 * - an object-level `validate` runs the parse function and returns its message (config-schema turns a
 *   returned string into a 400 for the route);
 * - `unknowns` stays at its default, `forbid`: an unknown parameter is a 400 ("definition for this key is
 *   missing"), as parse* refuses it too.
 *
 * The handlers parse the validated query again to get the typed, defaulted query (it costs nothing).
 *
 * API as in Kibana 8.14 packages/kbn-config-schema: `schema.maybe`, `schema.string`, `schema.arrayOf`,
 * `schema.oneOf`, `schema.object(props, { validate })` (index.ts; src/types/object_type.ts: unknowns
 * default 'forbid'; src/types/type.ts: `validate` returning a string fails validation with that message).
 */
import { schema, type Type } from '@kbn/config-schema';
import { BadRequestError } from '../../common';

/** One query parameter as it arrives: absent, once (a string) or repeated (strings). */
export function queryParam(): Type<string | string[] | undefined> {
  return schema.maybe(schema.oneOf([schema.string(), schema.arrayOf(schema.string())]));
}

/** The object-level check: the parse function's message for a request it refuses, else undefined. */
export function parseError(parse: (raw: Record<string, unknown>) => unknown): (raw: Record<string, unknown>) => string | undefined {
  return (raw) => {
    try {
      parse(definedOnly(raw));
      return undefined;
    } catch (err) {
      if (err instanceof BadRequestError) return err.message;
      throw err;
    }
  };
}

/** The query without the keys config-schema set to undefined (`schema.maybe`: absent parameters). */
export function definedOnly(query: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined));
}

/** The schema for a route's query: `params` as optional strings, checked as a whole by `parse`. */
export function querySchema<K extends string>(params: readonly K[], parse: (raw: Record<string, unknown>) => unknown) {
  const props = Object.fromEntries(params.map((k) => [k, queryParam()])) as Record<K, Type<string | string[] | undefined>>;
  return schema.object(props, { validate: parseError(parse) });
}
