// The page glue bundle, loaded on every page as <script type="module"> (after htmx, before
// Alpine; see views/layout.tsx orderScripts). Small on purpose: E2EE, WebSocket and WebRTC
// code live in their own modules and load only where needed. The imported modules have no
// top-level side effects, so the theme below is the first thing that touches the page.
import { installConfirmForms } from "./confirm-forms.ts";
import { installCopyButtons } from "./copy-buttons.ts";
import { installDialogForms } from "./dialog-forms.ts";
import { installHtmxErrorHandling } from "./htmx-errors.ts";
import { registerHtmxHardening } from "./htmx-hardening.ts";
import { htmxOnPage } from "./htmx-types.ts";
import { installPanels } from "./panels.ts";
import { installPwa } from "./pwa.ts";
import { applyTheme, installThemeToggle, readStoredTheme } from "./theme.ts";
import { installToasts } from "./toasts.ts";
import { registerAlpineComponents } from "./ui/register.ts";
import { installUserMenu } from "./user-menu.ts";

// 1. Stored theme first (a server-rendered data-theme from the cookie stays if storage is empty).
const stored = readStoredTheme();
if (stored) applyTheme(stored);

// 2. htmx: hardening extension before htmx processes the page on DOMContentLoaded.
const htmx = htmxOnPage();
if (htmx) registerHtmxHardening(htmx);
installHtmxErrorHandling();
installDialogForms();
installConfirmForms();

// 3. Alpine components: registered on alpine:init, which fires after this module ran.
registerAlpineComponents();

// 4. Plain delegated listeners.
installThemeToggle();
installPanels();
installToasts();
installPwa();
installUserMenu();
installCopyButtons();

// 5. Chat pages carry [data-chat-src]: load the messaging bundle (E2EE included) only there, on
//    first load and after boosted navigation swaps in a chat.
function loadChat(): void {
  const root = document.querySelector<HTMLElement>("[data-chat-src]:not([data-chat-mounted])");
  const src = root?.dataset.chatSrc;
  if (!root || !src || !src.startsWith("/")) return;
  void import(/* @vite-ignore */ src).then((m: { mountChat(root: HTMLElement): Promise<void> }) => m.mountChat(root));
}
// Settings › Security lists this account's encryption devices ([data-e2ee-devices]): the same
// bundle, whose lazy chunk draws the list.
function loadDevices(): void {
  const root = document.querySelector<HTMLElement>("[data-e2ee-devices-src]:not([data-e2ee-devices-mounted])");
  const src = root?.dataset.e2eeDevicesSrc;
  if (!root || !src || !src.startsWith("/")) return;
  root.dataset.e2eeDevicesMounted = "1";
  void import(/* @vite-ignore */ src).then((m: { mountOwnDevices(root: HTMLElement): Promise<void> }) => m.mountOwnDevices(root));
}
// Pages that offer calls ([data-voice-src]: a community's sidebar, a DM's call button): the same
// bundle, which loads the call client (chat-voice.js). The call itself lives in that module, so
// it survives boosted navigation; the page's call UI is drawn again after each swap.
function loadVoice(): void {
  const root = document.querySelector<HTMLElement>("[data-voice-src]:not([data-voice-mounted])");
  const src = root?.dataset.voiceSrc;
  if (!root || !src || !src.startsWith("/")) return;
  root.dataset.voiceMounted = "1";
  void import(/* @vite-ignore */ src).then((m: { mountVoice(root: HTMLElement): Promise<void> }) => m.mountVoice(root));
}
// Signed-in pages name the live socket module (views/layout.tsx): one socket per tab, on every
// page; chat.js imports the same URL and shares it.
function loadLive(): void {
  const src = document.body.dataset.liveSrc;
  if (!src || !src.startsWith("/")) return;
  void import(/* @vite-ignore */ src);
}
// Public image uploads ([data-images-src]: Settings › Profile, a community's Appearance settings).
function loadImages(): void {
  const root = document.querySelector<HTMLElement>("[data-images-src]:not([data-images-mounted])");
  const src = root?.dataset.imagesSrc;
  if (!root || !src || !src.startsWith("/")) return;
  root.dataset.imagesMounted = "1";
  void import(/* @vite-ignore */ src).then((m: { mountImages(root: HTMLElement): void }) => m.mountImages(root));
}
const loadAll = () => {
  loadLive();
  loadImages();
  loadChat();
  loadDevices();
  loadVoice();
};
loadAll();
document.addEventListener("htmx:after:swap", loadAll);
