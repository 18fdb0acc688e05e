-- Issue 15 §1 "Announcements" (docs/admin.md): an instance banner that admins with the power
-- `server_settings` create, edit and expire, shown on every signed-in page and dismissed per
-- user (the dismissal follows the user to every device). An edit keeps the dismissals unless the
-- admin asks to show it again, which deletes them.
CREATE TABLE announcements (
  id uuid PRIMARY KEY,
  body text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 2000),
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  expires_at timestamptz
);
CREATE INDEX announcements_expires_idx ON announcements (expires_at);
CREATE TABLE announcement_dismissals (
  announcement_id uuid NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  dismissed_at timestamptz NOT NULL,
  PRIMARY KEY (announcement_id, user_id)
);
CREATE INDEX announcement_dismissals_user_idx ON announcement_dismissals (user_id);
