/**
 * A real OpenID Provider on loopback (the `oidc-provider` package, the certified implementation)
 * for SSO tests. Its development login form accepts any login name: the name becomes the subject,
 * and claims come from `accounts` (or defaults derived from the name).
 */
import Provider from "oidc-provider";
import type { Server } from "node:http";

export type IdpAccount = { email?: string; email_verified?: boolean; preferred_username?: string; name?: string };

export type TestIdp = { issuer: string; clientId: string; clientSecret: string; accounts: Map<string, IdpAccount>; close(): Promise<void> };

export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

export async function startTestIdp(redirectUri: string): Promise<TestIdp> {
  const port = freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = "hearth-test";
  const clientSecret = `secret-${crypto.randomUUID()}`;
  const accounts = new Map<string, IdpAccount>();
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ["authorization_code"], response_types: ["code"] }],
    pkce: { required: () => true },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["preferred_username", "name"] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => {
        const a = accounts.get(sub) ?? {};
        return { sub, email: a.email ?? `${sub}@idp.example`, email_verified: a.email_verified ?? true, preferred_username: a.preferred_username ?? sub, name: a.name ?? `IdP ${sub}` };
      },
    }),
  });
  // Silence the provider's development-mode warnings in test output.
  const warn = console.warn;
  console.warn = () => {};
  const server: Server = provider.listen(port);
  console.warn = warn;
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once("listening", () => resolve())));
  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
