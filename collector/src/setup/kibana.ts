// SPDX-License-Identifier: Apache-2.0
/**
 * Kibana import APIs used by `threatflow setup --kibana`: saved objects (`POST /api/saved_objects/_import`)
 * and detection rules (`POST /api/detection_engine/rules/_import`). Both take multipart/form-data with the
 * NDJSON in a field named `file`; the bytes are sent exactly as they are on disk.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

export interface KibanaConnection {
  /** Base URL, e.g. `http://localhost:5601` (a space: `http://host:5601/s/security`). */
  url: string;
  username?: string;
  password?: string;
  apiKey?: string;
}

export function kibanaHeaders(k: KibanaConnection): Record<string, string> {
  const h: Record<string, string> = { 'kbn-xsrf': 'true' };
  if (k.apiKey) h.authorization = `ApiKey ${k.apiKey}`;
  else if (k.username) h.authorization = `Basic ${Buffer.from(`${k.username}:${k.password ?? ''}`).toString('base64')}`;
  return h;
}

export interface ImportResult {
  successCount: number;
}

/** Posts one NDJSON file to a Kibana import endpoint; throws with Kibana's own words when it refuses. */
export async function kibanaImport(k: KibanaConnection, path: string, file: string): Promise<ImportResult> {
  const bytes = readFileSync(file);
  const form = new FormData();
  form.append('file', new Blob([bytes], { type: 'application/ndjson' }), basename(file));
  const url = `${k.url.replace(/\/+$/, '')}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: kibanaHeaders(k), body: form });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new Error(`cannot reach Kibana at ${k.url}: ${cause ?? (e as Error).message}`);
  }
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON: reported below with the status */
  }
  if (res.status < 200 || res.status >= 300) {
    const msg = typeof body.message === 'string' ? body.message : text.slice(0, 300);
    throw new Error(`Kibana answered ${res.status} to POST ${path}: ${msg}`);
  }
  const count = (body.successCount ?? body.success_count) as number | undefined;
  const errors = Array.isArray(body.errors) ? body.errors : [];
  if (body.success === false || errors.length > 0) {
    const first = JSON.stringify(errors.slice(0, 3));
    throw new Error(`Kibana imported ${count ?? 0} object(s) from ${basename(file)} and refused ${errors.length}: ${first}`);
  }
  return { successCount: typeof count === 'number' ? count : 0 };
}
