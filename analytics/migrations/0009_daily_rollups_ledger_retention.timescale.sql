-- TimescaleDB: the daily rollups are views over continuous aggregates, one pair per time zone the
-- malls are in (`daily_rollup_zones`), which the analytics maintenance creates and refreshes (see
-- analytics/src/sql/daily-rollups.ts). Until a zone is registered the views are empty.

DROP TABLE occupancy_daily;
DROP TABLE sightings_daily;

CREATE TABLE daily_rollup_zones (
  time_zone       text        PRIMARY KEY,
  occupancy_view  text        NOT NULL,
  sightings_view  text        NOT NULL,
  -- Built on the hourly aggregates where the zone's midnight is a whole UTC hour, else on the raw tables.
  from_hourly     boolean     NOT NULL,
  refreshed_until timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE VIEW occupancy_daily AS
  SELECT NULL::text AS mall_id, NULL::date AS day, NULL::timestamptz AS day_start, NULL::text AS time_zone,
         NULL::text AS zone_id, NULL::bigint AS device_minutes, NULL::integer AS peak_devices,
         NULL::integer AS minutes
  WHERE false;

CREATE VIEW sightings_daily AS
  SELECT NULL::text AS mall_id, NULL::date AS day, NULL::timestamptz AS day_start, NULL::text AS time_zone,
         NULL::text AS sensor_id, NULL::text AS kind, NULL::bigint AS readings
  WHERE false;
