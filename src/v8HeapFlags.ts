/**
 * V8 sized for a small daemon, however the bridge is started (the `kasa2mqtt` bin, `npx`,
 * `node dist/cli.js`, `npm start`, the image): cli.ts imports this module first, so the flags are
 * set before the bridge's code is even loaded. Without them the bridge holds ~13 MB more at 20
 * devices and 60–80 MB more at 1,000 (bench/README.md, "Memory").
 *
 * Both flags are ones V8 reads while it runs, so setting them here works as on the command line:
 * - `--semi-space-growth-factor=1`: the young generation stays at its initial 1 MB semi-spaces
 *   instead of growing to 2 × 8–16 MB under start-up allocation and keeping them. The same as
 *   `--max-semi-space-size=1`, which V8 reads only when it sets up the heap, before this runs.
 * - `--heap-growing-percent=30`: old space grows by 30 % over what survived the last full GC
 *   instead of by up to 100 %.
 * A semi-space or heap-growing flag given on the command line or in NODE_OPTIONS wins.
 */
import { setFlagsFromString } from 'node:v8';

const userFlags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').replaceAll('_', '-');

if (!userFlags.includes('semi-space')) setFlagsFromString('--semi-space-growth-factor=1');
if (!userFlags.includes('heap-growing-percent')) setFlagsFromString('--heap-growing-percent=30');
