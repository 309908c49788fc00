-- What the gateways' real inputs add: the 802.11 sequence number and the probe request's IE
-- fingerprint (both help tell one phone with rotating MACs from many, see issue 4), and the body
-- fat a scale reports itself (Body Composition Measurement 0x2A9C). All optional.

ALTER TABLE sightings ADD COLUMN frame_seq smallint;
ALTER TABLE sightings ADD COLUMN ie_fingerprint text;
ALTER TABLE scale_readings ADD COLUMN body_fat_pct real;
