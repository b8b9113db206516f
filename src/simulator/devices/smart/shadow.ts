import type { JsonObject } from '../../util.js';

/**
 * A device's thing shadow on the app server: `state.desired` as last written, `state.reported` as
 * the device reports now, and a version that grows by one with every change of either. A write
 * must name exactly the next version (else 11000 with `curVersion`).
 */
export class ShadowState {
  private desired: JsonObject = {};
  private lastReported: string;

  constructor(
    private version: number,
    private readonly report: () => JsonObject,
  ) {
    this.lastReported = JSON.stringify(report());
  }

  /** The version now: a change the device reported since the last look counts as an update. */
  currentVersion(): number {
    const reported = JSON.stringify(this.report());
    if (reported !== this.lastReported) {
      this.lastReported = reported;
      this.version += 1;
    }
    return this.version;
  }

  document(): JsonObject {
    const version = this.currentVersion();
    return { state: { desired: { ...this.desired }, reported: this.report() }, version };
  }

  /** Records an accepted write (the caller checked the version and applied the state). */
  accept(desired: JsonObject, version: number): void {
    this.desired = { ...this.desired, ...desired };
    this.version = version;
    this.lastReported = JSON.stringify(this.report());
  }
}
