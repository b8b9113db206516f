import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, fstatSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished, type TestContext } from 'vitest';

const PAGE = 4096;

export interface SmallDisk {
  /** The mount point: a real tmpfs of the asked size. */
  dir: string;
  /** Fills the disk, leaving `leaveBytes` free (rounded to pages; tmpfs allocates whole pages). */
  fill(leaveBytes?: number): void;
  /** Deletes the filler: the disk has room again. */
  free(): void;
}

/** A real full disk: mounts a tmpfs (root only), unmounted when the test finishes; skips where mount is refused. */
export function mountSmallDisk(ctx: TestContext, sizeKb = 256): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    ctx.skip(`cannot mount a small tmpfs here (${(err as Error).message.split('\n')[0]})`);
  }
  onTestFinished(() => {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    rmSync(dir, { recursive: true, force: true });
  });
  const filler = join(dir, 'filler');
  return {
    dir,
    fill(leaveBytes = 0) {
      const fd = openSync(filler, 'a');
      try {
        const chunk = Buffer.alloc(64 * 1024, 1);
        for (;;) {
          try {
            writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
        // A short last write may leave part of a page: write byte by byte until nothing fits.
        for (;;) {
          try {
            if (writeSync(fd, chunk, 0, 1) === 0) break;
          } catch {
            break;
          }
        }
        const size = fstatSync(fd).size;
        const pages = Math.ceil(leaveBytes / PAGE);
        if (pages > 0) ftruncateSync(fd, Math.max(0, Math.floor(size / PAGE) * PAGE - pages * PAGE));
      } finally {
        closeSync(fd);
      }
    },
    free() {
      try {
        unlinkSync(filler);
      } catch {
        // not filled
      }
    },
  };
}
