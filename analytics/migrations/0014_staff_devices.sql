-- Staff devices (issue 4): phones present most of the day on most days (core/src/staff-rule.ts),
-- flagged by the analytics maintenance from visits and left out of every visitor KPI.
-- first_flagged_day: the local day the rule first held; last_qualifying_day: the latest day it held.
CREATE TABLE staff_devices (
  mall_id             text        NOT NULL,
  device              text        NOT NULL,
  first_flagged_day   date        NOT NULL,
  last_qualifying_day date        NOT NULL,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mall_id, device)
);

-- The staff rule the devices were flagged with; a changed rule re-flags the mall from its visits.
-- Maintenance may record it before the worker records a visitor rule: that one becomes optional.
ALTER TABLE engine_settings ADD COLUMN staff_rule jsonb;
ALTER TABLE engine_settings ALTER COLUMN visitor_rule DROP NOT NULL;
