/** "Firefox on Linux" from a User-Agent, for the sessions list. Unknown agents keep 50 characters. */
export function deviceNameFrom(userAgent: string | null): string {
  const ua = (userAgent ?? "").slice(0, 512);
  if (!ua.trim()) return "Unknown device";
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /Firefox\//.test(ua)
      ? "Firefox"
      : /Chromium\//.test(ua)
        ? "Chromium"
        : /Chrome\//.test(ua)
          ? "Chrome"
          : /Safari\//.test(ua)
            ? "Safari"
            : undefined;
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad|iOS/.test(ua) ? "iOS" : /Mac OS X|Macintosh/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux|X11/.test(ua) ? "Linux" : undefined;
  if (browser && os) return `${browser} on ${os}`;
  if (browser) return browser;
  return ua.slice(0, 50);
}
