-- Key service (issue 4 §3). The server stores only PUBLIC device keys, one-time prekeys until they
-- are handed out, and each user's key backup as an opaque ciphertext it cannot open.

-- One row per device (not per user): a user with three browsers has three identities.
-- device_id is chosen by the client (it signs nothing with it, but it is in the device's own
-- key state before registration); unique per user only, so no user can learn or squat another
-- user's device ids.
CREATE TABLE key_devices (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  device_id text NOT NULL CHECK (device_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  signing_key bytea NOT NULL CHECK (octet_length(signing_key) = 32),
  identity_key bytea NOT NULL CHECK (octet_length(identity_key) = 32),
  signed_prekey_id bigint NOT NULL CHECK (signed_prekey_id BETWEEN 0 AND 4294967295),
  signed_prekey bytea NOT NULL CHECK (octet_length(signed_prekey) = 32),
  -- Verified with validateSignedPrekeySignature before every insert/update.
  signed_prekey_signature bytea NOT NULL CHECK (octet_length(signed_prekey_signature) = 64),
  signed_prekey_updated_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, device_id)
);

-- Each row is handed out exactly once: the bundle fetch deletes it (DELETE ... RETURNING on a row
-- picked with FOR UPDATE SKIP LOCKED), so no used one-time prekey stays on the server.
CREATE TABLE key_one_time_prekeys (
  user_id uuid NOT NULL,
  device_id text NOT NULL,
  prekey_id bigint NOT NULL CHECK (prekey_id BETWEEN 0 AND 4294967295),
  public_key bytea NOT NULL CHECK (octet_length(public_key) = 32),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, device_id, prekey_id),
  FOREIGN KEY (user_id, device_id) REFERENCES key_devices (user_id, device_id) ON DELETE CASCADE
);

-- One encrypted backup per user (the key-backup blob's fields). version only grows: an upload
-- with a version <= the stored one is refused (compare-and-set in one statement).
CREATE TABLE key_backups (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  version bigint NOT NULL CHECK (version >= 1),
  salt bytea NOT NULL CHECK (octet_length(salt) = 32),
  nonce bytea NOT NULL CHECK (octet_length(nonce) = 24),
  ciphertext bytea NOT NULL,
  updated_at timestamptz NOT NULL
);
