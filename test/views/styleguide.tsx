// Styleguide fixture: sample pages built only from the shared views, served by the browser
// test (and handy for eyeballing: `bun test/views/styleguide-serve.ts`).
import type { Child } from "hono/jsx";
import {
  AppFrame,
  AuthCard,
  Avatar,
  ChannelGroup,
  ChannelHeader,
  ChannelLink,
  Composer,
  DaySeparator,
  EmptyState,
  ErrorBanner,
  ErrorPage,
  ErrorSlot,
  Field,
  Icon,
  Layout,
  MemberGroup,
  MemberRow,
  Message,
  MessageGroup,
  MessageList,
  RailButton,
  RailItem,
  RailSeparator,
  SettingsShell,
  SidebarHeader,
  Toast,
  UnreadDivider,
  ThemeToggle,
  CheckboxField,
  SelectField,
  ChannelIntro,
  xOn,
  type PageAssets,
} from "../../views/index.ts";


const page = (el: Child) => "<!doctype html>" + String(el);

const people = {
  ada: { id: "u-ada", name: "Ada Lovelace" },
  grace: { id: "u-grace", name: "Grace Hopper", badge: "Admin" },
  linus: { id: "u-linus", name: "Linus Pauling" },
  mara: { id: "u-mara", name: "Mara Okafor" },
};

export function chatPage(assets: PageAssets): string {
  const rail = (
    <>
      <RailItem id="c-home" name="Hearth HQ" href="#" current />
      <RailItem id="c-design" name="Design Guild" href="#" unread mentions={3} />
      <RailItem id="c-ops" name="Ops" href="#" unread />
      <RailItem id="c-book" name="Book Club" href="#" />
      <RailSeparator />
      <RailButton label="Create a community" href="#" icon="plus" />
    </>
  );
  const sidebar = (
    <>
      <SidebarHeader title="Hearth HQ" subtitle="42 members">
        <div class="menu" x-data="menu" {...xOn("keydown.escape", "close")} {...xOn("click.outside", "close")}>
          <button type="button" class="icon-btn" x-ref="button" x-on:click="toggle" x-bind:aria-expanded="open" aria-haspopup="menu" aria-label="Community menu" data-testid="community-menu">
            <Icon name="settings" />
          </button>
          <ul class="menu__list" role="menu" x-show="open" x-cloak>
            <li>
              <a class="menu__item" role="menuitem" href="#">Invite people</a>
            </li>
            <li>
              <a class="menu__item" role="menuitem" href="#">Community settings</a>
            </li>
            <li>
              <button type="button" class="menu__item menu__item--danger" role="menuitem">
                Leave community
              </button>
            </li>
          </ul>
        </div>
      </SidebarHeader>
      <div class="sidebar__scroll">
        <ChannelGroup name="Information">
          <ChannelLink href="#" name="announcements" unread={2} />
          <ChannelLink href="#" name="rules" muted />
        </ChannelGroup>
        <ChannelGroup name="Engineering">
          <ChannelLink href="#" name="general" current />
          <ChannelLink href="#" name="frontend" mentions={4} />
          <ChannelLink href="#" name="security-reviews" kind="private" unread={1} />
          <ChannelLink href="#" name="standup" kind="voice" />
        </ChannelGroup>
        <ChannelGroup name="Off topic" open={false}>
          <ChannelLink href="#" name="random" />
        </ChannelGroup>
      </div>
      <div class="sidebar__footer">
        <Avatar userId={people.ada.id} name={people.ada.name} size="sm" status="online" />
        <div class="sidebar__me">
          <p class="sidebar__me-name">{people.ada.name}</p>
          <p class="sidebar__me-status">Online</p>
        </div>
        <ThemeToggle />
        <a class="icon-btn" href="#" aria-label="Settings">
          <Icon name="settings" />
        </a>
      </div>
    </>
  );
  const main = (
    <MessageList>
      <ChannelIntro name="general" topic="Company-wide chat. Be kind, stay curious." />
      <DaySeparator label="Yesterday" date="2026-11-23" />
      <MessageGroup author={people.grace} time="2026-11-23T16:02:00Z" timeLabel="Yesterday at 16:02">
        <Message id="1">Morning all! The new key-backup flow is on staging. Please try a recovery on a fresh browser profile.</Message>
        <Message id="2">If anything looks off, screenshots in #frontend please.</Message>
      </MessageGroup>
      <MessageGroup author={people.linus} time="2026-11-23T16:10:00Z" timeLabel="Yesterday at 16:10">
        <Message id="3" edited>
          Tried it on my phone: worked first time. The recovery key prompt could say where to find the key though.
        </Message>
      </MessageGroup>
      <DaySeparator label="Today" date="2026-11-24" />
      <MessageGroup author={people.mara} time="2026-11-24T09:12:00Z" timeLabel="09:12">
        <Message id="4">Deploy bot says staging is green.</Message>
        <Message id="5" webhook>
          Build #1842 passed in 3m12s
        </Message>
      </MessageGroup>
      <UnreadDivider />
      <MessageGroup author={people.ada} time="2026-11-24T09:30:00Z" timeLabel="09:30">
        <Message id="6">{'Escaping check: <script>alert(1)</script> and "><img src=x onerror=alert(1)> stay text.'}</Message>
        <Message id="7" ciphertext="eyJ2IjoxLCJjdCI6Ii4uLiJ9" />
        <Message id="8" pending>
          Sending…
        </Message>
      </MessageGroup>
    </MessageList>
  );
  const members = (
    <>
      <MemberGroup label="Online" count={3}>
        <MemberRow id={people.grace.id} name={people.grace.name} status="online" role="Admin" />
        <MemberRow id={people.ada.id} name={people.ada.name} status="online" />
        <MemberRow id={people.mara.id} name={people.mara.name} status="idle" />
      </MemberGroup>
      <MemberGroup label="Offline" count={1}>
        <MemberRow id={people.linus.id} name={people.linus.name} status="offline" />
      </MemberGroup>
    </>
  );
  return page(
    <Layout title="#general" assets={assets} variant="app" toasts={<Toast tone="success" title="Invite sent" message="Mara will get an email with a link." sticky />}>
      <AppFrame
        rail={rail}
        sidebar={sidebar}
        header={<ChannelHeader name="general" topic="Company-wide chat. Be kind, stay curious." encrypted />}
        main={main}
        composer={
          <>
            <Composer action="#" channelName="general" />
          </>
        }
        members={members}
      />
    </Layout>,
  );
}

export function authPage(assets: PageAssets, opts: { error?: boolean } = {}): string {
  return page(
    <Layout title="Sign in" assets={assets} toasts={opts.error ? <Toast tone="warning" title="Session expired" message="Please sign in again to continue." /> : undefined}>
      <AuthCard
        title="Welcome back"
        subtitle="Sign in to continue to Hearth."
        footer={
          <>
            New here? <a href="#">Create an account</a>
          </>
        }
      >
        <LoginForm error={opts.error} />
      </AuthCard>
    </Layout>,
  );
}

export function LoginForm(p: { error?: boolean; email?: string }) {
  return (
    <form class="form" id="login-form" method="post" action="/login" hx-post="/login" hx-target="this" hx-swap="outerHTML">
      <ErrorSlot>{p.error ? <ErrorBanner title="Could not sign in" message="That email and password don't match an account." /> : null}</ErrorSlot>
      <Field name="email" label="Email" type="email" autocomplete="username" required value={p.email ?? "ada@example.org"} />
      <Field
        name="password"
        label="Password"
        type="password"
        autocomplete="current-password"
        required
        minLength={12}
        hint="At least 12 characters."
        error={p.error ? "Password is too short." : undefined}
      />
      <CheckboxField name="remember" label="Keep me signed in on this device" checked />
      <div class="form__actions">
        <button type="submit" class="btn btn--primary btn--block" data-testid="login-submit">
          Sign in
        </button>
      </div>
      <p class="divider-text">or</p>
      <button type="button" class="btn btn--secondary btn--block" hx-post="/boom" data-testid="boom">
        Continue with SSO
      </button>
    </form>
  );
}

export function settingsPage(assets: PageAssets): string {
  return page(
    <Layout title="Profile" assets={assets} topBar user={{ id: people.ada.id, displayName: people.ada.name }}>
      <SettingsShell
        title="Profile"
        description="How other people see you across communities."
        nav={[
          {
            title: "Account",
            items: [
              { href: "#", label: "Profile", current: true },
              { href: "#", label: "Security" },
              { href: "#", label: "Devices & keys" },
              { href: "#", label: "Notifications" },
            ],
          },
          { title: "App", items: [{ href: "#", label: "Appearance" }, { href: "#", label: "Accessibility" }] },
        ]}
      >
        <div class="tabs" role="tablist">
          <button type="button" class="tab" role="tab" aria-selected="true">
            Details
          </button>
          <button type="button" class="tab" role="tab" aria-selected="false">
            Avatar
          </button>
          <button type="button" class="tab" role="tab" aria-selected="false">
            Status
          </button>
        </div>
        <section class="card stack">
          <div class="btn-row">
            <Avatar userId={people.ada.id} name={people.ada.name} size="lg" />
            <div>
              <p>
                <strong>{people.ada.name}</strong> <span class="badge badge--accent">You</span>
              </p>
              <p class="muted">ada@example.org</p>
            </div>
          </div>
          <form class="form">
            <Field name="display_name" label="Display name" required value={people.ada.name} maxLength={64} hint="Shown next to your messages." />
            <Field name="bio" label="About me" type="textarea" rows={3} maxLength={300} />
            <SelectField
              name="lang"
              label="Language"
              value="en"
              options={[
                { value: "en", label: "English" },
                { value: "de", label: "Deutsch" },
              ]}
            />
            <CheckboxField name="show_presence" label="Show when I'm online" hint="Others see a green dot next to your name." checked />
            <div class="form__actions">
              <button type="submit" class="btn btn--primary">
                Save changes
              </button>
              <button type="reset" class="btn btn--ghost">
                Cancel
              </button>
            </div>
          </form>
        </section>
        <section class="panel">
          <div class="panel__header">
            <h2 class="panel__title">Devices</h2>
            <span class="badge badge--success">All verified</span>
          </div>
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th>Device</th>
                  <th>Last seen</th>
                  <th>Status</th>
                </tr>
              </thead>
              <tbody>
                <tr>
                  <td>Firefox on Linux</td>
                  <td>Now</td>
                  <td>
                    <span class="badge badge--success">This device</span>
                  </td>
                </tr>
                <tr>
                  <td>Hearth on Android</td>
                  <td>2 days ago</td>
                  <td>
                    <span class="badge badge--warning">Unverified</span>
                  </td>
                </tr>
              </tbody>
            </table>
          </div>
        </section>
        <section class="panel panel__body stack">
          <div class="upload">
            <div class="upload__row">
              <span class="upload__name">quarterly-report.pdf</span>
              <span class="muted">64%</span>
            </div>
            <progress class="progress" value="64" max="100" aria-label="Uploading quarterly-report.pdf" />
          </div>
          <div class="skeleton-msg" aria-hidden="true">
            <span class="skeleton skeleton--circle" />
            <span class="skeleton-msg__lines">
              <span class="skeleton skeleton--w30" />
              <span class="skeleton skeleton--w80" />
            </span>
          </div>
          <div class="btn-row">
            <button type="button" class="btn btn--primary">
              Primary
            </button>
            <button type="button" class="btn btn--secondary">
              Secondary
            </button>
            <button type="button" class="btn btn--danger">
              Danger
            </button>
            <button type="button" class="btn btn--ghost">
              Ghost
            </button>
            <button type="button" class="btn btn--primary" disabled>
              Disabled
            </button>
          </div>
          <div x-data="dialog">
            <button type="button" class="btn btn--danger btn--sm" x-on:click="show" data-testid="open-dialog">
              Sign out everywhere…
            </button>
            <dialog class="dialog" x-ref="dialog" aria-labelledby="dlg-title">
              <div class="dialog__header">
                <h2 class="dialog__title" id="dlg-title">
                  Sign out of all devices?
                </h2>
                <button type="button" class="icon-btn" x-on:click="close" aria-label="Close">
                  <Icon name="x" />
                </button>
              </div>
              <p class="dialog__body">Every other session ends now. You stay signed in here.</p>
              <div class="dialog__footer">
                <button type="button" class="btn btn--secondary" x-on:click="close">
                  Cancel
                </button>
                <button type="button" class="btn btn--danger">
                  Sign out everywhere
                </button>
              </div>
            </dialog>
          </div>
        </section>
        <section class="panel">
          <EmptyState title="No blocked users" message="People you block can't message you or see when you're online.">
            <button type="button" class="btn btn--secondary btn--sm">
              Learn more
            </button>
          </EmptyState>
        </section>
      </SettingsShell>
    </Layout>,
  );
}

export function errorPage(assets: PageAssets): string {
  return page(
    <Layout title="Server error" assets={assets} topBar>
      <ErrorPage status={500} title="Something went wrong" message="The server hit an unexpected error. Try again in a moment." requestId="req_7f3a9c" />
    </Layout>,
  );
}
