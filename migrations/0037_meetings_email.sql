-- Issue 18 §5 (docs/meetings.md): email verification, meetings, and the mail outbox.
--
-- Email verification: nothing is mailed to an address until its owner opened the link sent to it
-- (only the link itself goes to an unverified address). The link's token is stored as its
-- SHA-256 only; it expires and is used once. Changing the address clears email_verified_at.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
CREATE TABLE email_verifications (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email text NOT NULL,
  token_hash bytea NOT NULL CHECK (octet_length(token_hash) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE UNIQUE INDEX email_verifications_token_hash_key ON email_verifications (token_hash);
CREATE INDEX email_verifications_user_idx ON email_verifications (user_id, created_at);

-- A meeting in a channel or DM. As little plaintext as possible: the title is stored only when
-- the organizer chose to put it in the invitation email (include_title); otherwise title and
-- description live only in the conversation's encrypted message. Times, time zone, attendees and
-- the voice channel are metadata the server needs to send invitations and collect RSVPs.
CREATE TABLE meetings (
  id uuid PRIMARY KEY,
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  organizer_id uuid REFERENCES users (id) ON DELETE SET NULL,
  include_title boolean NOT NULL DEFAULT false,
  title text CHECK (title IS NULL OR char_length(title) BETWEEN 1 AND 200),
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  time_zone text NOT NULL CHECK (char_length(time_zone) BETWEEN 1 AND 64),
  voice_channel_id uuid REFERENCES channels (id) ON DELETE SET NULL,
  message_id uuid REFERENCES messages (id) ON DELETE SET NULL,
  sequence integer NOT NULL DEFAULT 0,
  cancelled_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at),
  CHECK (include_title OR title IS NULL)
);
CREATE INDEX meetings_channel_idx ON meetings (channel_id, starts_at);

CREATE TABLE meeting_attendees (
  meeting_id uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  rsvp text CHECK (rsvp IN ('yes', 'no', 'maybe')),
  responded_at timestamptz,
  PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX meeting_attendees_user_idx ON meeting_attendees (user_id);

-- Pending mail. The worker sends due rows (next_attempt_at), retrying with exponential backoff up
-- to a bounded number of attempts; then failed_at is set and the organizer sees the failure on the
-- meeting. After sending, the bodies are erased (the row stays as the delivery record).
CREATE TABLE mail_outbox (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('verify', 'meeting')),
  user_id uuid REFERENCES users (id) ON DELETE CASCADE,
  meeting_id uuid REFERENCES meetings (id) ON DELETE CASCADE,
  to_address text NOT NULL,
  subject text NOT NULL,
  text_body text NOT NULL,
  ical text,
  ical_method text CHECK (ical_method IN ('REQUEST', 'CANCEL')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  sent_at timestamptz,
  failed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_meeting_idx ON mail_outbox (meeting_id);
