import type { JsonObject } from '../util.js';
import { argObject, DeviceError, intArg, type Module } from './base.js';

const INVALID_ARGUMENT = new DeviceError(-3, 'invalid argument');
/** Guess (no capture): what a device with one countdown slot answers to a second add_rule. */
const TABLE_FULL = new DeviceError(-10, 'table is full');
const NO_SUCH_RULE = new DeviceError(-14, 'entry not exist');

interface Rule {
  id: string;
  name: string;
  enable: boolean;
  delay: number;
  act: 0 | 1;
  /** When the rule was (re)started, device clock ms. */
  startedAt: number;
}

/**
 * The `count_down` module of one relay (the Kasa app's "Timer"): at most one rule, which switches
 * the relay to `act` after `delay` seconds and is then gone. Time is the device's clock; rules fire
 * when the device is next looked at (`tick`), at the moment they were due.
 */
export class CountdownRules {
  #rule: Rule | undefined;
  #next = 1;

  constructor(
    private readonly now: () => number,
    private readonly fire: (on: boolean, at: number) => void,
  ) {}

  /** Runs a rule that has come due. Call before every read or change of the relay. */
  tick(): void {
    const rule = this.#rule;
    if (!rule?.enable) return;
    const due = rule.startedAt + rule.delay * 1000;
    if (this.now() < due) return;
    this.#rule = undefined;
    this.fire(rule.act === 1, due);
  }

  /** Seconds until the running rule fires, if one runs. */
  remaining(): number | undefined {
    this.tick();
    const rule = this.#rule;
    if (!rule?.enable) return undefined;
    return Math.max(0, Math.ceil((rule.startedAt + rule.delay * 1000 - this.now()) / 1000));
  }

  module(): Module {
    return {
      get_rules: () => {
        this.tick();
        const rule = this.#rule;
        const list: JsonObject[] = rule
          ? [{ id: rule.id, name: rule.name, enable: rule.enable ? 1 : 0, delay: rule.delay, act: rule.act, remain: this.remaining() ?? rule.delay }]
          : [];
        return { rule_list: list };
      },
      add_rule: (args) => {
        this.tick();
        if (this.#rule) throw TABLE_FULL;
        const rule = this.#parse(argObject(args, INVALID_ARGUMENT));
        this.#rule = rule;
        return { id: rule.id };
      },
      edit_rule: (args) => {
        const a = argObject(args, INVALID_ARGUMENT);
        if (!this.#rule || a.id !== this.#rule.id) throw NO_SUCH_RULE;
        this.#rule = { ...this.#parse(a), id: this.#rule.id };
        return {};
      },
      delete_rule: (args) => {
        const a = argObject(args, INVALID_ARGUMENT);
        if (!this.#rule || a.id !== this.#rule.id) throw NO_SUCH_RULE;
        this.#rule = undefined;
        return {};
      },
      delete_all_rules: () => {
        this.#rule = undefined;
        return {};
      },
    };
  }

  #parse(a: JsonObject): Rule {
    const enable = intArg(a, 'enable', 0, 1, INVALID_ARGUMENT);
    const delay = intArg(a, 'delay', 1, 86_400, INVALID_ARGUMENT);
    const act = intArg(a, 'act', 0, 1, INVALID_ARGUMENT);
    const name = a.name;
    if (enable === undefined || delay === undefined || act === undefined) throw INVALID_ARGUMENT;
    if (name !== undefined && typeof name !== 'string') throw INVALID_ARGUMENT;
    return {
      id: (this.#next++).toString(16).toUpperCase().padStart(32, '0'),
      name: name ?? '',
      enable: enable === 1,
      delay,
      act: act === 1 ? 1 : 0,
      startedAt: this.now(),
    };
  }
}
