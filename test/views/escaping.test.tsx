// Every shared component that takes text must escape it (hono/jsx does, as long as nobody
// reaches for raw HTML). Checked on the rendered string, in text and attribute positions.
import { describe, expect, test } from "bun:test";
import type { Child } from "hono/jsx";
import {
  AppFrame,
  AuthCard,
  Avatar,
  ChannelGroup,
  CheckboxField,
  SelectField,
  ChannelIntro,
  ChannelHeader,
  ChannelLink,
  Composer,
  DaySeparator,
  EmptyState,
  ErrorBanner,
  ErrorPage,
  Field,
  Layout,
  MemberGroup,
  MemberRow,
  Message,
  MessageGroup,
  RailItem,
  SettingsShell,
  SidebarHeader,
  Toast,
  UnreadDivider,
  avatarColourIndex,
  htmxConfig,
  initialsOf,
  orderScripts,
} from "../../views/index.ts";
import { xOn } from "../../views/alpine.ts";

const SCRIPT = "<script>alert(1)</script>";
const BREAKOUT = '"><img src=x onerror=alert(1)>';
const BOTH = `${SCRIPT}${BREAKOUT}`;

const assets = { styles: ["/public/build/app.css"], scripts: orderScripts({ htmx: "/h.js", app: "/a.js", alpine: "/al.js" }) };

function html(el: Child): string {
  return String(el);
}

function expectEscaped(out: string) {
  expect(out).not.toContain("<script>alert");
  expect(out).not.toMatch(/<img src=x/i);
  expect(out).not.toContain('"><img src=x');
}

const cases: Record<string, () => Child> = {
  Layout: () => (
    <Layout title={BOTH} assets={assets} topBar user={{ id: BOTH, displayName: BOTH, avatarUrl: BREAKOUT }}>
      {BOTH}
    </Layout>
  ),
  Field: () => <Field name={BREAKOUT} id={BREAKOUT} label={BOTH} value={BOTH} hint={BOTH} error={BOTH} placeholder={BOTH} autocomplete={BREAKOUT} />,
  FieldTextarea: () => <Field name="bio" type="textarea" label={BOTH} value={BOTH} error={BOTH} />,
  CheckboxField: () => <CheckboxField name={BREAKOUT} label={BOTH} hint={BOTH} error={BOTH} value={BOTH} />,
  SelectField: () => <SelectField name="s" label={BOTH} hint={BOTH} error={BOTH} value={BOTH} options={[{ value: BOTH, label: BOTH }]} />,
  ErrorBanner: () => <ErrorBanner title={BOTH} message={BOTH} requestId={BOTH} id={BREAKOUT} />,
  Toast: () => <Toast title={BOTH} message={BOTH} oob />,
  Avatar: () => <Avatar userId={BOTH} name={BOTH} imageUrl={BREAKOUT} decorative={false} />,
  ErrorPage: () => <ErrorPage status={500} title={BOTH} message={BOTH} requestId={BOTH} homeHref={BREAKOUT} />,
  AppFrame: () => <AppFrame rail={BOTH} sidebar={BOTH} header={BOTH} main={BOTH} composer={BOTH} members={BOTH} navLabel={BOTH} paneLabel={BOTH} />,
  AuthCard: () => (
    <AuthCard title={BOTH} subtitle={BOTH} footer={BOTH} siteName={BOTH}>
      {BOTH}
    </AuthCard>
  ),
  SettingsShell: () => (
    <SettingsShell title={BOTH} description={BOTH} navLabel={BOTH} nav={[{ title: BOTH, items: [{ href: BREAKOUT, label: BOTH, current: true }] }]}>
      {BOTH}
    </SettingsShell>
  ),
  ChatParts: () => (
    <>
      <RailItem id={BOTH} name={BOTH} href={BREAKOUT} mentions={2} />
      <SidebarHeader title={BOTH} subtitle={BOTH} />
      <ChannelGroup name={BOTH}>
        <ChannelLink href={BREAKOUT} name={BOTH} mentions={1} />
      </ChannelGroup>
      <ChannelHeader name={BOTH} topic={BOTH} encrypted />
      <DaySeparator label={BOTH} date={BREAKOUT} />
      <UnreadDivider label={BOTH} />
      <ChannelIntro name={BOTH} topic={BOTH} />
      <MessageGroup author={{ id: BOTH, name: BOTH, badge: BOTH }} time={BREAKOUT} timeLabel={BOTH}>
        <Message id={BREAKOUT} ciphertext={BOTH}>
          {BOTH}
        </Message>
      </MessageGroup>
      <Composer action={BREAKOUT} channelName={BOTH} />
      <MemberGroup label={BOTH} count={1}>
        <MemberRow id={BOTH} name={BOTH} role={BOTH} />
      </MemberGroup>
      <EmptyState title={BOTH} message={BOTH} />
    </>
  ),
};

describe("escaping", () => {
  for (const [name, render] of Object.entries(cases)) {
    test(`${name} escapes text and attributes`, () => {
      const out = html(render());
      expectEscaped(out);
      // The text is still there, just inert.
      expect(out).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    });
  }

  test("Layout emits the htmx config as escaped JSON and scripts in order", () => {
    const out = "<!doctype html>" + html(<Layout title="t" assets={assets} />);
    expect(out.startsWith("<!doctype html><html lang=\"en\">")).toBe(true);
    const cfg = htmxConfig();
    expect(out).toContain(`content="${JSON.stringify(cfg).replaceAll('"', "&quot;")}"`);
    expect(out.indexOf('src="/h.js"')).toBeLessThan(out.indexOf('type="module" src="/a.js"'));
    expect(out.indexOf('src="/a.js"')).toBeLessThan(out.indexOf('src="/al.js"'));
    expect(out).not.toContain("<style");
    expect(out).not.toContain(" style=");
    expect(out).toContain('id="main"');
    expect(out).toContain('aria-live="polite"');
  });
});

describe("Field", () => {
  test("wires aria-invalid and aria-describedby to the error and hint", () => {
    const out = html(<Field name="email" label="Email" type="email" error="Enter a valid email." hint="We never share it." required maxLength={254} />);
    expect(out).toContain('aria-invalid="true"');
    expect(out).toContain('aria-describedby="f-email-error f-email-hint"');
    expect(out).toContain('id="f-email-error"');
    expect(out).toContain('id="f-email-hint"');
    expect(out).toContain('for="f-email"');
    expect(out).toContain('maxlength="254"');
    expect(out).toContain("required");
  });

  test("no error: not invalid, described by the hint only", () => {
    const out = html(<Field name="name" label="Name" hint="Shown to others." required />);
    expect(out).not.toContain("aria-invalid");
    expect(out).toContain('aria-describedby="f-name-hint"');
  });

  test("never echoes a password value back", () => {
    const out = html(<Field name="password" label="Password" type="password" value="hunter2hunter2" required />);
    expect(out).not.toContain("hunter2");
  });
});

describe("Avatar", () => {
  test("colour is deterministic per user id and initials use letters only", () => {
    expect(avatarColourIndex("u-1")).toBe(avatarColourIndex("u-1"));
    expect(new Set(["a", "b", "c", "d", "e", "f", "g", "h", "i"].map(avatarColourIndex)).size).toBeGreaterThan(2);
    expect(initialsOf("Ada Lovelace")).toBe("AL");
    expect(initialsOf("grace")).toBe("G");
    expect(initialsOf("Ada <b>")).toBe("AB");
    expect(initialsOf("  ")).toBe("?");
  });
});

describe("xOn", () => {
  test("accepts method names only", () => {
    expect(xOn("keydown.escape", "close")).toEqual({ "x-on:keydown.escape": "close" });
    expect(() => xOn("click", "alert(1)")).toThrow();
  });
});
