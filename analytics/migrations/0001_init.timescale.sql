-- Applied after 0001_init.sql only where TimescaleDB is available.
SELECT create_hypertable('sightings', by_range('time', INTERVAL '1 day'));
SELECT create_hypertable('scale_readings', by_range('time', INTERVAL '7 days'));
SELECT create_hypertable('occupancy_minute', by_range('bucket', INTERVAL '7 days'));
