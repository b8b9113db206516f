import { describe, expect, it } from 'vitest';
import { isValidTopicFilter, isValidTopicName, topicMatches } from '../../src/mqtt/topicMatch.js';

describe('topicMatches', () => {
  it.each([
    ['kasa/lamp/set', 'kasa/lamp/set', true],
    ['kasa/lamp/set', 'kasa/lamp', false],
    ['kasa/+/set', 'kasa/lamp/set', true],
    ['kasa/+/set', 'kasa/lamp/set/brightness', false],
    ['kasa/+/set/+', 'kasa/lamp/set/brightness', true],
    ['kasa/#', 'kasa', true],
    ['kasa/#', 'kasa/a/b/c', true],
    ['kasa/+', 'kasa/', true],
    ['+/+', '/x', true],
    ['#', 'anything/at/all', true],
    ['#', '$SYS/broker', false],
    ['+/broker', '$SYS/broker', false],
    ['$SYS/#', '$SYS/broker', true],
    ['$share/g/kasa/+', 'kasa/x', true],
    ['kasa/bridge/request/#', 'kasa/bridge/request/device/rename', true],
    ['kasa/bridge/request/#', 'kasa/bridge/response/x', false],
  ])('%s vs %s → %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it('validates names and filters', () => {
    expect(isValidTopicName('kasa/x')).toBe(true);
    expect(isValidTopicName('kasa/+')).toBe(false);
    expect(isValidTopicName('kasa/#')).toBe(false);
    expect(isValidTopicName('')).toBe(false);
    expect(isValidTopicFilter('kasa/+/set/#')).toBe(true);
    expect(isValidTopicFilter('kasa/a#')).toBe(false);
    expect(isValidTopicFilter('kasa/#/x')).toBe(false);
    expect(isValidTopicFilter('kasa/a+')).toBe(false);
    expect(isValidTopicFilter('')).toBe(false);
  });
});
