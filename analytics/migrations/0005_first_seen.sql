-- The first-seen registry: each device pseudonym's first mall visit, so a day's visitors split into
-- new and returning without scanning all history. Kept as long as the visits it summarises.

CREATE TABLE device_first_seen (
  mall_id        text        NOT NULL,
  device         text        NOT NULL,
  first_visit_at timestamptz NOT NULL,
  PRIMARY KEY (mall_id, device)
);
CREATE INDEX device_first_seen_time ON device_first_seen (mall_id, first_visit_at);
