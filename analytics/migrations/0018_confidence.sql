-- Confidence of the zone estimates (issue 4: a confidence per estimate), from core/src/zone-estimator.ts.
-- zone_stays: the mean, over the stay's bursts heard, of the decided zone's share of its step's
-- max-marginals. NULL when no burst was heard in the stay (a zone walked through unheard), and on
-- rows written before this column (a recompute fills them).
ALTER TABLE zone_stays ADD COLUMN confidence real;
-- occupancy_live: the mean, over the devices counted in the zone, of their causal estimate's
-- share of its step's scores. NULL when nobody is counted there.
ALTER TABLE occupancy_live ADD COLUMN confidence real;
