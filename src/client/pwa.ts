// Registers the service worker (/sw.js, scope "/": offline shell, static asset cache, push;
// src/client/sw/index.ts) once the page has loaded, so it never competes with the page itself.
// The offline page's "Try again" reloads the address the user wanted rather than going home.
export function installPwa(): void {
  if ("serviceWorker" in navigator && window.isSecureContext) {
    const register = () => void navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
    if (document.readyState === "complete") register();
    else window.addEventListener("load", register, { once: true });
  }
  document.addEventListener("click", (event) => {
    const retry = (event.target as Element | null)?.closest?.("[data-offline-retry]");
    if (!retry) return;
    event.preventDefault();
    location.reload();
  });
}
