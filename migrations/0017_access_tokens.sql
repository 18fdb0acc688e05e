-- Issue 16 §3: personal access tokens for scripts and bots (docs/auth.md "API tokens").
--
-- A token acts through a session row of its own (sessions.key_id = 'token'), so everything keyed
-- by a session (socket revocation, voice seats, file transfers, "sign out everywhere") treats it
-- like a signed-in device; it never has a refresh token and is not bound to the JWT key. The
-- secret is shown once and stored as its SHA-256 (it has 256 bits of entropy).
CREATE TABLE access_tokens (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  session_id uuid NOT NULL UNIQUE REFERENCES sessions (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
  scope text NOT NULL CHECK (scope IN ('read', 'write')),
  token_hash text NOT NULL UNIQUE CHECK (char_length(token_hash) = 64),
  created_at timestamptz NOT NULL,
  -- null: never expires (the session row carries a far-future expiry).
  expires_at timestamptz
);
CREATE INDEX access_tokens_user_idx ON access_tokens (user_id);
