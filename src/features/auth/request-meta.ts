import { clientIpOf } from "../../http/request-context.ts";
import type { RequestMeta } from "./audit.ts";
import { deviceCookieOf } from "./device-cookie.ts";

export function requestMeta(request: Request): RequestMeta {
  return { ip: clientIpOf(request), userAgent: request.headers.get("user-agent"), deviceCookie: deviceCookieOf(request) };
}
