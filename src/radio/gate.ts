/**
 * When does a device that wants to send actually get its first byte out? A PSM device only talks
 * inside its awake spans, so outside them it waits for its next TAU wake; a device whose RRC
 * connection went idle first pays the connection set-up. Pure, no allocation.
 */
import { canTalk, connectDelayMs, nextUplinkWake, type RadioConfig } from './model.js';

export function uplinkStart(cfg: RadioConfig, wantAtMs: number, lastActivityMs: number): number {
  const at = canTalk(cfg, wantAtMs, lastActivityMs) ? wantAtMs : nextUplinkWake(cfg, wantAtMs);
  return at + Math.max(0, connectDelayMs(cfg, lastActivityMs, at));
}
