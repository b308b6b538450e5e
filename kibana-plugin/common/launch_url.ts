// SPDX-License-Identifier: Apache-2.0
/**
 * The PassiveTotal launch URL for a value: every `{{value}}` in the template replaced by the URL-encoded
 * value. The same rule as the collector's `threat.enrichments.indicator.reference` and the data view's URL
 * formatters (DESIGN.md §4), so a link in the app, in Discover and on a dashboard all open the same page.
 */
export function launchUrlFor(template: string, value: string): string {
  return template.split('{{value}}').join(encodeURIComponent(value));
}

/** A usable template is an absolute http(s) URL containing `{{value}}`; anything else is a config error. */
export function launchTemplateError(template: string): string | undefined {
  if (!template.includes('{{value}}')) return 'must contain {{value}}';
  try {
    const u = new URL(template.split('{{value}}').join('x'));
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must be an http(s) URL';
  } catch {
    return 'must be an absolute URL';
  }
  return undefined;
}
