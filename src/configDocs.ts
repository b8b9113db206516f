import { ConfigSchema, SECRET_VARIABLES } from './config.js';

interface PropertyDoc {
  name: string;
  default: unknown;
  required: boolean;
  description: string;
  secret: boolean;
}

function properties(): PropertyDoc[] {
  const required = new Set<string>((ConfigSchema as { required?: string[] }).required ?? []);
  return Object.entries(ConfigSchema.properties).map(([name, schema]) => {
    const s = schema as { default?: unknown; description?: string };
    return {
      name,
      default: s.default,
      required: required.has(name) && s.default === undefined,
      description: s.description ?? '',
      secret: (SECRET_VARIABLES as readonly string[]).includes(name),
    };
  });
}

const BEGIN = '<!-- config-table:begin (generated from src/config.ts by `npm run docs:config`) -->';
const END = '<!-- config-table:end -->';

/** The README's configuration table, generated from the schema so the two cannot drift. */
export function configTableMarkdown(): string {
  const rows = properties().map((p) => {
    const def = p.required ? 'required' : p.default === undefined ? 'none' : `\`${formatDefault(p.default)}\``;
    const name = p.secret ? `\`${p.name}\` / \`${p.name}_FILE\`` : `\`${p.name}\``;
    return `| ${name} | ${def} | ${p.description.replace(/\|/g, '\\|')} |`;
  });
  return [BEGIN, '| Variable | Default | Meaning |', '|---|---|---|', ...rows, END].join('\n');
}

/** `config.example.env`: every variable with a one-line comment, defaults shown, secrets blank. */
export function exampleEnv(): string {
  const lines = [
    '# kasa2mqtt configuration. Copy to .env and fill in the account; every other line shows its default.',
    '# Generated from src/config.ts by `npm run docs:config`; README.md explains each variable.',
    '# Every line is NAME=value, a # comment or blank; anything else stops the start with an error naming the line.',
    '',
  ];
  for (const p of properties()) {
    lines.push(`# ${p.description}${p.required ? ' (required)' : ''}`);
    if (p.secret) {
      lines.push(`${p.name}=`);
      lines.push(`# ${p.name}_FILE=/run/secrets/${p.name.toLowerCase()}`);
    } else if (p.required) {
      lines.push(`${p.name}=`);
    } else if (p.default === undefined) {
      lines.push(`# ${p.name}=`);
    } else {
      lines.push(`# ${p.name}=${formatDefault(p.default)}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function replaceConfigTable(readme: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < 0) throw new Error('README.md has no config-table markers');
  return readme.slice(0, start) + configTableMarkdown() + readme.slice(end + END.length);
}

function formatDefault(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}
