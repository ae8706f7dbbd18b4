/**
 * The radio power-saving model (spec §3.1): 3GPP timer values (timers.ts), per-device radio and
 * its wake / reachability rules (model.ts), wake patterns (wake.ts) and the link a download is
 * paced to (link.ts). Pure: virtual ms in, no clocks, no I/O.
 */
export * from './timers.js';
export * from './model.js';
export * from './wake.js';
export * from './link.js';
export { nextOnLattice, lastOnLattice } from './lattice.js';
