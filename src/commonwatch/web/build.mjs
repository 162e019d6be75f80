// Builds the console and responder bundles from src/ into dist/ (not in git).
// `npm run build` once after `npm ci`; `npm run watch` while working on the front end.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const common = {
  bundle: true,
  minify: true,
  sourcemap: true,
  target: ["chrome109", "firefox115", "safari16"],
  outdir: dist,
  entryNames: "[name]",
  assetNames: "[name]-[hash]",
  loader: { ".png": "file", ".svg": "file" },
  legalComments: "linked",
  logLevel: "info",
};
const builds = [
  // The pages: ES modules.
  { ...common, format: "esm", entryPoints: { console: join(here, "src/console.js"), responder: join(here, "src/responder.js") } },
  // Classic workers: module workers are not supported everywhere yet. The cluster worker is
  // loaded from beside console.js with the same version query.
  { ...common, format: "iife", entryPoints: { sw: join(here, "src/sw.js"), "cluster-worker": join(here, "src/cluster-worker.js") } },
];

if (process.argv.includes("--watch")) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
