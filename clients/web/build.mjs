// Builds the static site into static/: the pages, the stylesheet and one bundle per page (esbuild, pinned in
// package-lock.json). static/ is generated (gitignored): edit src/ and pages/, then `npm run build`.
import { build } from "esbuild";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const out = join(root, "static");

/** A page: layout.html with the page's `<!-- nav -->` and `<!-- main -->` parts and its name filled in. */
function page(name) {
  const source = readFileSync(join(root, "pages", `${name}.html`), "utf8");
  const [, nav, main] = source.split(/^<!-- (?:nav|main) -->\n/m);
  if (main === undefined) throw new Error(`pages/${name}.html needs a <!-- nav --> and a <!-- main --> part`);
  const parts = { name, nav: nav.trimEnd(), main: main.trimEnd() };
  return readFileSync(join(root, "pages", "layout.html"), "utf8").replace(/{{(\w+)}}/g, (_, key) => parts[key]);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });
writeFileSync(join(out, "index.html"), page("chat"));
writeFileSync(join(out, "dashboard.html"), page("dashboard"));
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
