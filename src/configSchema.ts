/**
 * The few JSON Schema builders the configuration needs, typed so `Static<typeof schema>` is the
 * config's TypeScript type, and the validator for environment strings against them. A schema
 * library (typebox: ~1,400 modules, ~16 MB of RSS) or a general validator (env-schema with ajv:
 * +13.5 MB of RSS right after the check and ~150 ms of start-up CPU, against 22 ms here) would stay
 * loaded for the life of the daemon for a one-time check of twenty-odd flat variables.
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

/** Why one variable was refused: the JSON Schema keyword it failed. */
export interface EnvProblem {
  name: string;
  keyword: 'required' | 'type' | 'enum' | 'minimum' | 'maximum' | 'pattern' | 'minLength' | 'maxLength';
}

interface PropertySchema {
  type?: 'string' | 'number' | 'integer' | 'boolean';
  enum?: string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

/**
 * Checks environment strings against a flat object schema: strings become the property's type
 * (numbers, whole numbers, booleans from true/false, 1/0, yes/no, on/off), a missing property takes its default, and every
 * problem is reported, not only the first. Only the schema's properties are returned.
 */
export function validateEnv<P extends Properties>(
  schema: TObject<P>,
  env: Readonly<Record<string, string | undefined>>,
): { value: Static<TObject<P>>; problems: EnvProblem[] } {
  const value: Record<string, unknown> = {};
  const problems: EnvProblem[] = [];
  const required = new Set(schema.required);
  for (const [name, property] of Object.entries(schema.properties) as [string, PropertySchema][]) {
    const raw = env[name];
    if (raw === undefined) {
      if (property.default !== undefined) value[name] = property.default;
      else if (required.has(name)) problems.push({ name, keyword: 'required' });
      continue;
    }
    const result = coerce(property, raw);
    if (typeof result === 'object') problems.push({ name, keyword: result.keyword });
    else value[name] = result;
  }
  return { value: value as Static<TObject<P>>, problems };
}

/** What a boolean variable accepts (any case, surrounding blanks ignored). */
const BOOLEAN_WORDS: Record<string, boolean> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
  on: true,
  off: false,
};

function coerce(schema: PropertySchema, raw: string): string | number | boolean | { keyword: EnvProblem['keyword'] } {
  if (schema.enum) return schema.enum.includes(raw) ? raw : { keyword: 'enum' };
  if (schema.type === 'boolean') return BOOLEAN_WORDS[raw.trim().toLowerCase()] ?? { keyword: 'type' };
  if (schema.type === 'number' || schema.type === 'integer') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || (schema.type === 'integer' && !Number.isInteger(n))) return { keyword: 'type' };
    if (schema.minimum !== undefined && n < schema.minimum) return { keyword: 'minimum' };
    if (schema.maximum !== undefined && n > schema.maximum) return { keyword: 'maximum' };
    return n;
  }
  const length = [...raw].length;
  if (schema.minLength !== undefined && length < schema.minLength) return { keyword: 'minLength' };
  if (schema.maxLength !== undefined && length > schema.maxLength) return { keyword: 'maxLength' };
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(raw)) return { keyword: 'pattern' };
  return raw;
}
