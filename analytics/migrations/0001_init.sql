-- Raw readings, batch ledger, occupancy and dead letters. Plain PostgreSQL >= 14; the
-- .timescale.sql beside this file adds hypertables where TimescaleDB is present.

CREATE TABLE ingested_batches (
  gateway_id  text        NOT NULL,
  seq         bigint      NOT NULL,
  mall_id     text        NOT NULL,
  kind        text        NOT NULL,
  readings    integer     NOT NULL,
  sent_at     timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mall_id, gateway_id, seq)
);

CREATE TABLE sightings (
  time        timestamptz NOT NULL,
  mall_id     text        NOT NULL,
  gateway_id  text        NOT NULL,
  sensor_id   text        NOT NULL,
  kind        text        NOT NULL CHECK (kind IN ('wifi', 'ble')),
  device      text        NOT NULL,
  rssi_dbm    smallint    NOT NULL,
  randomized  boolean     NOT NULL
);
CREATE INDEX sightings_mall_time ON sightings (mall_id, time DESC);
CREATE INDEX sightings_device_time ON sightings (device, time DESC);

CREATE TABLE scale_readings (
  time          timestamptz NOT NULL,
  mall_id       text        NOT NULL,
  gateway_id    text        NOT NULL,
  sensor_id     text        NOT NULL,
  member_id     text,
  weight_kg     real        NOT NULL,
  impedance_ohm real
);
CREATE INDEX scale_readings_member_time ON scale_readings (member_id, time DESC);

CREATE TABLE occupancy_minute (
  bucket   timestamptz NOT NULL,
  mall_id  text        NOT NULL,
  zone_id  text        NOT NULL,
  devices  integer     NOT NULL,
  PRIMARY KEY (mall_id, zone_id, bucket)
);

CREATE TABLE occupancy_live (
  mall_id  text        NOT NULL,
  zone_id  text        NOT NULL,
  devices  integer     NOT NULL,
  as_of    timestamptz NOT NULL,
  PRIMARY KEY (mall_id, zone_id)
);

CREATE TABLE dead_letters (
  id          bigserial   PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  topic       text        NOT NULL,
  mall_id     text,
  gateway_id  text,
  reason      text        NOT NULL,
  payload     text        NOT NULL
);
CREATE INDEX dead_letters_received ON dead_letters (received_at DESC);
