-- Issue 15 §2: a tamper-evident audit log (docs/admin.md "Audit log").
--
-- Rows are still inserted by the action they record, inside its transaction (no lock on the hot
-- paths: a sign-in does not queue behind other audited actions). The sealer (features/audit,
-- every few seconds and before every verification or export) then gives each committed row its
-- place in one chain: chain_pos, the previous row's hash, and its own hash = HMAC-SHA256 under a
-- key derived from TOTP_ENCRYPTION_KEY over (previous hash, the row's canonical content). Editing,
-- deleting or reordering a sealed row breaks the chain at that row; someone holding only the
-- database cannot recompute the hashes. The head is kept in audit_chain; pruning (retention)
-- leaves a signed checkpoint in audit_checkpoints that verification starts from.
ALTER TABLE audit_log ADD COLUMN chain_pos bigint UNIQUE;
ALTER TABLE audit_log ADD COLUMN prev_hash bytea;
ALTER TABLE audit_log ADD COLUMN hash bytea;
CREATE INDEX audit_log_unsealed_idx ON audit_log (created_at, id) WHERE chain_pos IS NULL;

CREATE TABLE audit_chain (
  id smallint PRIMARY KEY CHECK (id = 1),
  head_pos bigint NOT NULL,
  head_hash bytea NOT NULL,
  -- The last head written to the log as an anchor (audit.anchor) for operators to copy off.
  anchored_pos bigint NOT NULL DEFAULT 0
);
INSERT INTO audit_chain (id, head_pos, head_hash) VALUES (1, 0, decode('0000000000000000000000000000000000000000000000000000000000000000', 'hex'));

CREATE TABLE audit_checkpoints (
  chain_pos bigint PRIMARY KEY,
  hash bytea NOT NULL,
  pruned_rows bigint NOT NULL,
  created_at timestamptz NOT NULL,
  signature bytea NOT NULL
);
