-- Issue 15 §1: password-reset links an instance admin hands over (docs/admin.md "Reset password").
--
-- The secret has 256 bits of entropy and is stored only as its SHA-256; a link is spent by one
-- conditional UPDATE (used_at IS NULL AND expires_at > now), so it works once. A new link for the
-- same user replaces the earlier unused ones (the service deletes them).
CREATE TABLE password_reset_links (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE CHECK (char_length(token_hash) = 64),
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX password_reset_links_user_idx ON password_reset_links (user_id);
