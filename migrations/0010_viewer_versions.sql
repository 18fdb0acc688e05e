-- Live key distribution and shared history (issue 11, docs/crypto.md "Who can read a channel").
--
-- viewer_version: bumped in the same transaction as any change of who may read the channel
-- (join, leave, kick, ban, role/override/ownership change, privacy change, a viewer's device
-- added or revoked; src/features/permissions/viewer-versions.ts). A send names the version it
-- was encrypted for; the send statement refuses an older one (409 VIEWERS_CHANGED), so a sender
-- never encrypts for a stale recipient set.
ALTER TABLE channels ADD COLUMN viewer_version bigint NOT NULL DEFAULT 1 CHECK (viewer_version >= 1);

-- history_visibility: may new members read what was said before they joined? 'shared' (members'
-- devices forward the past keys to a joiner's devices) or 'joined' (only from joining on).
-- Channels that exist when this migration runs keep what they promised so far ('joined': a
-- newcomer could not read earlier messages); channels created from now on default to 'shared'.
-- DMs and group DMs ignore it (their participants are fixed at creation).
ALTER TABLE channels ADD COLUMN history_visibility text NOT NULL DEFAULT 'joined' CHECK (history_visibility IN ('shared', 'joined'));
ALTER TABLE channels ALTER COLUMN history_visibility SET DEFAULT 'shared';
