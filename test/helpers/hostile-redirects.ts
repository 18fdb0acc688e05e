/**
 * Redirect targets a browser would take off-site (or that are not paths at all): tabs and
 * newlines the URL parser drops, backslashes it reads as slashes, dot segments that collapse into
 * "//", schemes, percent-encoded and Unicode slashes without a leading "/". Every `next` /
 * returnTo / redirect test uses this one list (test/http/redirect-target.test.ts, OIDC, Chromium).
 */
/** Values a browser would take off-site (or that are not paths at all): refused. */
export const HOSTILE_NEXT = [
  "//evil.example", "///evil.example", "////evil.example", "//evil.example/login", "//evil.example:8443/x",
  "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example", "/\t\t/evil.example", "\n/\n/evil.example",
  "/\\evil.example", "/\\/evil.example", "\\/evil.example", "\\\\evil.example", "\\evil.example", "/\\\\evil.example",
  " //evil.example", "/ /evil.example", "\u0000//evil.example", "/\u0000/evil.example", "/\u007f/evil.example", "\f//evil.example",
  "/.//evil.example", "/..//evil.example", "/././/evil.example", "/a/..//evil.example", "/%2e//evil.example", "/%2E%2E//evil.example",
  "https://evil.example", "http://evil.example/", "https:evil.example", "https:/evil.example", "HTTPS://evil.example", "//chat.example.com@evil.example",
  "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:x",
  "%2F%2Fevil.example", "%2f%2fevil.example", "%5C%5Cevil.example", "%09/evil.example",
  "\uFF0F\uFF0Fevil.example", "\u2215\u2215evil.example", "\u2044\u2044evil.example",
  "evil.example", "evil.example/path", "", "?next=//evil.example", "#//evil.example",
];
