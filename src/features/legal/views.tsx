/** /terms, /privacy and the admin tab /admin/legal. Text is markdown rendered by views/markdown.tsx (escaped by construction). */
import type { FC } from "hono/jsx";
import { ErrorBanner, ErrorSlot, Field, Markdown } from "../../../views/index.ts";
import { LEGAL_PAGES, LEGAL_TITLES, MAX_LEGAL_CHARS, type LegalPage, type LegalText } from "./service.ts";

const day = (d: Date) => d.toISOString().slice(0, 10);

export const LegalArticle: FC<{ text: LegalText; instanceName: string }> = ({ text, instanceName }) => (
  <div class="page-content">
    <article class="card stack legal" aria-labelledby="legal-title">
      <h1 id="legal-title">{LEGAL_TITLES[text.page]}</h1>
      <p class="muted">
        {instanceName}
        {text.updatedAt ? ` · last updated ${day(text.updatedAt)}` : ""}
      </p>
      <div class="legal__body">
        <Markdown source={text.body} />
      </div>
      <p class="muted">
        <a href={text.page === "terms" ? "/privacy" : "/terms"}>{text.page === "terms" ? LEGAL_TITLES.privacy : LEGAL_TITLES.terms}</a>
      </p>
    </article>
  </div>
);

export type LegalAdminProps = { texts: Record<LegalPage, LegalText>; error?: { page: LegalPage; message: string; draft?: string } };

export const LegalAdminPage: FC<LegalAdminProps> = (p) => (
  <div class="stack">
    <p class="muted">
      Public pages, linked from registration and the footer of every signed-out page. Markdown: **bold**, *italic*, lists, quotes, links (http, https, mailto).
    </p>
    {LEGAL_PAGES.map((page) => {
      const text = p.texts[page];
      const error = p.error?.page === page ? p.error : undefined;
      return (
        <section class="card stack" aria-labelledby={`legal-${page}-h`}>
          <h2 id={`legal-${page}-h`}>
            {LEGAL_TITLES[page]} <a href={`/${page}`} class="muted">/{page}</a>
          </h2>
          <p class="muted">{text.isDefault ? "Showing the default text (it names this instance)." : `Edited; saved ${text.updatedAt ? text.updatedAt.toISOString().replace("T", " ").slice(0, 16) + " UTC" : ""}.`}</p>
          <form method="post" action={`/admin/legal/${page}`} class="form" id={`legal-${page}-form`}>
            <ErrorSlot>{error ? <ErrorBanner title="Not saved" message={error.message} /> : null}</ErrorSlot>
            <Field name="body" id={`legal-${page}-body`} type="textarea" label="Text" required maxLength={MAX_LEGAL_CHARS} rows={12} value={error?.draft ?? text.body} hint={`Up to ${MAX_LEGAL_CHARS.toLocaleString("en")} characters.`} />
            <div class="form__actions">
              <button type="submit" class="btn btn--primary">
                Save
              </button>
            </div>
          </form>
          {text.isDefault ? null : (
            <form method="post" action={`/admin/legal/${page}`} class="inline-form" data-confirm={`Restore the default ${LEGAL_TITLES[page].toLowerCase()}?`} data-confirm-detail="Your text is replaced by the default one, which names this instance." data-confirm-action="Restore">
              <input type="hidden" name="restore" value="true" />
              <button type="submit" class="btn btn--secondary btn--sm">
                Restore the default
              </button>
            </form>
          )}
        </section>
      );
    })}
  </div>
);
