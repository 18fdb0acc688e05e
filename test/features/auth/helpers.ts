/** Small helpers shared by the auth tests. */
import type { TestContext } from "../../helpers/app.ts";
import { jsonBody } from "../../helpers/users.ts";

export type ErrorBody = { error: { code: string; message: string; fields?: Record<string, string> } };

export async function postJson(ctx: TestContext, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; res: Response }> {
  const res = await ctx.request(path, jsonBody(body, headers));
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, res };
}

export async function sendJson(ctx: TestContext, method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await ctx.request(path, { method, headers: { "content-type": "application/json", ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, res };
}

export async function getJson(ctx: TestContext, path: string, headers: Record<string, string> = {}) {
  const res = await ctx.request(path, { headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, res };
}

let n = 0;
export function newAccount(overrides: Record<string, string> = {}) {
  n++;
  const username = `new_${n}_${Math.random().toString(36).slice(2, 6)}`;
  return { username, email: `${username}@example.test`, password: "a quiet harbour at dusk 7", ...overrides };
}
