-- An edit can come from another of the sender's devices (docs/messages.md "Edit history"): the
-- message row names the device of its current version (readers of a Sender Key message need the
-- device whose key encrypted it), and each kept version names the device that wrote it.
-- NULL for versions kept before this migration: the message's device at the time is unknown; the
-- client tries the message's current device.
ALTER TABLE message_edits ADD COLUMN sender_device_id text;
