-- Issue 17 §1–§4: public images (avatars, community icons and banners, custom emoji). These are
-- NOT end-to-end encrypted (docs/crypto.md "Public images"): the server re-encodes each upload
-- (src/features/images/codec.ts) and stores the result in the blob store. One row per stored
-- image; its blob is removed when the row goes (replaced, removed, owner or community deleted:
-- the files job's orphan walk keeps blobs that have a row here).
CREATE TABLE images (
  id uuid PRIMARY KEY,
  blob_id text NOT NULL UNIQUE CHECK (blob_id ~ '^[0-9a-f]{32}$'),
  -- SHA-256 of the stored bytes, hex: part of the served URL (versioned, cached forever).
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  kind text NOT NULL CHECK (kind IN ('avatar', 'icon', 'banner', 'emoji')),
  content_type text NOT NULL CHECK (content_type IN ('image/webp')),
  width integer NOT NULL CHECK (width BETWEEN 1 AND 4096),
  height integer NOT NULL CHECK (height BETWEEN 1 AND 4096),
  size integer NOT NULL CHECK (size BETWEEN 1 AND 10485760),
  animated boolean NOT NULL DEFAULT false,
  -- Whose it is: an avatar belongs to a user, everything else to a community.
  user_id uuid REFERENCES users (id) ON DELETE CASCADE,
  community_id uuid REFERENCES communities (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'avatar' AND user_id IS NOT NULL AND community_id IS NULL) OR (kind <> 'avatar' AND community_id IS NOT NULL AND user_id IS NULL))
);
CREATE INDEX images_user_id_idx ON images (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX images_community_id_idx ON images (community_id) WHERE community_id IS NOT NULL;

ALTER TABLE users ADD COLUMN avatar_image_id uuid REFERENCES images (id) ON DELETE SET NULL;
ALTER TABLE communities ADD COLUMN icon_image_id uuid REFERENCES images (id) ON DELETE SET NULL;
ALTER TABLE communities ADD COLUMN banner_image_id uuid REFERENCES images (id) ON DELETE SET NULL;
-- Shown to a member when they join (and on the community's about page): plain text.
ALTER TABLE communities ADD COLUMN welcome_message text CHECK (char_length(welcome_message) <= 2000);

-- Custom emoji: ≤ 50 per community (seeds/000), shortcode unique per community ignoring case.
CREATE TABLE community_emoji (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  shortcode text NOT NULL CHECK (shortcode ~ '^[A-Za-z0-9_]{2,32}$'),
  image_id uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX community_emoji_shortcode_key ON community_emoji (community_id, lower(shortcode));
CREATE INDEX community_emoji_image_id_idx ON community_emoji (image_id);

-- A reaction `:shortcode:` with a 32-character shortcode is 34 characters.
ALTER TABLE message_reactions DROP CONSTRAINT message_reactions_emoji_check;
ALTER TABLE message_reactions ADD CONSTRAINT message_reactions_emoji_check CHECK (char_length(emoji) BETWEEN 1 AND 34);
