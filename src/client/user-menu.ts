// The account menu (views/user-menu.tsx) is a native <details>; this adds what menus are expected
// to do: Escape closes it (focus back on its button), a click elsewhere closes it, and only one
// is open at a time.
export function installUserMenu(): void {
  const openMenus = () => [...document.querySelectorAll<HTMLDetailsElement>("details[data-user-menu][open]")];
  // Capture phase, and the event stops here when a menu was open: on a phone the menu sits in the
  // navigation drawer, whose own Escape handler (panels.ts) would otherwise close the drawer too.
  document.addEventListener(
    "keydown",
    (event) => {
      if (event.key !== "Escape") return;
      const open = openMenus();
      if (!open.length) return;
      event.stopPropagation();
      for (const menu of open) {
        menu.open = false;
        menu.querySelector<HTMLElement>("summary")?.focus();
      }
    },
    true,
  );
  document.addEventListener("click", (event) => {
    const inside = (event.target as Element).closest?.("details[data-user-menu]");
    for (const menu of openMenus()) if (menu !== inside) menu.open = false;
  });
}
