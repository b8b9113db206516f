/**
 * Renders a Home Assistant MQTT `value_template` the way HA does, as far as a test needs: Jinja2's
 * immutable sandbox (HA's template environment builds on it) with `to_json`. HA runs Python's
 * Jinja2, so this does too; `undefined` when python3 with jinja2 is not installed.
 */
import { spawnSync } from 'node:child_process';

const RENDER = `
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
env = ImmutableSandboxedEnvironment()
env.filters['to_json'] = lambda v: json.dumps(v)
job = json.load(sys.stdin)
sys.stdout.write(json.dumps([env.from_string(job['template']).render(value_json=p, value=json.dumps(p)) for p in job['payloads']]))
`;

let available: boolean | undefined;

export function jinjaAvailable(): boolean {
  available ??= spawnSync('python3', ['-c', 'import jinja2'], { stdio: 'ignore' }).status === 0;
  return available;
}

/** The template rendered for each JSON payload (the node's state), in order. */
export function renderHaTemplate(template: string, payloads: readonly unknown[]): string[] {
  const run = spawnSync('python3', ['-c', RENDER], { input: JSON.stringify({ template, payloads }), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`template failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as string[];
}
