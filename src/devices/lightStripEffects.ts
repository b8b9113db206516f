/**
 * The built-in effects of KL400/KL420/KL430 light strips: what `set_lighting_effect` is sent for
 * each name. Data, not code: transcribed from python-kasa's published effect table
 * (python-kasa/python-kasa, `kasa/effects.py`, EFFECTS_LIST_V1; GPL-3.0 project, facts only — the
 * device's own effect definitions as the Kasa app sends them).
 */

/** HSV triples `[hue 0–360, saturation 0–100, brightness 0–100]` as the device takes them. */
type Hsv = readonly [number, number, number];

export interface LightStripEffect {
  readonly custom: 0;
  readonly id: string;
  readonly brightness: number;
  readonly name: string;
  readonly segments: readonly number[];
  readonly expansion_strategy: number;
  readonly enable: 1;
  readonly type: 'sequence' | 'random';
  readonly duration: number;
  readonly transition: number;
  readonly direction?: number;
  readonly spread?: number;
  readonly repeat_times?: number;
  readonly sequence?: readonly Hsv[];
  readonly hue_range?: readonly [number, number];
  readonly saturation_range?: readonly [number, number];
  readonly brightness_range?: readonly [number, number];
  readonly transition_range?: readonly [number, number];
  readonly init_states?: readonly Hsv[];
  readonly fadeoff?: number;
  readonly random_seed?: number;
  readonly backgrounds?: readonly Hsv[];
}

const base = { custom: 0, enable: 1, expansion_strategy: 1 } as const;

export const LIGHT_STRIP_EFFECTS: readonly LightStripEffect[] = [
  { ...base, id: 'xqUxDhbAhNLqulcuRMyPBmVGyTOyEMEu', name: 'Aurora', brightness: 100, segments: [0], type: 'sequence',
    duration: 0, transition: 1500, direction: 4, spread: 7, repeat_times: 0,
    sequence: [[120, 100, 100], [240, 100, 100], [260, 100, 100], [280, 100, 100]] },
  { ...base, id: 'tIwTRQBqJpeNKbrtBMFCgkdPTbAQGfRP', name: 'Bubbling Cauldron', brightness: 100, segments: [0], type: 'random',
    hue_range: [100, 270], saturation_range: [80, 100], brightness_range: [50, 100], duration: 0, transition: 200,
    init_states: [[270, 100, 100]], fadeoff: 1000, random_seed: 24, backgrounds: [[270, 40, 50]] },
  { ...base, id: 'HCOttllMkNffeHjEOLEgrFJjbzQHoxEJ', name: 'Candy Cane', brightness: 100,
    segments: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], type: 'sequence', duration: 700, transition: 500,
    direction: 1, spread: 1, repeat_times: 0,
    sequence: [
      [0, 0, 100], [0, 0, 100], [360, 81, 100], [0, 0, 100], [0, 0, 100], [360, 81, 100], [360, 81, 100], [0, 0, 100],
      [0, 0, 100], [360, 81, 100], [360, 81, 100], [360, 81, 100], [360, 81, 100], [0, 0, 100], [0, 0, 100], [360, 81, 100],
    ] },
  { ...base, id: 'bwTatyinOUajKrDwzMmqxxJdnInQUgvM', name: 'Christmas', brightness: 100, segments: [0], type: 'random',
    hue_range: [136, 146], saturation_range: [90, 100], brightness_range: [50, 100], duration: 5000, transition: 0,
    init_states: [[136, 0, 100]], fadeoff: 2000, random_seed: 100,
    backgrounds: [[136, 98, 75], [136, 0, 0], [350, 0, 100], [350, 97, 94]] },
  { ...base, id: 'bCTItKETDFfrKANolgldxfgOakaarARs', name: 'Flicker', brightness: 100, segments: [1], type: 'random',
    hue_range: [30, 40], saturation_range: [100, 100], brightness_range: [50, 100], duration: 0, transition: 0,
    transition_range: [375, 500], init_states: [[30, 81, 80]] },
  { ...base, id: 'CdLeIgiKcQrLKMINRPTMbylATulQewLD', name: 'Hanukkah', brightness: 100, segments: [1], type: 'random',
    hue_range: [200, 210], saturation_range: [0, 100], brightness_range: [50, 100], duration: 1500, transition: 0,
    transition_range: [400, 500], init_states: [[35, 81, 80]] },
  { ...base, id: 'oJnFHsVQzFUTeIOBAhMRfVeujmSauhjJ', name: 'Haunted Mansion', brightness: 80, segments: [80],
    expansion_strategy: 2, type: 'random', hue_range: [45, 45], saturation_range: [10, 10], brightness_range: [0, 80],
    duration: 0, transition: 0, transition_range: [50, 1500], init_states: [[45, 10, 100]], fadeoff: 200, random_seed: 1,
    backgrounds: [[45, 10, 100]] },
  { ...base, id: 'joqVjlaTsgzmuQQBAlHRkkPAqkBUiqeb', name: 'Icicle', brightness: 70, segments: [0], type: 'sequence',
    duration: 0, transition: 400, direction: 4, spread: 3, repeat_times: 0,
    sequence: [[190, 100, 70], [190, 100, 70], [190, 30, 50], [190, 100, 70], [190, 100, 70]] },
  { ...base, id: 'ojqpUUxdGHoIugGPknrUcRoyJiItsjuE', name: 'Lightning', brightness: 100,
    segments: [7, 20, 23, 32, 34, 35, 49, 65, 66, 74, 80], type: 'random', hue_range: [240, 240], saturation_range: [10, 11],
    brightness_range: [90, 100], duration: 0, transition: 50, init_states: [[240, 30, 100]], fadeoff: 150, random_seed: 600,
    backgrounds: [[200, 100, 100], [200, 50, 10], [210, 10, 50], [240, 10, 0]] },
  { ...base, id: 'oJjUMosgEMrdumfPANKbkFmBcAdEQsPy', name: 'Ocean', brightness: 30, segments: [0], type: 'sequence',
    duration: 0, transition: 2000, direction: 3, spread: 16, repeat_times: 0,
    sequence: [[198, 84, 30], [198, 70, 30], [198, 10, 30]] },
  { ...base, id: 'izRhLCQNcDzIKdpMPqSTtBMuAIoreAuT', name: 'Rainbow', brightness: 100, segments: [0], type: 'sequence',
    duration: 0, transition: 1500, direction: 1, spread: 12, repeat_times: 0,
    sequence: [[0, 100, 100], [100, 100, 100], [200, 100, 100], [300, 100, 100]] },
  { ...base, id: 'QbDFwiSFmLzQenUOPnJrsGqyIVrJrRsl', name: 'Raindrop', brightness: 30, segments: [0], type: 'random',
    hue_range: [200, 200], saturation_range: [10, 20], brightness_range: [10, 30], duration: 0, transition: 1000,
    init_states: [[200, 40, 100]], fadeoff: 1000, random_seed: 24, backgrounds: [[200, 40, 0]] },
  { ...base, id: 'URdUpEdQbnOOechDBPMkKrwhSupLyvAg', name: 'Spring', brightness: 100, segments: [0], type: 'random',
    hue_range: [0, 90], saturation_range: [30, 100], brightness_range: [90, 100], duration: 600, transition: 0,
    transition_range: [2000, 6000], init_states: [[80, 30, 100]], fadeoff: 1000, random_seed: 20,
    backgrounds: [[130, 100, 40]] },
  { ...base, id: 'QglBhMShPHUAuxLqzNEefFrGiJwahOmz', name: 'Valentines', brightness: 100, segments: [0], type: 'random',
    hue_range: [340, 340], saturation_range: [30, 40], brightness_range: [90, 100], duration: 600, transition: 2000,
    init_states: [[340, 30, 100]], fadeoff: 3000, random_seed: 100, backgrounds: [[340, 20, 50], [20, 50, 50], [0, 100, 50]] },
];

export const LIGHT_STRIP_EFFECT_NAMES: readonly string[] = LIGHT_STRIP_EFFECTS.map((e) => e.name);

/** The built-in effect called `name` (case-insensitive), if any. */
export function lightStripEffect(name: string): LightStripEffect | undefined {
  const wanted = name.trim().toLowerCase();
  return LIGHT_STRIP_EFFECTS.find((e) => e.name.toLowerCase() === wanted);
}
