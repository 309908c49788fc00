// Visitor or passer-by: the rule a visit is classed by, after Cisco Meraki's location analytics
// (a visitor is "seen at least 5 times in 20 minutes", entering at a stronger signal than it must
// keep). A sighting here is a probe burst: one probe request heard by any number of sensors
// within BURST_WINDOW_MS counts once, at its strongest RSSI, so a phone near many sensors is not
// counted as many sightings. A visit is a visitor's when both hold:
//   signal   at least `minBursts` bursts within `windowMs`, the first of them at `firstRssiDbm`
//            or stronger and the rest at `rssiDbm` or stronger (someone walking past the door
//            is heard weakly, or briefly);
//   inside   at least `minInsideMs` in zones that are not 'outside' (the street in front).
// Everything else is a passer-by visit. The shell names the rule in the API (`describeVisitorRule`).

export interface VisitorRule {
  /** Bursts needed within `windowMs`. */
  minBursts: number;
  windowMs: number;
  /** The first counted burst must be at least this strong, dBm. */
  firstRssiDbm: number;
  /** The following ones at least this strong, dBm. */
  rssiDbm: number;
  /** Time needed in zones that are not 'outside', ms. */
  minInsideMs: number;
}

export const DEFAULT_VISITOR_RULE: Readonly<VisitorRule> = Object.freeze({
  minBursts: 5,
  windowMs: 20 * 60_000,
  firstRssiDbm: -75,
  rssiDbm: -80,
  minInsideMs: 60_000,
});

/** The default rule with `overrides` applied. */
export function visitorRuleWith(overrides: Partial<VisitorRule> | undefined): VisitorRule {
  return { ...DEFAULT_VISITOR_RULE, ...overrides };
}

/**
 * The bursts counted toward the signal condition so far, oldest first (at most minBursts - 1 of
 * them: once there are minBursts the visit qualifies and the window is dropped).
 */
export interface SignalWindow {
  atMs: number[];
  rssiDbm: number[];
}

/**
 * Counts a burst heard at `atMs` with strongest RSSI `rssiDbm` (bursts come in time order) and
 * returns whether the signal condition now holds. Bursts older than the window fall out, and so
 * do weak ones left at its head: the window always starts with a strong burst.
 */
export function countSignalBurst(w: SignalWindow, atMs: number, rssiDbm: number, rule: VisitorRule): boolean {
  let drop = 0;
  while (
    drop < w.atMs.length &&
    (atMs - w.atMs[drop]! > rule.windowMs || w.rssiDbm[drop]! < rule.firstRssiDbm)
  ) {
    drop++;
  }
  if (drop > 0) {
    w.atMs.splice(0, drop);
    w.rssiDbm.splice(0, drop);
  }
  if (rssiDbm >= (w.atMs.length === 0 ? rule.firstRssiDbm : rule.rssiDbm)) {
    w.atMs.push(atMs);
    w.rssiDbm.push(rssiDbm);
  }
  return w.atMs.length >= rule.minBursts;
}

/** The rule in words, with its figures, for API definitions and logs. */
export function describeVisitorRule(rule: VisitorRule): string {
  return (
    `A visitor visit has at least ${rule.minBursts} probe bursts within ${rule.windowMs / 60_000} min ` +
    `(a burst: one probe request heard by any number of sensors, at its strongest RSSI), the first at ` +
    `${rule.firstRssiDbm} dBm or stronger and the others at ${rule.rssiDbm} dBm or stronger, and at least ` +
    `${rule.minInsideMs / 1000} s inside the mall (zones that are not 'outside'). Every other visit is a passer-by visit.`
  );
}
