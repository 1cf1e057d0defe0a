/**
 * Markup, escaped by default: everything interpolated into the `html` tagged template is
 * escaped unless it is already `Html`, so no page (the device page, the API reference's
 * shell) can carry injected markup.
 */
/** Markup that is already safe. Only `html` creates it. */
export class Html {
  constructor(readonly markup: string) {}
}

export type Interpolation = Html | string | number | false | null | undefined | readonly Interpolation[];

/** Tagged template: literal parts are markup, interpolated values are escaped unless `Html`. */
export function html(strings: TemplateStringsArray, ...values: readonly Interpolation[]): Html {
  let markup = '';
  strings.forEach((chunk, index) => {
    markup += chunk + toMarkup(values[index]);
  });
  return new Html(markup);
}

function toMarkup(value: Interpolation): string {
  if (value instanceof Html) return value.markup;
  if (value === undefined || value === null || value === false) return '';
  if (typeof value === 'string' || typeof value === 'number') return escapeHtml(String(value));
  return value.map(toMarkup).join('');
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes for both text and quoted attribute values, so one function serves every context. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}
