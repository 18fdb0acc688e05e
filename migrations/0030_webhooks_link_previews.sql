-- Issue 18 §1 and §3 (docs/integrations.md).
--
-- Incoming webhooks (seeds/000): a channel's webhook posts PLAINTEXT messages. The token is shown
-- once at creation; only its SHA-256 is stored (token_hash), so a copy of the database or a backup
-- cannot post. Revoking sets revoked_at (the row stays for the admin list and for the messages it
-- posted); deleting the channel deletes its webhooks.
CREATE TABLE webhooks (
  id uuid PRIMARY KEY,
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
  token_hash bytea NOT NULL CHECK (octet_length(token_hash) = 32),
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE UNIQUE INDEX webhooks_token_hash_key ON webhooks (token_hash);
CREATE INDEX webhooks_channel_idx ON webhooks (channel_id, created_at);

-- A webhook message: scheme 'wh', no ciphertext, its content in `plaintext` (JSON: content,
-- username, avatar_url) — the one plaintext path of Hearth, badged "Webhook · not E2EE" by every
-- client. Erasing a message (deletion, TTL) clears `plaintext` as it clears `ciphertext`.
ALTER TABLE messages ADD COLUMN webhook_id uuid REFERENCES webhooks (id) ON DELETE SET NULL;
ALTER TABLE messages ADD COLUMN plaintext jsonb;
ALTER TABLE messages DROP CONSTRAINT messages_scheme_check;
ALTER TABLE messages ADD CONSTRAINT messages_scheme_check CHECK (scheme IN ('sk', 'pw', 'wh'));
ALTER TABLE messages DROP CONSTRAINT messages_check;
ALTER TABLE messages ADD CONSTRAINT messages_content_check CHECK (
  CASE WHEN scheme = 'wh'
    THEN ciphertext IS NULL AND (deleted_at IS NULL) = (plaintext IS NOT NULL)
    ELSE plaintext IS NULL AND (deleted_at IS NULL) = (ciphertext IS NOT NULL)
  END
);

-- Link previews made by the sender (issue 18 §3): a per-user switch (on by default). When on,
-- the composer asks the server to fetch a preview of the first link, so the server learns the
-- URL (the settings page says so); the preview then travels inside the encrypted message.
ALTER TABLE users ADD COLUMN link_previews boolean NOT NULL DEFAULT true;
