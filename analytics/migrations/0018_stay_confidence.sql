-- Confidence of a zone stay (issue 4: a confidence per zone estimate): the mean, over the stay's
-- bursts heard, of the decided zone's share of its step's max-marginals (core/src/zone-estimator.ts).
-- NULL when no burst was heard in the stay (a zone walked through unheard), and on rows written
-- before this column (a recompute fills them).
ALTER TABLE zone_stays ADD COLUMN confidence real;
