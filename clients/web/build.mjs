// Builds the static site into static/: the pages, the stylesheet and one bundle per page (esbuild, pinned in
// package-lock.json). static/ is generated (gitignored): edit src/ and pages/, then `npm run build`.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const out = join(root, "static");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });
for (const page of ["index.html", "dashboard.html"]) cpSync(join(root, "pages", page), join(out, page));
cpSync(join(root, "pages", "style.css"), join(out, "assets", "style.css"));

await build({
  entryPoints: { chat: join(root, "src", "chat.ts"), dashboard: join(root, "src", "dashboard.ts") },
  outdir: join(out, "assets"),
  bundle: true,
  splitting: true, // the pages share one chunk (MQTT.js, the AWS SDK): downloaded once
  chunkNames: "shared-[hash]",
  minify: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  legalComments: "linked",
  logLevel: "warning",
});
console.log(`built ${out}`);
