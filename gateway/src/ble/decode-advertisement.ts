import type { BleReading } from '../../../core/src/messages.ts';
import { AD_TYPE, serviceData16, walkAdStructures } from './ad-structures.ts';
import { EDDYSTONE_UUID16, parseEddystone } from './eddystone.ts';
import { parseIBeacon } from './ibeacon.ts';
import type { ScaleFrame, ScaleFrameParse } from './scale-frame.ts';
import {
  MI_BODY_COMPOSITION_UUID16,
  MI_SCALE_UUID16,
  parseMiBodyComposition,
  parseMiScale,
} from './xiaomi-scale.ts';

// One advertising payload → what it announces: a beacon frame, a scale reading, or nothing we read
// (still a sighting). A frame we recognise but cannot read (wrong length, reserved values) is
// reported in `skipped` so it is counted; the sighting itself does not depend on it. A payload
// whose AD structures do not add up is rejected as a whole.

export type Beacon = NonNullable<BleReading['beacon']>;

export type DecodedAdvertisement =
  | {
      ok: true;
      beacon?: Beacon;
      scale?: ScaleFrame;
      /** The payload carries scale service data (read or not): its sender is a scale, not a visitor. */
      fromScale: boolean;
      skipped: readonly string[];
    }
  | { ok: false; reason: 'ad-truncated' };

const NOTHING_SKIPPED: readonly string[] = [];

/** The skip list with `reason` added; allocated only on the first skip. */
function withSkip(skipped: string[] | undefined, reason: string): string[] {
  const list = skipped ?? [];
  list.push(reason);
  return list;
}

/** Decodes an advertising payload (AD structures, scan response appended); never throws. */
export function decodeAdvertisement(payload: Uint8Array): DecodedAdvertisement {
  const walk = walkAdStructures(payload);
  if (!walk.ok) return walk;
  let beacon: Beacon | undefined;
  let scale: ScaleFrame | undefined;
  let fromScale = false;
  let skipped: string[] | undefined;
  for (const s of walk.structures) {
    if (s.type === AD_TYPE.MANUFACTURER_DATA) {
      if (beacon) continue;
      const r = parseIBeacon(s.data);
      if (r.ok) beacon = r.beacon;
      else if (r.reason !== 'not-ibeacon') skipped = withSkip(skipped, r.reason);
      continue;
    }
    if (s.type !== AD_TYPE.SERVICE_DATA_16) continue;
    const eddystone = serviceData16(s, EDDYSTONE_UUID16);
    if (eddystone) {
      if (beacon) continue;
      const r = parseEddystone(eddystone);
      if (r.ok) beacon = r.beacon;
      else skipped = withSkip(skipped, r.reason);
      continue;
    }
    let parsed: ScaleFrameParse | undefined;
    const mi = serviceData16(s, MI_SCALE_UUID16);
    if (mi) parsed = parseMiScale(mi);
    const miBody = mi ? undefined : serviceData16(s, MI_BODY_COMPOSITION_UUID16);
    if (miBody) parsed = parseMiBodyComposition(miBody);
    if (!parsed) continue;
    fromScale = true;
    if (parsed.ok) scale ??= parsed.frame;
    else skipped = withSkip(skipped, parsed.reason);
  }
  const out: DecodedAdvertisement = { ok: true, fromScale, skipped: skipped ?? NOTHING_SKIPPED };
  if (beacon) out.beacon = beacon;
  if (scale) out.scale = scale;
  return out;
}
