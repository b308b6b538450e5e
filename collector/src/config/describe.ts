// SPDX-License-Identifier: Apache-2.0
/**
 * The configuration reference, generated from the declarations: `threatflow config --variables` prints
 * it as Markdown and the README's configuration section is that output.
 */
import { allowedText, envText, groupOf, VARIABLES, type Group, type Kind } from './variables';

export interface VariableDescription {
  name: string;
  group: Group;
  /** Where the value lands in `Config`, e.g. `server.udpPorts`. */
  path: string;
  /** The default as it would be written in the environment; "" for none. */
  default: string;
  /** What is accepted, as plain text. */
  allowed: string;
  description: string;
  secret: boolean;
}

/** Every declared variable, in reference order. */
export function describeVariables(): VariableDescription[] {
  return VARIABLES.map((d) => ({
    name: d.name,
    group: groupOf(d),
    path: d.path,
    default: envText(d.default),
    allowed: allowedText(d.kind),
    description: d.description,
    secret: d.secret,
  }));
}

/** Escapes text that is not meant as Markdown for a table cell. */
function plain(s: string): string {
  return s.replace(/[\\`*_<>|[\]]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : `\\${c}`));
}

/** Escapes text written with Markdown (backticks) for a table cell: only the cell separator. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function allowedMarkdown(kind: Kind): string {
  if (kind.type === 'enum') return `one of ${kind.values.map((v) => `\`${v}\``).join(', ')}`;
  if (kind.type === 'bool') return '`true` or `false` (case-insensitive)';
  return plain(allowedText(kind));
}

/** A Markdown table of every variable: name, default, what is allowed, what it means. */
export function variablesMarkdown(): string {
  const lines = ['| Variable | Default | Allowed | Meaning |', '|---|---|---|---|'];
  for (const d of VARIABLES) {
    const def = envText(d.default);
    const meaning = (d.secret ? 'Secret: never printed. ' : '') + d.description;
    lines.push(
      `| \`${d.name}\` | ${def === '' ? '*(none)*' : `\`${cell(def)}\``} | ${allowedMarkdown(d.kind)} | ${cell(meaning)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
