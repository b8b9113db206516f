import type { MeterGeneration } from '../types.js';
import type { JsonObject } from '../util.js';
import {
  argObject,
  plugFamilySysinfo,
  DeviceError,
  intArg,
  SimDevice,
  type CallContext,
  type DeviceEnv,
  type DeviceIdentity,
  type Module,
} from './base.js';
import { CountdownRules } from './countdown.js';
import type { Meter } from './meter.js';
import { mainsVoltage, type ModelInfo } from './models.js';
import { applyMeterPatch, INVALID_ARGUMENT, meterModule, switchedMeter } from './plug.js';

/** Guess: what a strip answers for a child id it does not have (no capture). */
const NO_SUCH_CHILD = new DeviceError(-14, 'entry not exist');

export interface OutletSeed {
  alias?: string;
  on?: boolean;
}

interface Outlet {
  id: string;
  alias: string;
  on: boolean;
  onSince: number;
  meter: Meter | undefined;
  countdown: CountdownRules;
}

export interface StripOptions {
  online: boolean;
  latencyMs: number;
  host: 0 | 1;
  outlets: number;
  outletSeeds?: OutletSeed[];
}

/**
 * Multi-outlet devices. Outlets are addressed with `context.child_ids`; without a context,
 * `set_relay_state` switches every outlet (tplink-cloud-api's README claim; docs/protocol.md, "Passthrough").
 */
export class StripDevice extends SimDevice {
  readonly family = 'strip' as const;
  protected readonly missingModule = { err_code: -1, err_msg: 'module not support' };
  private ledOff = false;
  private readonly outlets: Outlet[];
  readonly meterGeneration: MeterGeneration | undefined;

  constructor(identity: DeviceIdentity, info: ModelInfo, env: DeviceEnv, opts: StripOptions) {
    super(identity, info, env, opts);
    this.meterGeneration = info.meter;
    this.outlets = Array.from({ length: opts.outlets }, (_, i) => {
      const seed = opts.outletSeeds?.[i];
      const outlet: Outlet = {
        id: `${identity.deviceId}${String(i).padStart(2, '0')}`,
        alias: seed?.alias ?? `Plug ${i + 1}`,
        on: seed?.on ?? false,
        onSince: env.now(),
        meter: undefined,
        countdown: new CountdownRules(env.now, (on) => this.switchOutlet(outlet, on)),
      };
      if (info.meter) outlet.meter = switchedMeter(outlet.id, mainsVoltage(identity.model), () => outlet.on, () => this.localNow());
      return outlet;
    });
  }

  childIds(): string[] {
    return this.outlets.map((o) => o.id);
  }

  protected override tick(): void {
    for (const outlet of this.outlets) outlet.countdown.tick();
  }

  sysinfo(): JsonObject {
    this.tick();
    const id = this.identity;
    const now = this.env.now();
    return {
      ...plugFamilySysinfo(id, this.info.deviceType, this.info.meter ? 'TIM:ENE' : 'TIM', this.ledOff),
      children: this.outlets.map((o) => ({
        id: o.id,
        state: o.on ? 1 : 0,
        alias: o.alias,
        on_time: o.on ? Math.floor((now - o.onSince) / 1000) : 0,
        next_action: { type: -1 },
      })),
      child_num: this.outlets.length,
      ntc_state: 0,
      err_code: 0,
    };
  }

  /** `{outlet: index, on}` switches one outlet; meter keys and `alias` apply to that outlet too. */
  setState(patch: Record<string, unknown>): void {
    this.tick();
    if (typeof patch.led === 'boolean') this.ledOff = !patch.led;
    if (typeof patch.outlet !== 'number') {
      if (typeof patch.alias === 'string') this.alias = patch.alias;
      if (typeof patch.on === 'boolean') for (const o of this.outlets) this.switchOutlet(o, patch.on);
      return;
    }
    const outlet = this.outlets[patch.outlet];
    if (!outlet) throw new Error(`${this.model} has no outlet ${patch.outlet}`);
    if (typeof patch.on === 'boolean') this.switchOutlet(outlet, patch.on);
    if (typeof patch.alias === 'string') outlet.alias = patch.alias;
    if (outlet.meter) applyMeterPatch(outlet.meter, patch);
  }

  protected modules(): Record<string, Module> {
    const modules: Record<string, Module> = {
      system: {
        get_sysinfo: () => this.sysinfo(),
        set_relay_state: (args, ctx) => {
          const state = intArg(argObject(args, INVALID_ARGUMENT), 'state', 0, 1, INVALID_ARGUMENT);
          if (state === undefined) throw INVALID_ARGUMENT;
          for (const o of this.targets(ctx, true)) this.switchOutlet(o, state === 1);
          return {};
        },
        set_dev_alias: (args, ctx) => {
          const alias = argObject(args, INVALID_ARGUMENT).alias;
          if (typeof alias !== 'string' || alias.length === 0 || alias.length > 31) throw INVALID_ARGUMENT;
          if (ctx.childIds === undefined) this.alias = alias;
          else for (const o of this.targets(ctx, false)) o.alias = alias;
          return {};
        },
        set_led_off: (args) => {
          const off = intArg(argObject(args, INVALID_ARGUMENT), 'off', 0, 1, INVALID_ARGUMENT);
          if (off === undefined) throw INVALID_ARGUMENT;
          this.ledOff = off === 1;
          return {};
        },
        reboot: this.rebootMethod(INVALID_ARGUMENT),
      },
      time: this.timeModule(),
      netif: this.netifModule(),
      schedule: this.scheduleModule(),
      cnCloud: this.cloudModule(),
      count_down: this.countdownModule(),
    };
    if (this.meterGeneration) modules.emeter = this.emeterModule(this.meterGeneration);
    return modules;
  }

  /** Per outlet with a context; without one the parent answers slot 0 (not the sum; docs/protocol.md, "Passthrough"). */
  private emeterModule(generation: MeterGeneration): Module {
    const forOutlet = (ctx: CallContext): Module => {
      const outlet = this.targets(ctx, false)[0] ?? this.outlets[0];
      if (!outlet?.meter) throw NO_SUCH_CHILD;
      const slot = this.outlets.indexOf(outlet);
      return meterModule(outlet.meter, generation, () => ({ slot_id: slot }));
    };
    const names = ['get_realtime', 'get_daystat', 'get_monthstat', 'erase_emeter_stat', 'get_vgain_igain'];
    return Object.fromEntries(
      names.map((name) => [
        name,
        (args: unknown, ctx: CallContext) => {
          const method = forOutlet(ctx)[name];
          if (!method) throw INVALID_ARGUMENT;
          return method(args, ctx);
        },
      ]),
    );
  }

  /** Each outlet has its own countdown, addressed with exactly one child id. */
  private countdownModule(): Module {
    const names = ['get_rules', 'add_rule', 'edit_rule', 'delete_rule', 'delete_all_rules'];
    return Object.fromEntries(
      names.map((name) => [
        name,
        (args: unknown, ctx: CallContext) => {
          const outlets = this.targets(ctx, false);
          const outlet = outlets.length === 1 ? outlets[0] : undefined;
          const method = outlet?.countdown.module()[name];
          if (!method) throw INVALID_ARGUMENT;
          return method(args, ctx);
        },
      ]),
    );
  }

  private targets(ctx: CallContext, allWithoutContext: boolean): Outlet[] {
    if (ctx.childIds === undefined) return allWithoutContext ? this.outlets : [];
    return ctx.childIds.map((id) => {
      const outlet = this.outlets.find((o) => o.id === id);
      if (!outlet) throw NO_SUCH_CHILD;
      return outlet;
    });
  }

  private switchOutlet(outlet: Outlet, on: boolean): void {
    outlet.meter?.accrue();
    if (on && !outlet.on) outlet.onSince = this.env.now();
    outlet.on = on;
  }
}
