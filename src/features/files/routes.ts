/**
 * The files API (docs/files.md):
 *   GET    /api/files/quota                        the caller's used and allowed bytes
 *   POST   /api/files/uploads                      start an upload session (size reserved)
 *   GET    /api/files/uploads/{id}                 the session: acknowledged parts (resume)
 *   PUT    /api/files/uploads/{id}/parts/{part}    one part, streamed (application/octet-stream)
 *   DELETE /api/files/uploads/{id}                 cancel an upload no message carries
 *   GET    /api/files/{id}                         the ciphertext, whole or a Range
 * Upload sessions are their uploader's only: anyone else gets 404 UPLOAD_NOT_FOUND; a file is
 * downloadable by whoever may read its message, else 404 FILE_NOT_FOUND like an unknown id.
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { json } from "../../http/render.ts";
import { bodyBudgets } from "../../http/body-budget.ts";
import { Uuid } from "../../http/input-schemas.ts";
import { authGuard } from "../auth/index.ts";
import { cancelUpload, getQuota, getUpload, startUpload, writeUploadPart } from "./uploads.ts";
import { downloadFile } from "./downloads.ts";
import { MAX_ATTACHMENT_CHUNK_SIZE, MAX_PART_SIZE, MIN_ATTACHMENT_CHUNK_SIZE } from "./limits.ts";

const StartBody = t.Object({
  channel_id: Uuid,
  size: t.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  part_size: t.Integer({ minimum: 1, maximum: MAX_PART_SIZE }),
  chunk_size: t.Optional(t.Integer({ minimum: MIN_ATTACHMENT_CHUNK_SIZE, maximum: MAX_ATTACHMENT_CHUNK_SIZE })),
});

export function fileRoutes(deps: AppDeps) {
  return new Elysia({ name: "files-api" })
    .use(authGuard(deps))
    .use(bodyBudgets)
    .get("/api/files/quota", async ({ actor }) => json(await getQuota(deps, actor)), { auth: true })
    .post("/api/files/uploads", async ({ actor, body }) => json({ upload: await startUpload(deps, actor, body) }, { status: 201 }), { auth: true, body: StartBody })
    .get("/api/files/uploads/:id", async ({ actor, params }) => json({ upload: await getUpload(deps, actor, params.id) }), { auth: true })
    // The body is never parsed or buffered: the handler streams it into the blob store.
    .put("/api/files/uploads/:id/parts/:part", async ({ actor, params, request }) => json(await writeUploadPart(deps, actor, params.id, params.part, request)), {
      auth: true,
      parse: "none",
      bodyLimit: { bytes: MAX_PART_SIZE, streamed: true },
    })
    .delete("/api/files/uploads/:id", async ({ actor, params }) => {
      await cancelUpload(deps, actor, params.id);
      return new Response(null, { status: 204 });
    }, { auth: true })
    .get("/api/files/:id", async ({ actor, params, request }) => downloadFile(deps, actor, params.id, request), { auth: true });
}
