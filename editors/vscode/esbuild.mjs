// Bundles the extension (and, with --tests, the Node tests) with esbuild.
import * as esbuild from "esbuild";

const production = process.argv.includes("--production");
const watch = process.argv.includes("--watch");
const tests = process.argv.includes("--tests");

const common = {
  bundle: true,
  platform: "node",
  target: "node18",
  format: "cjs",
  sourcemap: !production,
  minify: production,
  logLevel: "info",
};

const builds = [
  {
    ...common,
    entryPoints: ["src/extension.ts"],
    outfile: "dist/extension.js",
    external: ["vscode"],
  },
];
if (tests) {
  builds.push({
    ...common,
    entryPoints: ["test/protocol.test.ts", "test/manifest.test.ts"],
    outdir: "dist/test",
    minify: false,
    sourcemap: true,
  });
  // The end-to-end driver (test/e2e): puppeteer-core stays a package of its own.
  builds.push({
    ...common,
    entryPoints: ["test/e2e/vscode.e2e.ts"],
    outdir: "dist/e2e",
    external: ["puppeteer-core"],
    minify: false,
    sourcemap: true,
  });
}

for (const b of builds) {
  if (watch) {
    const ctx = await esbuild.context(b);
    await ctx.watch();
  } else {
    await esbuild.build(b);
  }
}
