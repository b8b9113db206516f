// Regenerates the README configuration table and config.example.env from the config schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { exampleEnv, replaceConfigTable } from '../src/configDocs.js';

const readme = new URL('../README.md', import.meta.url);
writeFileSync(readme, replaceConfigTable(readFileSync(readme, 'utf8')));
writeFileSync(new URL('../config.example.env', import.meta.url), exampleEnv());
