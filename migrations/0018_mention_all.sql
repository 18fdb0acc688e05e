-- Issue 13 §3: @everyone / @here (docs/messages.md "Unread and mentions").
--
-- mention_all: the sender asked to mention everyone who can read the channel ('everyone') or the
-- members online when it was sent ('here'); stored only when the sender held mention_everyone
-- (the send is refused otherwise). The text stays encrypted: this column is all the server knows.
-- here_ids: for 'here', who was online at send time (an open socket on any instance), resolved by
-- the server so mention counts stay right after a reload; never shown to anyone (it would reveal
-- invisible users' sockets). Bounded by the send path (HERE_MAX).
ALTER TABLE messages ADD COLUMN mention_all text CHECK (mention_all IS NULL OR mention_all IN ('everyone', 'here'));
ALTER TABLE messages ADD COLUMN here_ids uuid[] NOT NULL DEFAULT '{}' CHECK (cardinality(here_ids) <= 2000);
-- A scheduled message keeps its @everyone / @here until delivery (checked again then: a sender who
-- lost mention_everyone meanwhile gets the delivery refused, MENTION_EVERYONE_DENIED).
ALTER TABLE scheduled_messages ADD COLUMN mention_all text CHECK (mention_all IS NULL OR mention_all IN ('everyone', 'here'));
