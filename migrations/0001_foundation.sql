-- Foundation: instance-wide settings editable at runtime by admins (env config stays in src/config.ts).
-- The migrations bookkeeping table (schema_migrations) is created by src/db/migrate.ts itself.
CREATE TABLE instance_settings (
  key text PRIMARY KEY CHECK (char_length(key) BETWEEN 1 AND 64),
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
