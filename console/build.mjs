// Builds the console into functions/console/assets/: index.html plus content-hashed
// app-<hash>.js, app-<hash>.css and lazy chunks, all referenced as /console/<file>.
// Prints the first-load size (gzipped JS+CSS) of every screen; fails over the budget.
import * as esbuild from 'esbuild';
import { gzipSync } from 'node:zlib';
import { readFileSync, writeFileSync, readdirSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { join, dirname, basename, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'functions', 'console', 'assets');
const BUDGET_KB = 150;
const quiet = process.argv.includes('--quiet');

mkdirSync(out, { recursive: true });
for (const f of readdirSync(out)) if (f !== '.gitkeep') rmSync(join(out, f), { recursive: true, force: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.jsx' },
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: out,
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  publicPath: '/console/',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});

const outputs = result.metafile.outputs;
const rel = (p) => relative(out, join(here, p));
let entryJs, entryCss;
for (const [p, o] of Object.entries(outputs)) {
  if (o.entryPoint === 'src/main.jsx') { entryJs = rel(p); entryCss = o.cssBundle ? rel(o.cssBundle) : undefined; }
}
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Contrail console</title>
<link rel="icon" href="data:,">
${entryCss ? `<link rel="stylesheet" href="/console/${entryCss}">\n` : ''}<script type="module" src="/console/${entryJs}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading the Contrail console…</p></div>
<noscript>The Contrail console needs JavaScript.</noscript>
</body>
</html>
`;
writeFileSync(join(out, 'index.html'), html);

// First load of a screen = the entry, its static imports, and the lazy chunk(s) of that screen
// with their static imports (the browser fetches those before the screen draws).
const gz = (f) => gzipSync(readFileSync(join(out, f)), { level: 9 }).length;
const byName = new Map(Object.entries(outputs).map(([p, o]) => [rel(p), o]));
function closure(file, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  const o = byName.get(file);
  if (o?.cssBundle) seen.add(rel(o.cssBundle));
  for (const imp of o?.imports ?? []) if (imp.kind === 'import-statement') closure(rel(imp.path), seen);
  return seen;
}
const base = closure(entryJs);
if (entryCss) base.add(entryCss);
const lazy = [...byName.entries()].filter(([, o]) => o.entryPoint && o.entryPoint !== 'src/main.jsx');
const screens = [['sign-in, contacts (entry only)', new Set(base)]];
for (const [file, o] of lazy) {
  const s = new Set(base);
  for (const f of closure(file)) s.add(f);
  screens.push([basename(o.entryPoint).replace(/\.jsx?$/, '') + ' screens', s]);
}
let worst = 0;
const lines = [];
for (const [name, files] of screens) {
  const kb = [...files].reduce((n, f) => n + gz(f), 0) / 1024;
  worst = Math.max(worst, kb);
  lines.push(`  ${name.padEnd(34)} ${kb.toFixed(1).padStart(6)} KB gzipped JS+CSS (${files.size} files)`);
}
const total = [...byName.keys()].filter((f) => /\.(js|css)$/.test(f)).reduce((n, f) => n + gz(f), 0) / 1024;
const summary = { worstFirstLoadKB: +worst.toFixed(1), allAssetsKB: +total.toFixed(1), budgetKB: BUDGET_KB };
writeFileSync(join(here, '.build-size.json'), JSON.stringify(summary) + '\n');
if (!quiet) {
  console.log(`console: built into ${relative(process.cwd(), out) || out}`);
  console.log(lines.join('\n'));
  console.log(`  first load, worst screen: ${worst.toFixed(1)} KB of ${BUDGET_KB} KB budget; all assets ${total.toFixed(1)} KB gzipped`);
}
if (worst > BUDGET_KB) {
  console.error(`console: first load ${worst.toFixed(1)} KB gzipped is over the ${BUDGET_KB} KB budget`);
  process.exit(1);
}
