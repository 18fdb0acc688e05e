/**
 * CI: creates the database named in TEST_DATABASE_URL when it does not exist (a fresh
 * PostgreSQL has only `postgres`). The tests connect to it only as the place to issue
 * CREATE DATABASE from; each test file gets its own database (test/helpers/db.ts).
 */
import postgres from "postgres";

const url = process.env.TEST_DATABASE_URL;
if (!url) throw new Error("TEST_DATABASE_URL is not set");
const name = decodeURIComponent(new URL(url).pathname.slice(1));
if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`Unexpected database name in TEST_DATABASE_URL: ${JSON.stringify(name)}`);

const maintenance = new URL(url);
maintenance.pathname = "/postgres";
const admin = postgres(maintenance.toString(), { max: 1, onnotice: () => {} });
try {
  const [row] = await admin`select 1 as found from pg_database where datname = ${name}`;
  if (row) {
    console.log(`[ci] database ${name} exists`);
  } else {
    try {
      await admin.unsafe(`create database "${name}"`);
      console.log(`[ci] created database ${name}`);
    } catch (error) {
      // 42P04 duplicate_database: another run created it between the check and here.
      if ((error as { code?: string }).code !== "42P04") throw error;
    }
  }
} finally {
  await admin.end();
}
