-- Visits across rotating MACs (issue 4). A visit is now recorded under the first device of a chain
-- of linked MAC rotations; each zone stay names the visit device it belongs to. The linker's doubts
-- travel with the visit so a day's unique-visitor count can be reported with an interval, and the
-- passer-by call (too little time inside) is the analytics' own, made once.

ALTER TABLE visits ADD COLUMN devices integer NOT NULL DEFAULT 1;
ALTER TABLE visits ADD COLUMN doubtful_links integer NOT NULL DEFAULT 0;
ALTER TABLE visits ADD COLUMN orphan boolean NOT NULL DEFAULT false;
ALTER TABLE visits ADD COLUMN passer_by boolean NOT NULL DEFAULT false;
ALTER TABLE visits ADD COLUMN inside_ms bigint;
ALTER TABLE zone_stays ADD COLUMN visit_device text;
