/**
 * The few JSON Schema builders the configuration needs, typed so `Static<typeof schema>` is the
 * config's TypeScript type (a schema library such as typebox costs ~1,400 modules and ~16 MB of
 * RSS for this), and the check of environment strings against them with env-schema.
 */
import { createRequire } from 'node:module';

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

/** When a value breaks several rules, the one reported (the first in this list). */
const KEYWORD_ORDER: readonly EnvProblem['keyword'][] = ['required', 'type', 'enum', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum'];

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

/** The part of an ajv error this check reads (env-schema puts ajv's errors on `errors`). */
interface AjvError {
  instancePath: string;
  keyword: string;
  params: { missingProperty?: string };
}

type EnvSchema = typeof import('env-schema');

/**
 * Runs `check` with env-schema, then takes env-schema and ajv out of the module cache so the
 * garbage collector can have them: the daemon needs them once, at start, and then runs for months
 * (kept, they hold ~1.5 MB of heap). A later check loads them again.
 */
function withEnvSchema<T>(check: (envSchema: EnvSchema) => T): T {
  const require = createRequire(import.meta.url);
  const cachedBefore = new Set(Object.keys(require.cache));
  try {
    return check(require('env-schema') as EnvSchema);
  } finally {
    for (const key of Object.keys(require.cache)) if (!cachedBefore.has(key)) delete require.cache[key];
  }
}

/**
 * Checks environment strings against a flat object schema with env-schema: strings become the
 * property's type (numbers, whole numbers, booleans from true/false, 1/0, yes/no, on/off), a
 * missing property takes its default, and every problem is reported, one per variable. Only the
 * schema's properties are returned.
 */
export function validateEnv<P extends Properties>(
  schema: TObject<P>,
  env: Readonly<Record<string, string | undefined>>,
): { value: Static<TObject<P>> | undefined; problems: EnvProblem[] } {
  const problems: EnvProblem[] = [];
  const data: Record<string, string | boolean> = {};
  for (const [name, property] of Object.entries(schema.properties)) {
    const raw = env[name];
    if (raw === undefined) continue;
    if (property.type === 'boolean') {
      // ajv turns only "true" and "false" into booleans.
      data[name] = BOOLEAN_WORDS[raw.trim().toLowerCase()] ?? raw;
    } else if ((property.type === 'number' || property.type === 'integer') && (raw.trim() === '' || !Number.isFinite(Number(raw)))) {
      // ajv's coercion reads blanks as 0 and lets Infinity through.
      problems.push({ name, keyword: 'type' });
    } else {
      data[name] = raw;
    }
  }
  try {
    // env-schema sets `additionalProperties` on the schema it is given: a copy keeps ours as declared.
    const value = withEnvSchema((envSchema) => envSchema<Static<TObject<P>>>({ schema: { ...schema }, data, env: false, dotenv: false }));
    return { value: problems.length === 0 ? value : undefined, problems };
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors)) throw err;
    const order = Object.keys(schema.properties);
    const all = [...problems, ...oneProblemPerVariable(errors)];
    // In the schema's order, as the README table lists the variables.
    return { value: undefined, problems: all.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name)) };
  }
}

function oneProblemPerVariable(errors: readonly AjvError[]): EnvProblem[] {
  const byName = new Map<string, EnvProblem['keyword']>();
  for (const error of errors) {
    const keyword = KEYWORD_ORDER.find((k) => k === error.keyword);
    const name = error.keyword === 'required' ? error.params.missingProperty : error.instancePath.slice(1);
    if (keyword === undefined || name === undefined || name === '') continue;
    const known = byName.get(name);
    if (known === undefined || KEYWORD_ORDER.indexOf(keyword) < KEYWORD_ORDER.indexOf(known)) byName.set(name, keyword);
  }
  return [...byName].map(([name, keyword]) => ({ name, keyword }));
}
