-- Hourly rollups that outlive the raw sightings, and the maintenance ledger.
-- Plain PostgreSQL: `sightings_hourly` is a table that mallflow's maintenance fills from the raw
-- rows before retention deletes them; `occupancy_hourly` is a view (per-minute occupancy is kept).
-- The .timescale.sql beside this file makes both continuous aggregates instead.

CREATE TABLE sightings_hourly (
  bucket    timestamptz NOT NULL,
  mall_id   text        NOT NULL,
  sensor_id text        NOT NULL,
  kind      text        NOT NULL,
  readings  bigint      NOT NULL,
  PRIMARY KEY (mall_id, sensor_id, kind, bucket)
);

CREATE VIEW occupancy_hourly AS
  SELECT date_bin('1 hour', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket, mall_id, zone_id,
         avg(devices)::double precision AS avg_devices, max(devices) AS max_devices, count(*) AS minutes
  FROM occupancy_minute
  GROUP BY 1, 2, 3;

-- How far each maintenance task got, so a restarted worker continues instead of starting over.
CREATE TABLE maintenance_state (
  task       text        PRIMARY KEY,
  done_until timestamptz NOT NULL,
  ran_at     timestamptz NOT NULL DEFAULT now()
);
