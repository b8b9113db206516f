import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config.js';
import { configTableMarkdown, exampleEnv } from '../../src/configDocs.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('configuration docs match the schema', () => {
  it('README holds the table generated from the schema (run `npm run docs:config` after changing it)', () => {
    expect(read('README.md')).toContain(configTableMarkdown());
  });

  it('config.example.env is the generated file', () => {
    expect(read('config.example.env')).toBe(exampleEnv());
  });

  it('names every variable of the schema, secrets blank', () => {
    const env = read('config.example.env');
    for (const name of Object.keys(ConfigSchema.properties)) expect(env).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
    expect(env).toMatch(/^KASA_PASSWORD=$/m);
  });
});
