/**
 * The header rows of a sharded run, for the console and the HTML report alike: which slice a shard
 * report covers, which shards a merged one holds, and the agreed start.
 */
import { formatMs } from '../config/units.js';
import { count } from './format.js';
import type { Report } from './types.js';

/** Which slice of a sharded fleet this is, or which shards a merged report holds; and the agreed start. */
export function shardRows(r: Report): [string, string][] {
  const rows: [string, string][] = [];
  if (r.fleetSlice) rows.push(['shard', `${r.fleetSlice.index}/${r.fleetSlice.count}: ${count(r.fleetSlice.devices)} of ${count(r.fleetSlice.fleetDevices)} devices (the fleet's verdict: ota-swarm merge)`]);
  if (r.merged) {
    const short = r.merged.slices.filter((s) => s.status !== 'merged').map((s) => `${s.index} ${s.status}`);
    rows.push(['shards', `${r.merged.slices.filter((s) => s.status === 'merged').length} of ${r.merged.shards} merged${short.length > 0 ? ` (${short.join(', ')})` : ''}`]);
  }
  const start = r.harness.start;
  if (start) rows.push(['start', `agreed ${start.at}${start.lateByMs > 0 ? `, ${r.merged ? 'latest shard ' : ''}late by ${formatMs(start.lateByMs)}` : ', on time'}`]);
  return rows;
}
