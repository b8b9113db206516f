import { describe, expect, it } from 'vitest';
import { urlForDisplay } from '../../src/urlForDisplay.js';

describe('urlForDisplay', () => {
  it('removes the user name and password', () => {
    expect(urlForDisplay('mqtt://bob:very-secret@host:1883')).toBe('mqtt://host:1883');
    expect(urlForDisplay('mqtt://bob:p@ss-very-secret@host:1883')).toBe('mqtt://host:1883');
  });

  it('keeps a URL without userinfo as written', () => {
    expect(urlForDisplay('mqtt://127.0.0.1:1883')).toBe('mqtt://127.0.0.1:1883');
    expect(urlForDisplay('https://n-wap.tplinkcloud.com')).toBe('https://n-wap.tplinkcloud.com');
  });

  it('never shows a password holding an unencoded / ? or # (the URL then parses with no userinfo)', () => {
    for (const url of ['mqtt://bob:12/very-secret@host', 'mqtt://bob:9?very-secret@host:1883', 'mqtt://bob:7#very-secret@host']) {
      const shown = urlForDisplay(url);
      expect(shown).not.toContain('very-secret');
      expect(shown).toMatch(/^mqtt:\/\/host/);
    }
  });

  it('never shows the password of a URL written without its scheme (`user:pass@host`)', () => {
    expect(urlForDisplay('bob:very-secret@host:1883')).toBe('host:1883');
    expect(urlForDisplay('//bob:very-secret@host')).toBe('host');
    expect(urlForDisplay('mqtt:/bob:very-secret@host')).toBe('mqtt:/host');
  });
});
