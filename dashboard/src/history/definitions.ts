import { DEFAULT_STAFF_RULE, describeStaffRule } from '../../../core/src/staff-rule.ts';
import { DEFAULT_VISITOR_RULE, describeVisitorRule } from '../../../core/src/visitor-rule.ts';
import type { RecordedRules } from '../sql/engine-settings.ts';

// What each history figure means, named in every history response (`definitions`) and on the page.

export const HISTORY_DEFINITIONS = {
  localTime:
    "Days and hours are the mall's local time (its layout's time zone). A day runs from local midnight to the next (23 to 25 hours); from/to include both dates.",
  visit:
    "A device's stay in the mall (table visits). Its zone stays are those of the same mall and device that started within it. A visit counts in the period its start falls in. Staff devices' visits (staffDevice) count in no figure but staff.",
  visitors: 'Distinct devices with a visitor visit starting in the period.',
  visitorsLow:
    "The visitor count's low end, for rotating (randomized) MACs: visitors without an orphan visitor visit, one that began with a randomized MAC inside the mall that the engine could not link to an earlier one (most likely a rotation of someone counted already).",
  visitorsHigh:
    "The visitor count's high end: visitors plus the doubtful links in their visitor visits (a rotated MAC linked to a predecessor when a rival scored close: maybe two people).",
  passersBy: 'Distinct devices with visits starting in the period, none of them a visitor visit.',
  captureRate: 'visitors / (visitors + passersBy); null when both are 0.',
  avgDwellMs: 'Mean dwell in milliseconds of the visitor visits starting in the period; null without any.',
  newVisitors: 'Visitors whose first visit (device_first_seen.first_visit_at) falls in the period.',
  returningVisitors: 'visitors - newVisitors.',
  visitorVisits: 'Visitor visits starting in the period (a device may make several).',
  dwellBuckets:
    'Visitor visits by dwell: < 5 min, 5-20 min, 20-60 min, 1-6 h, 6 h and more (lower bound included, upper excluded).',
  heatmap:
    "Devices placed in each zone at each minute's end (occupancy_minute). Hour cells: the mean of the hour's recorded minutes (devices) and the busiest one (peakDevices). null: no minute recorded.",
  flows:
    'Transitions between consecutive zone stays of one device within one visit (from zone -> to zone), for the visits starting in the range; busiest pairs first. Two stays in a row in one zone are not a flow. Read from the hourly zone_transitions where the analytics maintenance has written them (hours a day old), counted from the visits for the rest: the same either way.',
  topStores:
    "Store zones by their zone stays starting in the range: by number of stays (by=visits) or by median stay dwell (by=dwell); the mean dwell is given beside the median. meanConfidence: the mean confidence of those stays' zone estimates (0..1: for each burst heard in a stay, the share of the decided zone in the scores of the zones it could have been in, given the bursts up to a minute after it; a stay's is the mean over its bursts), null when none has one (stays walked through unheard, or written before confidences were kept).",
  paths:
    'The stores a visitor visit (staff left out) went through, in order, for the visits starting in the range: stays in other zones (corridors, atria, escalators, lifts, entrances, the street) are dropped and a store repeated after them counts once (cafe, hall, cafe is the path cafe). Most common first (ties: fewer stops, then by zone ids); share = visits / visitsWithPath. Visitor visits without a store stay have no path.',
  visitFrequency:
    'Devices (staff left out) by their visitor visits starting in the range: 1, 2, 3-4, 5 or more; newDevices: of them, those first seen in the range (device_first_seen), the rest returning; share = devices / all devices.',
  peakHours:
    "Per hour of the day (the mall's local time), the mean over every day of the range (a day without data counts 0) of: visitors, distinct devices (staff left out) with a visitor visit starting in the hour; occupancy, devices in the mall (all zones, staff not told apart) averaged over the hour's minutes (a minute without a row is 0). peaks: each day's hour with the most occupancy and the one with the most visitors (the earliest of ties; null without any).",
  compare:
    'The KPIs of two periods side by side, each counted over its whole period (a device counts once per period): change = period - vsPeriod (captureRate in rate units), changePct = change / vsPeriod x 100, null when vsPeriod is 0.',
  source:
    'rollup: the day was read from the daily KPI rollup (kpi_daily, refreshed by the analytics worker once a day is over); live: counted from visits and zone stays for this request.',
} as const;

/**
 * The definitions with the visitor and staff rules the analytics worker recorded for the mall
 * (engine_settings), or the defaults when no worker has recorded them yet.
 */
export function historyDefinitions(recorded: RecordedRules) {
  const rule = recorded.visitorRule ?? DEFAULT_VISITOR_RULE;
  const staffRule = recorded.staffRule ?? DEFAULT_STAFF_RULE;
  return {
    ...HISTORY_DEFINITIONS,
    visitorVisit: `${describeVisitorRule(rule)} The analytics engine classes each visit when it closes (visits.passer_by); \`mallflow recompute\` applies a changed rule to history.`,
    passerByVisit: 'A visit that does not meet the visitor rule (visitorVisit).',
    visitorRule: { ...rule, source: recorded.visitorRule ? 'engine_settings' : 'default' },
    staffDevice: `${describeStaffRule(staffRule)} Flagged by the analytics maintenance (table staff_devices).`,
    staff:
      'present: staff devices with a visit starting in the range; flagged: staff devices flagged in the mall, whenever seen.',
    staffRule: { ...staffRule, source: recorded.staffRule ? 'engine_settings' : 'default' },
  };
}
