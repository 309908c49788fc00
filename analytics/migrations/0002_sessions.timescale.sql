SELECT create_hypertable('zone_stays', by_range('started_at', INTERVAL '7 days'));
SELECT create_hypertable('visits', by_range('started_at', INTERVAL '7 days'));
