/**
 * Feedback to a GitHub issue (issue 18 §4, docs/integrations.md "Feedback"): when
 * GITHUB_API_TOKEN, GITHUB_REPO_OWNER and GITHUB_REPO_NAME are all set, a signed-in user's
 * feedback (category, text, optional screenshot ≤ 5 MB) becomes one issue through GitHub's REST
 * API (POST /repos/{owner}/{repo}/issues) with the category's label. The issues API cannot attach
 * files, so a screenshot is committed to the same repository first (PUT /repos/{owner}/{repo}/
 * contents/feedback-screenshots/<random>.<ext>, as uploaded) and the issue links it. The form says
 * both: the text and screenshot leave Hearth for that repository (not end-to-end encrypted), and
 * are as public as the repository. No user name or id goes to GitHub. The token never appears in
 * an answer or a log line. Rate limited per user.
 */
import type { AppDeps } from "../../deps.ts";
import { AppError, NotFoundError, RateLimitedError } from "../../errors.ts";
import { MemoryRateLimitStore, type Limit, type RateLimitStore } from "../../http/rate-limit.ts";

export const GITHUB_API_BASE = "https://api.github.com";
export const FEEDBACK_CATEGORIES = ["bug", "idea", "question", "other"] as const;
export type FeedbackCategory = (typeof FEEDBACK_CATEGORIES)[number];
/** The label each category's issue carries. */
export const FEEDBACK_LABELS: Record<FeedbackCategory, string> = { bug: "bug", idea: "enhancement", question: "question", other: "feedback" };
export const CATEGORY_NAMES: Record<FeedbackCategory, string> = { bug: "Something is broken", idea: "An idea", question: "A question", other: "Something else" };
export const FEEDBACK_TEXT_MAX = 5000;
export const SCREENSHOT_MAX_BYTES = 5 * 1024 * 1024;
/** Per user, shared through Redis when REDIS_URL is set: 5 an hour, bursts of 3. */
export const FEEDBACK_RATE: Limit = { ratePerSec: 5 / 3600, burst: 3 };
const TIMEOUT_MS = 15_000;

const stores = new WeakMap<AppDeps, RateLimitStore>();
function rateStoreOf(deps: AppDeps): RateLimitStore {
  if (deps.rateLimitStore) return deps.rateLimitStore;
  let store = stores.get(deps);
  if (!store) stores.set(deps, (store = new MemoryRateLimitStore()));
  return store;
}

export function feedbackTarget(deps: AppDeps): { owner: string; repo: string } | null {
  const g = deps.config.github;
  return g ? { owner: g.owner, repo: g.repo } : null;
}

function githubOf(deps: AppDeps) {
  const g = deps.config.github;
  if (!g) throw new NotFoundError("There is nothing at this address.");
  return g;
}

/** PNG, JPEG or WebP by their first bytes (the browser's type is not trusted); the extension. */
export function screenshotKind(bytes: Uint8Array): "png" | "jpg" | "webp" | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "png";
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpg";
  if (bytes.length >= 12 && String.fromCharCode(...bytes.subarray(0, 4)) === "RIFF" && String.fromCharCode(...bytes.subarray(8, 12)) === "WEBP") return "webp";
  return null;
}

const unavailable = () => new AppError("FEEDBACK_UNAVAILABLE", 502, "GitHub did not take the feedback. Try again later.");

async function github(deps: AppDeps, method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const g = githubOf(deps);
  let response: Response;
  try {
    response = await fetch(new URL(path, deps.github?.apiBaseUrl ?? GITHUB_API_BASE).href, {
      method,
      redirect: "error",
      signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: { authorization: `Bearer ${g.token}`, accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28", "content-type": "application/json", "user-agent": "Hearth-feedback" },
      body: JSON.stringify(body),
    });
  } catch (error) {
    deps.log.warn("feedback.github_failed", { step: path.includes("/contents/") ? "screenshot" : "issue", reason: error instanceof Error ? error.name : "unknown" });
    throw unavailable();
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    deps.log.warn("feedback.github_failed", { step: path.includes("/contents/") ? "screenshot" : "issue", status: response.status });
    throw unavailable();
  }
  return (await response.json().catch(() => ({}))) as Record<string, unknown>;
}

export type FeedbackInput = { category: FeedbackCategory; text: string; screenshot?: Blob | null };
export type FeedbackResult = { issue_url: string; issue_number: number; screenshot_url: string | null };

export async function submitFeedback(deps: AppDeps, userId: string, input: FeedbackInput): Promise<FeedbackResult> {
  const g = githubOf(deps);
  const text = input.text.trim();
  if (!text) throw new AppError("VALIDATION_ERROR", 400, "Write what you want to tell us.", { fields: { text: "Required." } });
  if (text.length > FEEDBACK_TEXT_MAX) throw new AppError("VALIDATION_ERROR", 400, "The feedback is too long.", { fields: { text: `At most ${FEEDBACK_TEXT_MAX} characters.` } });
  let shot: { bytes: Uint8Array; kind: string } | null = null;
  if (input.screenshot && input.screenshot.size > 0) {
    if (input.screenshot.size > SCREENSHOT_MAX_BYTES) throw new AppError("SCREENSHOT_TOO_LARGE", 413, "The screenshot is larger than 5 MB.", { fields: { screenshot: "At most 5 MB." } });
    const bytes = new Uint8Array(await input.screenshot.arrayBuffer());
    const kind = screenshotKind(bytes);
    if (!kind) throw new AppError("VALIDATION_ERROR", 400, "The screenshot must be a PNG, JPEG or WebP image.", { fields: { screenshot: "PNG, JPEG or WebP." } });
    shot = { bytes, kind };
  }
  const taken = await rateStoreOf(deps).take(`feedback:${userId}`, FEEDBACK_RATE, (deps.now ?? Date.now)());
  if (!taken.allowed) throw new RateLimitedError(taken.retryAfterSecs, "You sent a lot of feedback recently. Try again later.", "FEEDBACK_RATE_LIMITED");
  const repoPath = `/repos/${encodeURIComponent(g.owner)}/${encodeURIComponent(g.repo)}`;
  let screenshotUrl: string | null = null;
  if (shot) {
    const name = `feedback-screenshots/${crypto.randomUUID()}.${shot.kind}`;
    const put = await github(deps, "PUT", `${repoPath}/contents/${name}`, { message: "Feedback screenshot (Hearth)", content: Buffer.from(shot.bytes).toString("base64") });
    const content = put.content as { html_url?: unknown } | undefined;
    screenshotUrl = typeof content?.html_url === "string" && content.html_url.startsWith("https://") ? content.html_url : null;
  }
  const firstLine = text.split("\n")[0]!.trim();
  const title = `[${input.category}] ${firstLine.length > 80 ? `${firstLine.slice(0, 79)}…` : firstLine}`;
  const body = [text, "", ...(screenshotUrl ? [`Screenshot: ${screenshotUrl}?raw=true`, ""] : []), `---`, `Sent with the feedback form of a Hearth server (version ${deps.config.version}), category “${input.category}”.`].join("\n");
  const issue = await github(deps, "POST", `${repoPath}/issues`, { title, body, labels: [FEEDBACK_LABELS[input.category]] });
  if (typeof issue.html_url !== "string" || !issue.html_url.startsWith("https://") || typeof issue.number !== "number") throw unavailable();
  deps.log.info("feedback.issue_created", { userId, issue: issue.number, category: input.category, screenshot: screenshotUrl !== null });
  return { issue_url: issue.html_url, issue_number: issue.number, screenshot_url: screenshotUrl };
}
