// SPDX-License-Identifier: Apache-2.0
/**
 * Builds the harness with esbuild into kibana-plugin/harness/dist/ (gitignored by the root `dist/` rule):
 *
 * - `browser/main.js` + `browser/main.css`: the app (public/) with the harness's stand-in core services
 *   (main.tsx), React and EUI. main.css is EUI's theme stylesheet: EUI 93 styles most components with
 *   Emotion (injected at runtime), but forms, the date picker and tables are still Sass-built CSS that
 *   Kibana loads globally, so the harness links it the same way.
 * - `harness.cjs`: the Node side (cli.ts: server, demo loader), bundled because the repo has no TypeScript
 *   runtime outside ts-jest. Packages stay external and resolve from node_modules at runtime.
 *
 * Usage: node kibana-plugin/harness/build.mjs [browser|node|all]   (default all)
 *
 * Also run as a child process by startHarness(): esbuild refuses to run inside jest's sandbox (its
 * TextEncoder/Uint8Array invariant check fails across realms), and a child keeps the build's memory out of
 * the server.
 */
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DIST = join(HERE, 'dist');

/**
 * EuiIcon loads its SVG components with `import('./assets/' + name)`, written for webpack (Kibana's
 * bundler), which resolves the extension-less name. esbuild bundles every file the pattern can match but
 * keys them by file name with the extension, so the lookup fails at runtime ("Module not found in bundle:
 * ./assets/calendar") and no icon renders. Appending '.js' to the expression makes the keys match; all
 * icons end up in the bundle, which is fine for a page served from localhost.
 */
const euiIconImports = {
  name: 'eui-icon-imports',
  setup(b) {
    b.onLoad({ filter: /[\\/]@elastic[\\/]eui[\\/]es[\\/]components[\\/]icon[\\/]icon\.js$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      const pattern = "'./assets/' + typeToPathMap[iconType])";
      if (!src.includes(pattern)) throw new Error(`${args.path}: EuiIcon's dynamic import changed; update euiIconImports in build.mjs`);
      return { contents: src.replace(pattern, "'./assets/' + typeToPathMap[iconType] + '.js')"), loader: 'js' };
    });
  },
};

export async function buildBrowser() {
  await build({
    entryPoints: { main: join(HERE, 'main.tsx') },
    outdir: join(DIST, 'browser'),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    minify: true,
    sourcemap: 'linked',
    // The app is written for Kibana's React 17 with the classic JSX runtime (tsconfig "jsx": "react").
    jsx: 'transform',
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.svg': 'file', '.png': 'file' },
    tsconfig: join(HERE, '..', 'tsconfig.check.json'),
    plugins: [euiIconImports],
    logLevel: 'warning',
  });
}

export async function buildNode() {
  await build({
    entryPoints: [join(HERE, 'cli.ts')],
    outfile: join(DIST, 'harness.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    tsconfig: join(HERE, '..', 'tsconfig.check.json'),
    logLevel: 'warning',
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const what = process.argv[2] ?? 'all';
  if (!['browser', 'node', 'all'].includes(what)) {
    process.stderr.write(`usage: node build.mjs [browser|node|all]\n`);
    process.exit(2);
  }
  if (what !== 'node') await buildBrowser();
  if (what !== 'browser') await buildNode();
}
