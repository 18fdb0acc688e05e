-- Issue 15 §1: the instance banner (docs/admin.md "Announcements"), and who dismissed it.
--
-- One announcement is live at a time: the newest whose expires_at is null or in the future.
-- Editing the text clears its dismissals (everyone sees the correction); a dismissal is per user,
-- so it holds on every device of theirs.
CREATE TABLE announcements (
  id uuid PRIMARY KEY,
  body text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 2000),
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  expires_at timestamptz
);
CREATE INDEX announcements_created_idx ON announcements (created_at DESC);

CREATE TABLE announcement_dismissals (
  announcement_id uuid NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  dismissed_at timestamptz NOT NULL,
  PRIMARY KEY (announcement_id, user_id)
);
CREATE INDEX announcement_dismissals_user_idx ON announcement_dismissals (user_id);
