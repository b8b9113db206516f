/**
 * The repository's Dockerfile, parsed with dockerfile-ast (the parser behind dockerfile-utils)
 * into build stages with the facts the tests check. No Docker engine needed.
 */
import { readFileSync } from 'node:fs';
import { DockerfileParser, type Dockerfile, type Instruction } from 'dockerfile-ast';

export const repoRoot = new URL('../../', import.meta.url);
export const repoFile = (path: string): URL => new URL(path, repoRoot);
export const readRepoFile = (path: string): string => readFileSync(repoFile(path), 'utf8');

export interface CopyStep {
  /** `--from=<stage>`, or null for the build context. */
  from: string | null;
  sources: string[];
  dest: string;
  chown: string | null;
}

export interface Stage {
  name: string | null;
  /** The base image with build ARGs substituted, e.g. `node:22-alpine`. */
  image: string;
  /** Every instruction of the stage, keyword first (FROM included). */
  instructions: Instruction[];
  /** RUN lines as text (flags left out), in order. */
  runs: string[];
  copies: CopyStep[];
  env: Map<string, string>;
  /** ARGs declared in the stage, with their defaults (empty when none). */
  args: Map<string, string>;
  /** Flags of every RUN, in order (e.g. `--mount`): BuildKit-only when present. */
  runFlags: string[][];
  /** The last USER with the stage's ARG defaults substituted, or null when the stage runs as the base image's user (root for node images). */
  user: string | null;
  /** The last USER as written (`${RUN_AS}`), or null. */
  userAsWritten: string | null;
  volumes: string[];
  exposes: string[];
  /** HEALTHCHECK: its flags and its exec-form command, or null. */
  healthcheck: { flags: Map<string, string>; command: string[] | null } | null;
  entrypoint: string[] | null;
  cmd: string[] | null;
  labels: Map<string, string>;
}

export interface ParsedDockerfile {
  text: string;
  ast: Dockerfile;
  /** ARGs before the first FROM, with their defaults. */
  globalArgs: Map<string, string>;
  stages: Stage[];
}

function substitute(value: string, args: Map<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? '';
    return args.get(name) ?? whole;
  });
}

/** The exec (JSON) form of an instruction's arguments, or null for the shell form. */
function execForm(words: string[]): string[] | null {
  const text = words.join(' ').trim();
  if (!text.startsWith('[')) return null;
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((w): w is string => typeof w === 'string')) {
    throw new Error(`not an exec-form array: ${text}`);
  }
  return parsed;
}

function flagsOf(instruction: Instruction): Map<string, string> {
  const flags = new Map<string, string>();
  const withFlags = instruction as Instruction & { getFlags?: () => { getName(): string; getValue(): string | null }[] };
  for (const flag of withFlags.getFlags?.() ?? []) flags.set(flag.getName(), flag.getValue() ?? '');
  return flags;
}

function properties(instruction: Instruction): [string, string][] {
  const withProps = instruction as Instruction & {
    getProperties?: () => { getName(): string; getValue(): string | null }[];
  };
  return (withProps.getProperties?.() ?? []).map((p) => [p.getName(), p.getValue() ?? '']);
}

export function parseDockerfile(text: string = readRepoFile('Dockerfile')): ParsedDockerfile {
  const ast = DockerfileParser.parse(text);
  const globalArgs = new Map<string, string>();
  for (const arg of ast.getInitialARGs()) {
    const property = arg.getProperty();
    if (property) globalArgs.set(property.getName(), property.getValue() ?? '');
  }

  const stages: Stage[] = [];
  let stage: Stage | undefined;
  for (const instruction of ast.getInstructions()) {
    const keyword = instruction.getKeyword();
    const words = instruction.getArguments().map((a) => a.getValue());
    if (keyword === 'FROM') {
      const from = ast.getFROMs().find((f) => f.getRange().start.line === instruction.getRange().start.line);
      stage = {
        name: from?.getBuildStage() ?? null,
        image: substitute(from?.getImage() ?? '', globalArgs),
        instructions: [],
        runs: [],
        copies: [],
        env: new Map(),
        args: new Map(),
        runFlags: [],
        user: null,
        userAsWritten: null,
        volumes: [],
        exposes: [],
        healthcheck: null,
        entrypoint: null,
        cmd: null,
        labels: new Map(),
      };
      stages.push(stage);
    }
    if (!stage) continue; // global ARGs, handled above
    stage.instructions.push(instruction);
    switch (keyword) {
      case 'RUN':
        stage.runs.push(words.join(' '));
        stage.runFlags.push([...flagsOf(instruction).keys()]);
        break;
      case 'ARG':
        for (const [name, value] of properties(instruction)) stage.args.set(name, value);
        break;
      case 'COPY': {
        const flags = flagsOf(instruction);
        const paths = execForm(words) ?? words;
        stage.copies.push({
          from: flags.get('from') ?? null,
          sources: paths.slice(0, -1),
          dest: paths.at(-1) ?? '',
          chown: flags.get('chown') ?? null,
        });
        break;
      }
      case 'ENV':
        for (const [name, value] of properties(instruction)) stage.env.set(name, value);
        break;
      case 'LABEL':
        for (const [name, value] of properties(instruction)) stage.labels.set(name, value);
        break;
      case 'USER':
        stage.userAsWritten = words.join(' ');
        stage.user = substitute(stage.userAsWritten, stage.args);
        break;
      case 'VOLUME':
        stage.volumes.push(...(execForm(words) ?? words));
        break;
      case 'EXPOSE':
        stage.exposes.push(...words);
        break;
      case 'HEALTHCHECK': {
        const [sub, ...rest] = words;
        stage.healthcheck = {
          flags: flagsOf(instruction),
          command: sub?.toUpperCase() === 'CMD' ? execForm(rest) : null,
        };
        break;
      }
      case 'ENTRYPOINT':
        stage.entrypoint = execForm(words);
        break;
      case 'CMD':
        stage.cmd = execForm(words);
        break;
      default:
        break;
    }
  }
  return { text, ast, globalArgs, stages };
}

/** The stage the image is made of: the last one. */
export function runtimeStage(parsed: ParsedDockerfile): Stage {
  const last = parsed.stages.at(-1);
  if (!last) throw new Error('Dockerfile has no FROM');
  return last;
}

export function stageNamed(parsed: ParsedDockerfile, name: string): Stage {
  const found = parsed.stages.find((s) => s.name === name);
  if (!found) throw new Error(`Dockerfile has no stage named ${name}`);
  return found;
}
