/**
 * Data rights (issue 15 §3, docs/admin.md "Data rights"): the user's own export and its
 * decryption in the browser (src/client/export-decrypt.ts), an admin's encrypted export and wipe
 * of a user behind a fresh re-authentication.
 */
export { dataRightsRoutes } from "./routes.tsx";
export { openSealed, SealError, SEAL_MAGIC } from "./sealed.ts";
