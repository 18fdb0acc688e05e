-- Issue 15 §3: data rights (docs/admin.md "Data rights").
--
-- A fresh re-authentication of an admin, per session: the admin export and wipe of a user need
-- the password (and the TOTP code when two-factor is on) entered on THIS session within the last
-- five minutes. Another session of the same admin holds no grant.
ALTER TABLE sessions ADD COLUMN reauthenticated_at timestamptz;

-- The audit log is hash-chained (0023): every column of a sealed row, actor_id included, is
-- committed to by its hash. ON DELETE SET NULL rewrote actor_id of sealed rows when an account
-- was deleted, and so broke the chain at the first entry of the deleted user. The log keeps the
-- (now dangling, pseudonymous) id instead: the users row, with the name and email, is gone.
ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_actor_id_fkey;
