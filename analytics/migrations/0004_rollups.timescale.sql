-- TimescaleDB: the rollups are real-time continuous aggregates (materialized part plus the raw
-- rows not yet materialized); mallflow's maintenance refreshes them, then compresses raw chunks
-- and drops the ones past retention (the embedded build has no background workers).

DROP TABLE sightings_hourly;
DROP VIEW occupancy_hourly;

CREATE MATERIALIZED VIEW sightings_hourly
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
  SELECT time_bucket('1 hour', time) AS bucket, mall_id, sensor_id, kind, count(*) AS readings
  FROM sightings
  GROUP BY 1, 2, 3, 4
  WITH NO DATA;

CREATE MATERIALIZED VIEW occupancy_hourly
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
  SELECT time_bucket('1 hour', bucket) AS bucket, mall_id, zone_id,
         avg(devices)::double precision AS avg_devices, max(devices) AS max_devices, count(*) AS minutes
  FROM occupancy_minute
  GROUP BY 1, 2, 3
  WITH NO DATA;

ALTER TABLE sightings SET (
  timescaledb.compress,
  timescaledb.compress_segmentby = 'mall_id, sensor_id',
  timescaledb.compress_orderby = 'time DESC'
);
