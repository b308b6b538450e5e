// SPDX-License-Identifier: Apache-2.0
/**
 * The subset of `@kbn/config-schema` (Kibana 8.14) this plugin uses, so that the server type-checks outside
 * a Kibana checkout (tsconfig.check.json maps `@kbn/*` here). Inside Kibana the real package applies.
 *
 * Follows packages/kbn-config-schema/index.ts and src/types/{type,object_type,string_type,number_type,
 * boolean_type,literal_type,union_type,maybe_type}.ts: the same names, generics and option fields, fewer
 * members. Notable behaviours the plugin relies on (documented there): `validate` returns an error message
 * or undefined (type.ts `convertValidationFunction`; a thrown error's message counts too), and an object's
 * `validate` runs after its keys are validated; `defaultValue` or `schema.maybe` makes a key optional
 * (`maybe` leaves it undefined); `schema.number()` accepts numeric strings (Joi `convert`); unknown object
 * keys are refused by default (`unknowns: 'forbid'`, "[key]: definition for this key is missing").
 *
 * The routes' query schemas (server/routes/schemas.ts) use `object`, `maybe`, `oneOf`, `arrayOf` and
 * `string`; the plugin config (server/config.ts) `object`, `boolean` and `string`.
 */
export interface TypeOptions<T> {
  defaultValue?: T | (() => T);
  /** A message makes the value invalid (400 for a route); undefined/void accepts it. */
  validate?: (value: T) => string | void;
}

export declare abstract class Type<V> {
  /** Only for `TypeOf`: carries the value type. */
  readonly type: V;
  readonly __isKbnConfigSchemaType: true;
  validate(value: unknown, context?: Record<string, unknown>, namespace?: string): V;
}

export type Props = Record<string, Type<any>>;
export type TypeOf<RT extends Type<any>> = RT['type'];

type OptionalProperties<Base extends Props> = Pick<Base, { [Key in keyof Base]: undefined extends TypeOf<Base[Key]> ? Key : never }[keyof Base]>;
type RequiredProperties<Base extends Props> = Pick<Base, { [Key in keyof Base]: undefined extends TypeOf<Base[Key]> ? never : Key }[keyof Base]>;

export type ObjectResultType<P extends Props> = Readonly<
  { [K in keyof OptionalProperties<P>]?: TypeOf<P[K]> } & { [K in keyof RequiredProperties<P>]: TypeOf<P[K]> }
>;

export type ObjectTypeOptions<P extends Props = any> = TypeOptions<ObjectResultType<P>> & {
  unknowns?: 'allow' | 'ignore' | 'forbid';
};

export declare class ObjectType<P extends Props = any> extends Type<ObjectResultType<P>> {}

export type StringOptions = TypeOptions<string> & { minLength?: number; maxLength?: number; hostname?: boolean };
export type NumberOptions = TypeOptions<number> & { min?: number; max?: number; unsafe?: boolean };

export declare const schema: {
  any(options?: TypeOptions<any>): Type<any>;
  boolean(options?: TypeOptions<boolean>): Type<boolean>;
  string(options?: StringOptions): Type<string>;
  number(options?: NumberOptions): Type<number>;
  literal<T extends string | number | boolean | null>(value: T): Type<T>;
  maybe<V>(type: Type<V>): Type<V | undefined>;
  object<P extends Props>(props: P, options?: ObjectTypeOptions<P>): ObjectType<P>;
  oneOf<A, B>(types: [Type<A>, Type<B>], options?: TypeOptions<A | B>): Type<A | B>;
  oneOf<A, B, C>(types: [Type<A>, Type<B>, Type<C>], options?: TypeOptions<A | B | C>): Type<A | B | C>;
  arrayOf<T>(itemType: Type<T>, options?: TypeOptions<T[]> & { minSize?: number; maxSize?: number }): Type<T[]>;
};
