// JSX can't spell Alpine attributes that contain dots (x-on:keydown.escape,
// x-on:click.outside), so spread them: <div {...xOn("keydown.escape", "close")}>.
// Values are method/property NAMES only (Alpine CSP build; never expressions, never x-html).

const NAME = /^[A-Za-z_$][\w$]*$/;

export function xOn(event: string, method: string): Record<string, string> {
  if (!NAME.test(method)) throw new Error(`Alpine handler must be a method name, got ${JSON.stringify(method)}`);
  return { [`x-on:${event}`]: method };
}
