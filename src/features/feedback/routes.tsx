/**
 * Feedback over HTTP (docs/integrations.md "Feedback"); every route is 404 unless
 * GITHUB_API_TOKEN, GITHUB_REPO_OWNER and GITHUB_REPO_NAME are all set:
 *
 *   POST /api/feedback        multipart or JSON {category, text, screenshot?} -> 201 {issue_url, issue_number, screenshot_url}
 *   GET  /settings/feedback   the form, saying where the feedback goes
 *   POST /settings/feedback   the form (multipart): the page again, with the issue's link or the error
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { AppError, NotFoundError } from "../../errors.ts";
import { bodyBudgets } from "../../http/body-budget.ts";
import { page } from "../../http/render.ts";
import { AccountShell, authGuard, shellUserOf } from "../auth/index.ts";
import { SelectField } from "../../../views/index.ts";
import { CATEGORY_NAMES, FEEDBACK_CATEGORIES, FEEDBACK_TEXT_MAX, feedbackTarget, SCREENSHOT_MAX_BYTES, submitFeedback, type FeedbackCategory, type FeedbackResult } from "./service.ts";

/** The screenshot (5 MB) and the text, with room for the multipart framing. */
const FEEDBACK_BODY = { bytes: SCREENSHOT_MAX_BYTES + 64 * 1024 };

const FeedbackBody = t.Object({
  category: t.UnionEnum([...FEEDBACK_CATEGORIES]),
  text: t.String({ minLength: 1, maxLength: FEEDBACK_TEXT_MAX }),
  screenshot: t.Optional(t.Union([t.File({ maxSize: SCREENSHOT_MAX_BYTES }), t.Literal("")])),
});

type FormState = { category?: string; text?: string; error?: string; result?: FeedbackResult };

function FeedbackPage(p: { deps: AppDeps; actor: Parameters<typeof shellUserOf>[0]; state: FormState }) {
  const target = feedbackTarget(p.deps)!;
  const repo = `${target.owner}/${target.repo}`;
  return (
    <AccountShell assets={p.deps.assets.page()} user={{ ...shellUserOf(p.actor), feedback: true }} title="Send feedback" current="feedback" description="Tell the people who make this server's software what works and what does not.">
      {p.state.result ? (
        <p class="webhook-disclosure feedback-created" role="status" id="feedback-created">
          Thank you. Your feedback is issue #{p.state.result.issue_number}:{" "}
          <a href={p.state.result.issue_url} rel="noopener noreferrer" target="_blank" data-feedback-issue>
            {p.state.result.issue_url}
          </a>
        </p>
      ) : null}
      {p.state.error ? (
        <p class="field__error" role="alert" id="feedback-error">
          {p.state.error}
        </p>
      ) : null}
      <form method="post" action="/settings/feedback" enctype="multipart/form-data" class="form" id="feedback-form">
        <p class="webhook-disclosure" role="note" id="feedback-disclosure">
          Your feedback becomes an issue in the GitHub repository {repo}: it leaves this server, is not end-to-end encrypted, and is as public as that repository. Your name is not sent. A screenshot is uploaded as it is into that repository (under feedback-screenshots/) and linked from the issue: leave out anything private.
        </p>
        <SelectField name="category" label="What is it about?" value={p.state.category ?? "bug"} options={FEEDBACK_CATEGORIES.map((c) => ({ value: c, label: CATEGORY_NAMES[c] }))} />
        <div class="field">
          <label class="field__label" for="f-feedback-text">
            Your feedback
          </label>
          <textarea class="field__input" id="f-feedback-text" name="text" rows={6} maxlength={FEEDBACK_TEXT_MAX} required>
            {p.state.text ?? ""}
          </textarea>
        </div>
        <div class="field">
          <label class="field__label" for="f-feedback-screenshot">
            Screenshot (optional, PNG, JPEG or WebP, at most 5 MB)
          </label>
          <input class="input" id="f-feedback-screenshot" name="screenshot" type="file" accept="image/png,image/jpeg,image/webp" />
        </div>
        <div class="form__actions">
          <button class="btn btn--primary" type="submit">
            Send feedback
          </button>
        </div>
      </form>
    </AccountShell>
  );
}

const fileOf = (v: unknown): Blob | null => (v instanceof Blob && v.size > 0 ? v : null);

export function feedbackRoutes(deps: AppDeps) {
  const enabled = () => {
    if (!feedbackTarget(deps)) throw new NotFoundError("There is nothing at this address.");
  };
  return new Elysia({ name: "feedback" })
    .use(authGuard(deps))
    .use(bodyBudgets)
    .post(
      "/api/feedback",
      async ({ actor, body, set }) => {
        enabled();
        const result = await submitFeedback(deps, actor.userId, { category: body.category as FeedbackCategory, text: body.text, screenshot: fileOf(body.screenshot) });
        set.status = 201;
        return result;
      },
      { auth: true, body: FeedbackBody, bodyLimit: FEEDBACK_BODY, detail: { summary: "Send feedback: opens a GitHub issue (404 unless feedback is configured)", tags: ["feedback"] } },
    )
    .get(
      "/settings/feedback",
      ({ actor }) => {
        enabled();
        return page(<FeedbackPage deps={deps} actor={actor} state={{}} />);
      },
      { auth: true },
    )
    .post(
      "/settings/feedback",
      async ({ actor, body }) => {
        enabled();
        try {
          const result = await submitFeedback(deps, actor.userId, { category: body.category as FeedbackCategory, text: body.text, screenshot: fileOf(body.screenshot) });
          return page(<FeedbackPage deps={deps} actor={actor} state={{ result }} />, { status: 201 });
        } catch (error) {
          if (!(error instanceof AppError) || error.status === 404) throw error;
          return page(<FeedbackPage deps={deps} actor={actor} state={{ category: body.category, text: body.text, error: error.message }} />, { status: error.status });
        }
      },
      { auth: true, body: FeedbackBody, bodyLimit: FEEDBACK_BODY },
    );
}
