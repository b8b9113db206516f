import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

/** What `.env` gave: its variables, and each line that is not one (by number, never its text). */
export interface DotenvContents {
  values: Record<string, string>;
  problems: string[];
}

const ASSIGNMENT = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=\s*(.*)$/;
const QUOTES = new Set(['"', "'", '`']);

/**
 * `.env` in the working directory (or the given file); none is fine. Every line must be
 * `NAME=value`, a `#` comment or blank: Node's parser would otherwise read a line without `=` as
 * the start of the next variable's name and silently drop that variable. A UTF-8 BOM is ignored.
 */
export function readDotenv(dotenv: boolean | { path: string }): DotenvContents {
  if (dotenv === false) return { values: {}, problems: [] };
  const path = resolve(dotenv === true ? '.env' : dotenv.path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { values: {}, problems: [] };
    return { values: {}, problems: [`.env: cannot read ${path} (${code ?? 'error'})`] };
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const problems: string[] = [];
  let openQuote: string | undefined;
  lines.forEach((line, index) => {
    if (openQuote !== undefined) {
      if (line.includes(openQuote)) openQuote = undefined;
      return;
    }
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const assignment = ASSIGNMENT.exec(line);
    if (assignment === null) {
      problems.push(`.env line ${index + 1}: not NAME=value, a # comment or a blank line (${path})`);
      lines[index] = '';
      return;
    }
    const value = assignment[1] ?? '';
    const quote = value[0];
    // A quoted value may go on over several lines, up to its closing quote.
    if (quote !== undefined && QUOTES.has(quote) && !value.slice(1).includes(quote)) openQuote = quote;
  });
  return { values: parseEnv(lines.join('\n')) as Record<string, string>, problems };
}
