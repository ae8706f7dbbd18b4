/** Outcome labels with the spec's meaning of each code, per dialect and call. */
import { describe, expect, it } from 'vitest';
import { outcomeMeaning, withMeaning } from '../../src/protocol/meanings.js';
import { renderHtml } from '../../src/report/html.js';
import { sampleReport } from './fixture.js';

describe('outcome meanings', () => {
  it('OneNET errnos mean what the call they answer says', () => {
    expect(withMeaning('onenet', 'check', 'errno:1')).toBe('errno:1 auth failed / no such device');
    expect(withMeaning('onenet', 'check', 'errno:11')).toBe('errno:11 no task');
    expect(withMeaning('onenet', 'tokenCheck', 'errno:4')).toBe('errno:4 token and device differ');
    expect(withMeaning('onenet', 'result', 'errno:20')).toBe('errno:20 task finished');
    expect(withMeaning('onenet', 'download', 'download-error:3')).toBe('download-error:3 invalid token');
  });

  it('Luat codes', () => {
    expect(withMeaning('luat', 'luat', 'code:40')).toBe('code:40 loop ban');
    expect(withMeaning('luat', 'luat', 'code:25')).toBe('code:25 invalid project');
    expect(withMeaning('luat', 'luat', 'code:26')).toBe('code:26 invalid firmware');
    expect(withMeaning('luat', 'luat', 'code:3')).toBe('code:3 invalid device');
  });

  it('the HTML report shows the meaning beside the short label', () => {
    const html = renderHtml(sampleReport());
    expect(html).toContain('<code>errno:0</code> task offered');
  });

  it('labels without a meaning stay as they are', () => {
    for (const label of ['bytes', 'net:TIMEOUT', 'http:503', 'errno:999', 'errno:other']) expect(outcomeMeaning('onenet', 'check', label)).toBeUndefined();
    expect(withMeaning('plugin-dialect', 'x', 'code:3')).toBe('code:3');
  });
});
