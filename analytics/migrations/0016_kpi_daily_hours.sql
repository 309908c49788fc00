-- Peak hours from the daily rollup (issue 4): per local day, by local hour of the day (0-23, a DST
-- day's repeated hour summed into its hour), the visitors arriving (distinct devices with a visitor
-- visit starting in the hour, staff left out) and the device-minutes in the mall (occupancy_minute
-- summed over zones and minutes). Rows rolled up before this migration have neither (NULL) and are
-- counted live; the next maintenance run rolls the recent days up again.
ALTER TABLE kpi_daily ADD COLUMN hourly_visitors integer[];
ALTER TABLE kpi_daily ADD COLUMN hourly_device_minutes bigint[];
DELETE FROM maintenance_state WHERE task = 'daily-kpis';
