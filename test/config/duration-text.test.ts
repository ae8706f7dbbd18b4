import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { durationText, formatMs } from '../../src/config/units.js';
import { CLIENT_SCRIPT } from '../../src/report/html/client.js';

describe('durations as people read them', () => {
  it('minutes and seconds, never a decimal minute', () => {
    expect(durationText(70)).toBe('1m 10s');
    expect(durationText(60)).toBe('1m');
    expect(durationText(150)).toBe('2m 30s');
    expect(durationText(45)).toBe('45s');
    expect(durationText(2.5)).toBe('2.5s');
    expect(durationText(0.25)).toBe('0.25s');
    expect(durationText(59.96)).toBe('1m');
    expect(durationText(3599.6)).toBe('1h');
    expect(durationText(3900)).toBe('1h 5m');
    expect(durationText(90_000)).toBe('1d 1h');
    expect(formatMs(70_200)).toBe('1m 10s');
    expect(formatMs(5_400_000)).toBe('1h 30m');
    expect(formatMs(1500)).toBe('1.50s');
  });

  it('report.html\'s time axes use the same words (70 s is "1m 10s", not "1.17min")', () => {
    // The page's script embeds durationText's own source; evaluate that part alone.
    const helper = /var durationText = (function durationText[\s\S]*?\n\});/.exec(CLIENT_SCRIPT)?.[1];
    expect(helper).toBeDefined();
    const embedded = runInNewContext(`(${helper!})`) as (s: number) => string;
    for (const s of [1, 45, 70, 90, 600, 3900, 90_000]) expect(embedded(s)).toBe(durationText(s));
    expect(embedded(70)).toBe('1m 10s');
    expect(CLIENT_SCRIPT).not.toContain("'min'");
    // The whole page script still parses with the source spliced in.
    expect(() => new Function(CLIENT_SCRIPT)).not.toThrow();
  });
});
