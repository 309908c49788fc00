-- Path sequences per day (issue 4): per mall and local day, how many visitor visits (staff left
-- out) went through each sequence of stores (other zones dropped, a store repeated after them
-- once), written by the daily KPI rollup beside its kpi_daily row; visits_with_path on that row
-- says the day's paths are rolled up (NULL: count them live). A month's top paths then sum rows
-- per day instead of joining a month of visits and stays.
CREATE TABLE path_daily (
  mall_id text    NOT NULL,
  day     date    NOT NULL,
  -- The store zone ids in order, joined with '>' (ids never hold one): grouped as text, a month
  -- of days sums twice as fast as text[].
  path    text    NOT NULL,
  visits  integer NOT NULL,
  PRIMARY KEY (mall_id, day, path)
);
ALTER TABLE kpi_daily ADD COLUMN visits_with_path integer;
