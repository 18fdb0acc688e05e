-- Voice and video calls (issue 14, docs/voice.md): who sits in which call, and DM rings.
-- Live state only: a seat is deleted when its person leaves, a ring when it ends. Hearth keeps no
-- call history (call records live inside the encrypted conversation, written by the clients).

-- One seat per user (one call at a time), bound to one socket of one session on one instance.
-- conn_id changes at every (re)bind, so peers know to negotiate afresh. disconnected_at is set
-- when the socket closes: the seat is kept through a short grace, then freed. seen_at is
-- refreshed by the instance holding the socket, so a crashed instance's seats are freed too.
CREATE TABLE voice_participants (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  conn_id uuid NOT NULL UNIQUE,
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  device_id text NOT NULL CHECK (char_length(device_id) BETWEEN 1 AND 64),
  instance_id text NOT NULL CHECK (char_length(instance_id) BETWEEN 1 AND 64),
  muted boolean NOT NULL DEFAULT false,
  deafened boolean NOT NULL DEFAULT false,
  video boolean NOT NULL DEFAULT false,
  screen boolean NOT NULL DEFAULT false,
  joined_at timestamptz NOT NULL,
  seen_at timestamptz NOT NULL,
  disconnected_at timestamptz
);
CREATE INDEX voice_participants_channel_idx ON voice_participants (channel_id, joined_at);
CREATE INDEX voice_participants_instance_idx ON voice_participants (instance_id);
CREATE INDEX voice_participants_session_idx ON voice_participants (session_id);

-- A DM or group DM call ringing one callee (all of their devices) until answered, declined,
-- cancelled or expired.
CREATE TABLE voice_rings (
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  callee_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  caller_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  started_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (channel_id, callee_id)
);
CREATE INDEX voice_rings_expires_idx ON voice_rings (expires_at);
CREATE INDEX voice_rings_callee_idx ON voice_rings (callee_id);
CREATE INDEX voice_rings_caller_idx ON voice_rings (caller_id);
