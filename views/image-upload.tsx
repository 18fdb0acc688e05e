/**
 * An image upload control for the public images (docs/profiles.md): avatar, community icon and
 * banner, custom emoji. Rendered by the server, driven by images-ui.js (src/client/images-ui.ts),
 * which app.js loads where an ancestor carries `data-images-src`. The note that these images
 * are NOT end-to-end encrypted is part of the control, so no upload is offered without it.
 */
import type { FC } from "hono/jsx";

export type ImageUploadProps = {
  id: string;
  label: string;
  /** Where the file goes (PUT, or POST for emoji); DELETE on the same address removes it. */
  endpoint: string;
  method?: "PUT" | "POST";
  /** A square crop (avatars, icons): keyboard-adjustable preview. */
  squareCrop?: boolean;
  /** GET address of JSON carrying the current image's URL in `currentField`. */
  currentSrc?: string;
  currentField?: string;
  removable?: boolean;
  /** Emoji: a shortcode field sent with the upload. */
  shortcode?: boolean;
  /** Who sees it, for the not-E2EE note. */
  audience: string;
};

export const ImageUpload: FC<ImageUploadProps> = (p) => (
  <div
    class="image-upload stack"
    data-image-upload
    data-endpoint={p.endpoint}
    data-method={p.method ?? "PUT"}
    data-crop={p.squareCrop ? "square" : undefined}
    data-current-src={p.currentSrc}
    data-current-field={p.currentField}
  >
    {p.currentSrc ? <img data-image-current class="image-upload__current" alt={`Current ${p.label.toLowerCase()}`} hidden /> : null}
    {p.shortcode ? (
      <div class="field">
        <label class="field__label" for={`${p.id}-shortcode`}>
          Shortcode
        </label>
        <input class="field__input" id={`${p.id}-shortcode`} data-image-shortcode maxlength={32} pattern="[A-Za-z0-9_]{2,32}" placeholder="party_parrot" aria-describedby={`${p.id}-shortcode-hint`} />
        <p class="field__hint" id={`${p.id}-shortcode-hint`}>
          2–32 letters, digits or underscores; used as :shortcode: in messages and reactions.
        </p>
      </div>
    ) : null}
    <div class="field">
      <label class="field__label" for={`${p.id}-file`}>
        {p.label}: choose an image
      </label>
      <input class="field__input" id={`${p.id}-file`} type="file" accept="image/png,image/jpeg,image/gif,image/webp" data-image-file aria-describedby={`${p.id}-note`} />
    </div>
    {p.squareCrop ? (
      <div data-crop-area class="image-upload__crop" hidden>
        <canvas data-crop-preview width={160} height={160} tabindex={0} role="img" aria-label="Crop preview: arrow keys move the square, Shift moves faster, + and − resize it" aria-describedby={`${p.id}-crop-hint`} class="image-upload__canvas" />
        <p class="muted" id={`${p.id}-crop-hint`}>
          Focus the preview and use the arrow keys to move the square (Shift: faster), + and − to resize it. Without a change, the centre is used.
        </p>
        <p class="muted" data-crop-readout aria-live="polite" />
      </div>
    ) : null}
    <p class="muted" id={`${p.id}-note`}>
      PNG, JPEG, GIF or WebP, up to 10 MB. Not end-to-end encrypted: the server stores this image (re-encoded, without its metadata) and {p.audience} can see it.
    </p>
    <div class="btn-row">
      <button type="button" class="btn btn--primary btn--sm" data-image-save disabled>
        Upload
      </button>
      {p.removable ? (
        <button type="button" class="btn btn--ghost btn--sm" data-image-remove hidden>
          Remove
        </button>
      ) : null}
    </div>
    <p role="status" data-image-status class="muted" />
  </div>
);
