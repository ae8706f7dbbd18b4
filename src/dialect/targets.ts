/**
 * The target specs of the built-in dialects, by name: the one list the scenario loader (which
 * checks `target.<name>`), the published schema (which shows those blocks to editors) and the
 * dialect registry read. A plugin brings its own spec in its `DialectPlugin`.
 */
import type { DialectTargetSpec } from './types.js';
import { onenetTarget } from './onenet/target.js';
import { luatTarget } from './luat/target.js';

export const BUILT_IN_TARGETS: Readonly<Record<string, DialectTargetSpec<never>>> = {
  onenet: onenetTarget as DialectTargetSpec<never>,
  luat: luatTarget as DialectTargetSpec<never>,
};
