-- Issue 13 §8: the email address is optional at registration. Nothing sends mail to users yet
-- (recovery is by recovery code, password resets by a link an admin hands over), so asking for
-- one only collects personal data. When given it stays unique (case-insensitive; NULLs do not
-- collide in the unique index) and single sign-on still links accounts by a verified email.
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
