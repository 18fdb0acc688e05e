// Centered card for login / register / recover / 2FA pages (Layout variant "page", no top bar).
import type { Child, FC, PropsWithChildren } from "hono/jsx";
import { BrandMark, ThemeToggle } from "./layout.tsx";

export type AuthCardProps = PropsWithChildren<{
  title: string;
  subtitle?: string;
  /** Under the card: "No account? Register", legal links... */
  footer?: Child;
  siteName?: string;
}>;

export const AuthCard: FC<AuthCardProps> = (p) => (
  <div class="auth">
    <div class="auth__top">
      <BrandMark siteName={p.siteName} />
      <ThemeToggle />
    </div>
    <section class="card auth__card" aria-labelledby="auth-title">
      <header class="auth__header">
        <h1 class="auth__title" id="auth-title">
          {p.title}
        </h1>
        {p.subtitle ? <p class="auth__subtitle">{p.subtitle}</p> : null}
      </header>
      {p.children}
    </section>
    {p.footer ? <div class="auth__footer">{p.footer}</div> : null}
  </div>
);
