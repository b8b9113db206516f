// Rewrites the generated regions of the docs (docs/mqtt-api.md, docs/home-assistant.md) from the code.
import { readFileSync, writeFileSync } from 'node:fs';
import { GENERATED_DOCS, regenerate } from '../src/docs/generatedDocs.js';

for (const doc of GENERATED_DOCS) {
  const file = new URL(`../${doc.path}`, import.meta.url);
  const before = readFileSync(file, 'utf8');
  const after = regenerate(doc, before);
  if (after !== before) writeFileSync(file, after);
  console.log(`${doc.path}: ${after === before ? 'up to date' : 'rewritten'}`);
}
