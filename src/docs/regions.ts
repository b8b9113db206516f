/**
 * Generated regions of a markdown file: the text between `<!-- generated:<name>:start … -->` and
 * `<!-- generated:<name>:end -->` belongs to a generator and is rewritten by `npm run docs`; the
 * prose around it is written by hand.
 */

/** A region's content, from the code. */
export type RegionGenerators = Readonly<Record<string, () => string>>;

export const DOCS_COMMAND = 'npm run docs';

const MARKER = /<!-- generated:([a-z0-9-]+):(start|end)\b[^>]*-->/g;

export function startMarker(name: string): string {
  return `<!-- generated:${name}:start (from the code by \`${DOCS_COMMAND}\`; edits here are overwritten) -->`;
}

export function endMarker(name: string): string {
  return `<!-- generated:${name}:end -->`;
}

/** A region as the generator writes it, markers included. */
export function region(name: string, content: string): string {
  return `${startMarker(name)}\n${content}\n${endMarker(name)}`;
}

/**
 * `text` with every generated region rewritten. Throws, naming `file`, when a marker has no
 * partner, a region is unknown or appears twice, or a generator's region is missing, so a typo
 * in a marker never leaves a table silently stale.
 */
export function replaceRegions(text: string, generators: RegionGenerators, file: string): string {
  const seen = new Set<string>();
  let out = '';
  let copiedUpTo = 0;
  let open: { name: string; index: number } | undefined;
  for (const match of text.matchAll(MARKER)) {
    const [marker, name = '', edge] = match;
    if (edge === 'start') {
      if (open) throw new Error(`${file}: region "${open.name}" has no end marker before "${name}" starts`);
      if (!Object.hasOwn(generators, name)) throw new Error(`${file}: unknown generated region "${name}"`);
      if (seen.has(name)) throw new Error(`${file}: generated region "${name}" appears twice`);
      seen.add(name);
      open = { name, index: match.index };
      continue;
    }
    if (open?.name !== name) throw new Error(`${file}: end marker of "${name}" without its start marker`);
    const generate = generators[name];
    if (!generate) throw new Error(`${file}: unknown generated region "${name}"`);
    out += text.slice(copiedUpTo, open.index) + region(name, generate());
    copiedUpTo = match.index + marker.length;
    open = undefined;
  }
  if (open) throw new Error(`${file}: region "${open.name}" has no end marker`);
  const missing = Object.keys(generators).filter((name) => !seen.has(name));
  if (missing.length > 0) {
    throw new Error(`${file}: no generated region for ${missing.join(', ')}; add ${startMarker(missing[0] ?? '')} … ${endMarker(missing[0] ?? '')}`);
  }
  return out + text.slice(copiedUpTo);
}
