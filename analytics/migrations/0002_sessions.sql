-- Zone stays and mall visits per device pseudonym. Keyed by their start so a worker that writes
-- the same session again (restart, recompute) replaces it instead of adding a second.

CREATE TABLE zone_stays (
  mall_id    text        NOT NULL,
  device     text        NOT NULL,
  zone_id    text        NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at   timestamptz NOT NULL,
  dwell_ms   bigint      NOT NULL,
  bursts     integer     NOT NULL,
  PRIMARY KEY (mall_id, device, started_at)
);
CREATE INDEX zone_stays_zone_time ON zone_stays (mall_id, zone_id, started_at DESC);

CREATE TABLE visits (
  mall_id    text        NOT NULL,
  device     text        NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at   timestamptz NOT NULL,
  dwell_ms   bigint      NOT NULL,
  stays      integer     NOT NULL,
  bursts     integer     NOT NULL,
  PRIMARY KEY (mall_id, device, started_at)
);
CREATE INDEX visits_mall_time ON visits (mall_id, started_at DESC);
