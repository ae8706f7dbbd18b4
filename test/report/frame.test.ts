import { describe, expect, it } from 'vitest';
import { frameRun, unframeRuns } from '../../src/report/frame.js';

const files = { 'report.json': '{"format":1}\n', 'finals.jsonl': '{"device":"1","state":"succeeded"}\n'.repeat(500), 'violations.jsonl': '' };

describe('a run folder framed for kubectl logs', () => {
  it('comes back whole, among other log lines, and with kubectl\'s --prefix on every line', () => {
    const framed = frameRun({ ...files, '../../etc/passwd': 'x' });
    expect(framed.split('\n').every((l) => l.length <= 76 || l.startsWith('-----BEGIN'))).toBe(true);
    const log = `ota-swarm · summary\n${framed}report: somewhere\n`;
    expect(unframeRuns(log)).toEqual([{ files }]);
    const prefixed = (text: string, pod: string): string => text.split('\n').map((l) => `[pod/${pod}/shard] ${l}`).join('\n');
    const two = `${prefixed(log, 'a-0')}\n${prefixed(frameRun({ 'report.json': '{}' }), 'a-1')}`;
    expect(unframeRuns(two)).toEqual([{ files }, { files: { 'report.json': '{}' } }]);
  });

  it('refuses a frame cut short or damaged, saying where, and finds none in a plain log', () => {
    const framed = frameRun(files).split('\n');
    expect(unframeRuns(framed.slice(0, 3).join('\n'))).toEqual([{ problem: 'frame at line 1: no end marker (the log was cut short)' }]);
    const damaged = [...framed];
    damaged[2] = (damaged[2] as string).replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    expect(unframeRuns(damaged.join('\n'))).toEqual([{ problem: expect.stringMatching(/^frame at line 1: .*checksum wrong: the frame is damaged$/) }]);
    const missingLine = [...framed.slice(0, 2), ...framed.slice(3)];
    expect(unframeRuns(missingLine.join('\n'))).toEqual([{ problem: expect.stringMatching(/expected \d+ characters: the frame is damaged/) }]);
    expect(unframeRuns('just a log\n')).toEqual([]);
  });
});
