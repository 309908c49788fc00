-- What the live engine needs beyond the rows it writes (issue 4).
-- engine_settings: the settings each mall's visits were classed with (the visitor rule), written
--   by the analytics worker when it starts and by `mallflow recompute`; the history API names
--   them in its definitions.
-- engine_checkpoints: the live engine state per mall (open visits and zone stays, device tracks),
--   saved on a timer and at shutdown, so a restarted worker continues visits instead of splitting
--   them. `applied_to` is the engine's watermark: the sightings before it are inside the state;
--   on restart the worker replays the stored sightings from there.

CREATE TABLE engine_settings (
  mall_id      text        PRIMARY KEY,
  visitor_rule jsonb       NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE engine_checkpoints (
  mall_id    text        PRIMARY KEY,
  format     integer     NOT NULL,
  applied_to timestamptz NOT NULL,
  taken_at   timestamptz NOT NULL DEFAULT now(),
  bytes      integer     NOT NULL,
  state      bytea       NOT NULL
);
