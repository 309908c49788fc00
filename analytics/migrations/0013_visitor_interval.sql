-- Unique visitors as an interval (issue 4: rotating MACs): the daily rollup keeps, beside the
-- visitor count, its low end (visitors whose visit began as an orphan rotation, one the linker could
-- not tie to anyone, taken as someone already counted) and high end (every doubtful link taken as
-- two people). Rows rolled up before this migration have neither (NULL); the next maintenance run
-- rolls the recent days up again.

ALTER TABLE kpi_daily ADD COLUMN visitors_low integer;
ALTER TABLE kpi_daily ADD COLUMN visitors_high integer;
DELETE FROM maintenance_state WHERE task = 'daily-kpis';
