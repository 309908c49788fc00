// Staff devices: a phone present most of the day on most days is a staff member's, not a
// shopper's. A device is staff once, in some run of `windowDays` consecutive local days, it had
// at least `minDays` days with `minPresenceMs` or more of presence (the summed duration of its
// visits starting that day). A regular who shops daily for an hour never qualifies; a clerk on
// 9-hour shifts six days a week does within a week. Flagged devices are left out of every
// visitor KPI and counted apart (table staff_devices, refreshed by the analytics maintenance).

export interface StaffRule {
  /** Qualifying days needed within `windowDays`. */
  minDays: number;
  /** Consecutive local days the qualifying days must fall in. */
  windowDays: number;
  /** Presence a day needs to qualify, ms. */
  minPresenceMs: number;
}

export const DEFAULT_STAFF_RULE: Readonly<StaffRule> = Object.freeze({
  minDays: 5,
  windowDays: 7,
  minPresenceMs: 6 * 3_600_000,
});

/** The rule in words, with its figures, for API definitions and logs. */
export function describeStaffRule(rule: StaffRule): string {
  const hours = Math.round((rule.minPresenceMs / 3_600_000) * 100) / 100;
  return (
    `A staff device was present at least ${hours} h (its visits starting that local day, summed) on ` +
    `at least ${rule.minDays} of ${rule.windowDays} consecutive days. Staff devices are left out of ` +
    `every visitor figure (visitors, passers-by, dwell, new vs returning, flows, paths, stores) and counted apart.`
  );
}
