import { register as globalRegister } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { BridgeMetrics } from '../../src/health/metrics.js';
import { FakeHealthSource, sample } from './fakeSource.js';

describe('BridgeMetrics', () => {
  let source: FakeHealthSource;
  let metrics: BridgeMetrics;

  beforeEach(() => {
    source = new FakeHealthSource();
    metrics = new BridgeMetrics(source);
  });

  it('exposes every bridge metric and the Node process metrics', async () => {
    const text = await metrics.text();
    for (const name of [
      'kasa2mqtt_cloud_requests_total',
      'kasa2mqtt_cloud_request_duration_seconds',
      'kasa2mqtt_queue_depth',
      'kasa2mqtt_rate_limited_seconds_total',
      'kasa2mqtt_rate_limited',
      'kasa2mqtt_command_latency_seconds',
      'kasa2mqtt_mqtt_connected',
      'kasa2mqtt_session_state',
      'kasa2mqtt_devices',
      'kasa2mqtt_devices_online',
      'kasa2mqtt_storage_error',
      'kasa2mqtt_build_info',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(metrics.contentType).toMatch(/^text\/plain/);
  });

  it('starts every known operation and result at zero, so rate() works from the first scrape', async () => {
    const text = await metrics.text();
    expect(sample(text, 'kasa2mqtt_cloud_requests_total', { operation: 'passthrough', result: 'ok' })).toBe(0);
    expect(sample(text, 'kasa2mqtt_cloud_requests_total', { operation: 'login', result: 'timeout' })).toBe(0);
    expect(sample(text, 'kasa2mqtt_command_latency_seconds_count', { status: 'error' })).toBe(0);
  });

  it('counts cloud requests by operation and result, with their duration', async () => {
    metrics.recordCloudRequest({ op: 'passthrough', outcome: 'ok', durationMs: 250 });
    metrics.recordCloudRequest({ op: 'passthrough', outcome: 'ok', durationMs: 150 });
    metrics.recordCloudRequest({ op: 'passthrough', outcome: 'cloud_error', durationMs: 90 });
    const text = await metrics.text();
    expect(sample(text, 'kasa2mqtt_cloud_requests_total', { operation: 'passthrough', result: 'ok' })).toBe(2);
    expect(sample(text, 'kasa2mqtt_cloud_requests_total', { operation: 'passthrough', result: 'cloud_error' })).toBe(1);
    expect(sample(text, 'kasa2mqtt_cloud_request_duration_seconds_count', { operation: 'passthrough' })).toBe(3);
    expect(sample(text, 'kasa2mqtt_cloud_request_duration_seconds_sum', { operation: 'passthrough' })).toBeCloseTo(0.49);
    expect(sample(text, 'kasa2mqtt_cloud_request_duration_seconds_bucket', { operation: 'passthrough', le: '0.1' })).toBe(1);
  });

  it('keeps the operation label bounded: unknown operations count as "other"', async () => {
    metrics.recordCloudRequest({ op: 'passthrough:8006AB12CD34', outcome: 'network_error', durationMs: 10 });
    const text = await metrics.text();
    expect(sample(text, 'kasa2mqtt_cloud_requests_total', { operation: 'other', result: 'network_error' })).toBe(1);
    expect(text).not.toContain('8006AB12CD34');
  });

  it('records command latency by status', async () => {
    metrics.observeCommand(400, 'ok');
    metrics.observeCommand(3000, 'error');
    metrics.observeCommand(Number.NaN, 'ok');
    const text = await metrics.text();
    expect(sample(text, 'kasa2mqtt_command_latency_seconds_count', { status: 'ok' })).toBe(1);
    expect(sample(text, 'kasa2mqtt_command_latency_seconds_bucket', { status: 'ok', le: '0.5' })).toBe(1);
    expect(sample(text, 'kasa2mqtt_command_latency_seconds_count', { status: 'error' })).toBe(1);
    expect(sample(text, 'kasa2mqtt_command_latency_seconds_bucket', { status: 'error', le: '2' })).toBe(0);
  });

  it('reads the gauges from the source at scrape time', async () => {
    Object.assign(source, { mqtt: false, total: 7, online: 5, depth: 12, until: Date.now() + 60_000 });
    let text = await metrics.text();
    expect(sample(text, 'kasa2mqtt_mqtt_connected')).toBe(0);
    expect(sample(text, 'kasa2mqtt_devices')).toBe(7);
    expect(sample(text, 'kasa2mqtt_devices_online')).toBe(5);
    expect(sample(text, 'kasa2mqtt_queue_depth')).toBe(12);
    expect(sample(text, 'kasa2mqtt_rate_limited')).toBe(1);

    Object.assign(source, { mqtt: true, depth: 0, until: undefined });
    text = await metrics.text();
    expect(sample(text, 'kasa2mqtt_mqtt_connected')).toBe(1);
    expect(sample(text, 'kasa2mqtt_queue_depth')).toBe(0);
    expect(sample(text, 'kasa2mqtt_rate_limited')).toBe(0);
  });

  it('sets kasa2mqtt_storage_error to 1 while a DATA_DIR file cannot be saved, back to 0 once saved', async () => {
    source.storage = 'topic-keys.json: not saved (ENOSPC)';
    expect(sample(await metrics.text(), 'kasa2mqtt_storage_error')).toBe(1);
    source.storage = undefined;
    expect(sample(await metrics.text(), 'kasa2mqtt_storage_error')).toBe(0);
  });

  it('sets exactly one session state to 1 and follows changes', async () => {
    source.auth = 'mfa_required';
    let text = await metrics.text();
    expect(sample(text, 'kasa2mqtt_session_state', { state: 'mfa_required' })).toBe(1);
    for (const other of ['logging_in', 'verifying', 'authenticated', 'error']) {
      expect(sample(text, 'kasa2mqtt_session_state', { state: other }), other).toBe(0);
    }
    source.auth = 'authenticated';
    text = await metrics.text();
    expect(sample(text, 'kasa2mqtt_session_state', { state: 'authenticated' })).toBe(1);
    expect(sample(text, 'kasa2mqtt_session_state', { state: 'mfa_required' })).toBe(0);
  });

  it('follows the source total of rate-limited time as a counter, including a source restart', async () => {
    source.rateLimited = 30;
    expect(sample(await metrics.text(), 'kasa2mqtt_rate_limited_seconds_total')).toBe(30);
    source.rateLimited = 42.5;
    expect(sample(await metrics.text(), 'kasa2mqtt_rate_limited_seconds_total')).toBe(42.5);
    expect(sample(await metrics.text(), 'kasa2mqtt_rate_limited_seconds_total')).toBe(42.5);
    source.rateLimited = 2;
    expect(sample(await metrics.text(), 'kasa2mqtt_rate_limited_seconds_total')).toBe(2);
  });

  it('uses its own registry: instances coexist and the global registry stays empty of them', async () => {
    const other = new BridgeMetrics(new FakeHealthSource());
    other.recordCloudRequest({ op: 'login', outcome: 'ok', durationMs: 5 });
    expect(sample(await metrics.text(), 'kasa2mqtt_cloud_requests_total', { operation: 'login', result: 'ok' })).toBe(0);
    expect(globalRegister.getSingleMetric('kasa2mqtt_queue_depth')).toBeUndefined();
  });
});
