-- Files a reporter attached to a report of a message (issue 12 §7, docs/communities.md "Reports"):
-- the file as the reporter's browser decrypted it, sent by their choice so the community's
-- moderators can see what was reported. Like reports.attached_text this is plaintext the reporter
-- disclosed — the one place the server holds file content it can read (docs/crypto.md "Reported
-- content"). It lives with its report (CASCADE: the report's removal, its community's deletion,
-- removes it) and is bounded per report (REPORT_FILES_MAX_BYTES, 10 MiB over at most 10 files).
CREATE TABLE report_files (
  id uuid PRIMARY KEY,
  report_id uuid NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
  type text NOT NULL CHECK (char_length(type) BETWEEN 3 AND 127),
  size integer NOT NULL CHECK (size BETWEEN 0 AND 10485760),
  data bytea NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX report_files_report_idx ON report_files (report_id);
