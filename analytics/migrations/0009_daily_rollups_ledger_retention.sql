-- Daily rollups per mall and local calendar day (the mall's time zone), kept like the hourly ones
-- after raw retention: devices per zone (device-minutes, the busiest minute, minutes recorded) and
-- readings per sensor. Plain PostgreSQL: tables the analytics maintenance fills, day by day, from
-- occupancy_minute and the raw sightings. The .timescale.sql beside this file makes them views
-- over continuous aggregates instead, one per time zone the malls are in (TimescaleDB buckets a
-- continuous aggregate in one fixed zone), created by the maintenance as malls appear.
-- Distinct visitors per day are not here: they are not a sum of hours (kpi_daily, migration 0006).

-- Each mall's time zone as the analytics worker last saw it in the mall's layout.
CREATE TABLE mall_time_zones (
  mall_id    text        PRIMARY KEY,
  time_zone  text        NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- device_minutes: the sum of the zone's per-minute device counts over the day (average devices =
-- device_minutes / minutes recorded; a missing minute is 0, see occupancy_minute).
CREATE TABLE occupancy_daily (
  mall_id        text        NOT NULL,
  day            date        NOT NULL,
  day_start      timestamptz NOT NULL,
  time_zone      text        NOT NULL,
  zone_id        text        NOT NULL,
  device_minutes bigint      NOT NULL,
  peak_devices   integer     NOT NULL,
  minutes        integer     NOT NULL,
  PRIMARY KEY (mall_id, zone_id, day)
);

CREATE TABLE sightings_daily (
  mall_id   text        NOT NULL,
  day       date        NOT NULL,
  day_start timestamptz NOT NULL,
  time_zone text        NOT NULL,
  sensor_id text        NOT NULL,
  kind      text        NOT NULL,
  readings  bigint      NOT NULL,
  PRIMARY KEY (mall_id, sensor_id, kind, day)
);

-- The batch ledger is kept as long as the raw sightings (maintenance deletes older rows): it only
-- has to recognise redeliveries and gateway replays, and at one row per batch it would otherwise
-- grow by millions of rows a day in a large mall.
CREATE INDEX ingested_batches_received_at ON ingested_batches (received_at);
