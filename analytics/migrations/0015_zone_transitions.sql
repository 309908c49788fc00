-- Zone-to-zone transitions per hour (issue 5): consecutive zone stays of one visit, counted by the
-- hour its visit started in (hours cut from the mall's local midnight), so the history flows read a
-- month as a few thousand rows instead of a month of visits and stays. Rebuilt from visits and
-- zone_stays by the analytics maintenance (once the visits starting in an hour are written) and by
-- `mallflow recompute`; staff: the visit's device was a staff device (staff_devices) when rebuilt.
CREATE TABLE zone_transitions (
  mall_id     text        NOT NULL,
  bucket      timestamptz NOT NULL,
  from_zone   text        NOT NULL,
  to_zone     text        NOT NULL,
  staff       boolean     NOT NULL,
  transitions integer     NOT NULL,
  PRIMARY KEY (mall_id, bucket, from_zone, to_zone, staff)
);
