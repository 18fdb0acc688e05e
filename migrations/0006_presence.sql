-- Presence and read receipts (issue 6 §2). Presence itself is ephemeral (memory or Redis); the
-- database only keeps whether the user shares read receipts.
ALTER TABLE users ADD COLUMN read_receipts boolean NOT NULL DEFAULT true;
