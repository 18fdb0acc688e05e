-- Reports a community's moderators escalate to the instance's administrators (issue 15 §1,
-- docs/admin.md "Reports"): the escalation (who, when, why) and the administrators' own outcome,
-- kept apart from the community's status so neither side overwrites the other's decision.
ALTER TABLE reports
  ADD COLUMN escalated_at timestamptz,
  ADD COLUMN escalated_by uuid REFERENCES users (id) ON DELETE SET NULL,
  ADD COLUMN escalation_note text CHECK (char_length(escalation_note) <= 2000),
  ADD COLUMN admin_status text CHECK (admin_status IN ('open', 'resolved', 'dismissed')),
  ADD COLUMN admin_closed_by uuid REFERENCES users (id) ON DELETE SET NULL,
  ADD COLUMN admin_closed_at timestamptz,
  ADD COLUMN admin_note text CHECK (char_length(admin_note) <= 2000),
  ADD CONSTRAINT reports_escalation_whole CHECK ((escalated_at IS NULL) = (admin_status IS NULL));
CREATE INDEX reports_escalated_idx ON reports (admin_status, escalated_at DESC) WHERE escalated_at IS NOT NULL;
