/** Every markdown file with generated regions, and its generators: what `npm run docs` rewrites. */
import { HOME_ASSISTANT_REGIONS } from './haEntityTables.js';
import { MQTT_API_REGIONS } from './mqttApiTables.js';
import { DEVICE_MODULE_REGIONS } from './moduleTables.js';
import { replaceRegions, type RegionGenerators } from './regions.js';

export interface GeneratedDoc {
  /** Relative to the repository root. */
  path: string;
  regions: RegionGenerators;
}

export const GENERATED_DOCS: readonly GeneratedDoc[] = [
  { path: 'docs/mqtt-api.md', regions: MQTT_API_REGIONS },
  { path: 'docs/home-assistant.md', regions: HOME_ASSISTANT_REGIONS },
  { path: 'docs/devices.md', regions: DEVICE_MODULE_REGIONS },
];

/** `text` (the file's current content) with its generated regions rewritten from the code. */
export function regenerate(doc: GeneratedDoc, text: string): string {
  return replaceRegions(text, doc.regions, doc.path);
}
