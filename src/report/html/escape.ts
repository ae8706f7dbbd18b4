/**
 * Escaping for the three places report text ends up: HTML (text and attribute values), XML, and
 * JSON inside a <script> element. Every string from a report is someone else's input (device ids,
 * outcome labels and error lines come from the server under test), so nothing goes out raw.
 */

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in HTML element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

/**
 * Characters XML 1.0 forbids outright (most C0 controls, lone surrogates, U+FFFE/U+FFFF): a parser
 * rejects the whole file for one of them, so they become U+FFFD.
 */
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text safe in XML content and double- or single-quoted attributes. */
export function escapeXml(text: string): string {
  return escapeHtml(text.replace(XML_FORBIDDEN, '\uFFFD')).replace(/&#39;/g, '&apos;');
}

/** Text safe in an XML attribute: also keeps line breaks and tabs (attribute normalisation eats them). */
export function escapeXmlAttr(text: string): string {
  return escapeXml(text).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

/**
 * JSON for a <script type="application/json"> element. Only `</` can end the element early (and
 * `<!--` can change how it is parsed), so every `<` is written as its \u escape; U+2028/U+2029 are
 * escaped too so the text is also valid as JavaScript source.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
