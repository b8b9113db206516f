/**
 * The few JSON Schema builders the configuration needs, typed so `Static<typeof schema>` is the
 * config's TypeScript type. A schema builder library (typebox: ~1,400 modules, ~16 MB of RSS)
 * would stay loaded for the life of the daemon for a one-time check; env-schema validates.
 */

declare const STATIC: unique symbol;
declare const OPTIONAL: unique symbol;

/** A JSON Schema node; `STATIC` only carries, at compile time, the type of the values it accepts. */
export interface TSchema<T = unknown> {
  readonly [STATIC]?: T;
  readonly [keyword: string]: unknown;
}

/** A property that may be left out of its object. */
export interface TOptional<T> extends TSchema<T> {
  readonly [OPTIONAL]: true;
}

type Properties = Record<string, TSchema>;
type OptionalKeys<P extends Properties> = { [K in keyof P]: P[K] extends TOptional<unknown> ? K : never }[keyof P];
type RequiredKeys<P extends Properties> = Exclude<keyof P, OptionalKeys<P>>;
type Flatten<T> = { [K in keyof T]: T[K] };
type ObjectStatic<P extends Properties> = Flatten<
  { [K in RequiredKeys<P>]: Static<P[K]> } & { [K in OptionalKeys<P>]?: Static<P[K]> }
>;

export interface TObject<P extends Properties> extends TSchema<ObjectStatic<P>> {
  readonly type: 'object';
  readonly required: string[];
  readonly properties: P;
}

export type Static<S> = S extends TSchema<infer T> ? T : never;

interface Annotations<T> {
  default?: T;
  description?: string;
}

export interface StringOptions extends Annotations<string> {
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

export interface NumberOptions extends Annotations<number> {
  minimum?: number;
  maximum?: number;
}

/** Schemas marked optional: `Object` leaves them out of `required`. */
const optional = new WeakSet<object>();

export const Type = {
  String: (options: StringOptions = {}): TSchema<string> => ({ type: 'string', ...options }),
  Number: (options: NumberOptions = {}): TSchema<number> => ({ type: 'number', ...options }),
  Integer: (options: NumberOptions = {}): TSchema<number> => ({ type: 'integer', ...options }),
  Boolean: (options: Annotations<boolean> = {}): TSchema<boolean> => ({ type: 'boolean', ...options }),
  Enum: <const V extends readonly string[]>(values: V, options: Annotations<V[number]> = {}): TSchema<V[number]> => ({
    enum: [...values],
    ...options,
  }),
  Optional: <T>(schema: TSchema<T>): TOptional<T> => {
    const copy = { ...schema };
    optional.add(copy);
    return copy as TOptional<T>;
  },
  Object: <P extends Properties>(properties: P): TObject<P> => ({
    type: 'object',
    required: Object.keys(properties).filter((key) => !optional.has(properties[key]!)),
    properties,
  }),
};
