// Builds the web page into ../jupyter_collab_docs/static/webapp/ with esbuild.
//
//   node build.mjs           production build (minified, with source maps)
//   node build.mjs --dev     unminified
//   node build.mjs --watch   rebuild on change (unminified)
//
// Output: index.html, example.html, app.js, app.css, example.js (+ .map), manifest.json
// (content hashes the server appends as ?v= to the asset URLs, for long-lived caching).
// index.html is written last: its mtime tells hatch_build.py the build is complete.

import { createHash } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, "..", "jupyter_collab_docs", "static", "webapp");
const watch = process.argv.includes("--watch");
const dev = watch || process.argv.includes("--dev");

const ASSETS = ["app.js", "app.css", "example.js"];

function escapeHtml(text) {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

async function writePages() {
  const manifest = {};
  for (const asset of ASSETS) {
    const data = await readFile(join(outdir, asset));
    manifest[asset] = createHash("sha256").update(data).digest("hex").slice(0, 16);
  }
  await writeFile(join(outdir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  // The example page shows its own source, as it is in the repository.
  const exampleSource = await readFile(join(here, "src", "example", "example.ts"), "utf8");
  const example = (await readFile(join(here, "src", "example", "example.html"), "utf8")).replace(
    "<!-- example-source -->",
    escapeHtml(exampleSource),
  );
  await writeFile(join(outdir, "example.html"), example);
  await writeFile(join(outdir, "index.html"), await readFile(join(here, "src", "index.html")));
}

const pages = {
  name: "collab-docs-pages",
  setup(build) {
    build.onEnd(async (result) => {
      if (result.errors.length === 0) {
        await writePages();
        console.log(`built ${outdir}`);
      }
    });
  },
};

const options = {
  entryPoints: {
    app: join(here, "src", "main.ts"),
    example: join(here, "src", "example", "example.ts"),
  },
  outdir,
  bundle: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  minify: !dev,
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "linked",
  logLevel: "warning",
  plugins: [pages],
};

if (watch) {
  await mkdir(outdir, { recursive: true });
  const context = await esbuild.context(options);
  await context.watch();
  console.log("watching webapp/src for changes");
} else {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  await esbuild.build(options);
}
