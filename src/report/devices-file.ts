/**
 * finals.jsonl (`--device-finals`): every started device's id and final state, one JSON line each,
 * beside report.json. The report keeps counts by state; this file says which device ended where,
 * so two runs (one machine, or N shards merged) can be compared device by device.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export const DEVICES_FILE = 'finals.jsonl';

export interface DeviceFinal {
  id: string;
  state: string;
}

/** One line of the file. */
export const deviceLine = (d: DeviceFinal): string => `${JSON.stringify({ device: d.id, state: d.state })}\n`;

/**
 * Writes the lines (sorted by device id, so files of equal runs are equal byte for byte); returns
 * the file's name for the report, or undefined (said through `log`) when it could not be written.
 */
export async function writeDevicesFile(path: string, finals: readonly DeviceFinal[], log: (line: string) => void): Promise<string | undefined> {
  try {
    await mkdir(dirname(path), { recursive: true });
    const sorted = [...finals].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    await writeFile(path, sorted.map(deviceLine).join(''), 'utf8');
    return basename(path);
  } catch (err) {
    log(`could not write ${path}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)} (final states are counted in the report only)`);
    return undefined;
  }
}
