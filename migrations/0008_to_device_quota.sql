-- To-device queue quotas (issue 10, docs/messages.md "To-device messages"). Each (sender user,
-- recipient device) pair has its own share of a device's queue, counted in messages and bytes, so
-- a flood from one sender fills only its own share; each sender also has a total byte quota over
-- all recipients; undelivered rows expire (created_at + TTL) and are deleted in batches by the
-- message jobs.

-- Decoded ciphertext size, kept by the database itself: quota sums read it from the index below
-- instead of every row's ciphertext.
ALTER TABLE device_messages ADD COLUMN size_bytes integer GENERATED ALWAYS AS (octet_length(ciphertext)) STORED;

-- A sender's usage per recipient device, and over all recipients (quota checks); also serves
-- the sender_id foreign key's cascade.
CREATE INDEX device_messages_pair_idx ON device_messages (sender_id, recipient_id, recipient_device_id, created_at) INCLUDE (size_bytes);

-- The expiry sweep: oldest first.
CREATE INDEX device_messages_created_idx ON device_messages (created_at);
