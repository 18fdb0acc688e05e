-- Issue 10 (auth hardening).
--
-- Sessions remember which JWT signing key issued them (RFC 7638 thumbprint of the public key).
-- A session whose key is not the server's current key cannot refresh or act: rotating the key
-- pair signs everyone out. Sessions from before this migration have no key id and are treated
-- the same way (everyone signs in once after upgrading).
ALTER TABLE sessions ADD COLUMN key_id text CHECK (key_id IS NULL OR char_length(key_id) <= 64);

-- "N failed sign-in attempts since your last sign-in": counted on every failed password,
-- second-factor or recovery-code check against the account, reset by the next sign-in.
ALTER TABLE users ADD COLUMN failed_attempts_since_login integer NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_failed_attempt_at timestamptz;
