// Unpacks the packaged .vsix (npm run package) and checks what VS Code will read from it:
// the manifest's activation, contributed settings (against the schema generated from the
// server's configuration struct), commands, and that the bundle and schema are inside.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as zlib from "node:zlib";
import { SERVER_KEYS } from "../src/settings";

const root = path.join(__dirname, "..", "..");
const pkgOnDisk = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const vsixPath = path.join(root, `nonroot-ls-${pkgOnDisk.version}.vsix`);
const skip = fs.existsSync(vsixPath) ? false : `${path.basename(vsixPath)} is not built (npm run package)`;

/** Reads every entry of a zip archive (stored or deflated) into memory. */
function unzip(buf: Buffer): Map<string, Buffer> {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) {
    eocd--;
  }
  assert.ok(eocd >= 0, "zip end of central directory");
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, "central directory entry");
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nlen = buf.readUInt16LE(p + 28);
    const xlen = buf.readUInt16LE(p + 30);
    const clen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString("utf8", p + 46, p + 46 + nlen);
    const lstart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(lstart, lstart + csize);
    out.set(name, method === 0 ? Buffer.from(data) : zlib.inflateRawSync(data));
    p += 46 + nlen + xlen + clen;
  }
  return out;
}

type Schema = { type?: unknown; properties?: Record<string, Schema>; [k: string]: unknown };

/** Settings keys an editor shows for a schema: objects with fixed properties are flattened. */
function leaves(s: Schema, prefix = ""): string[] {
  if (s.type === "object" && s.properties && (prefix === "" || s.additionalProperties === false)) {
    return Object.entries(s.properties).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

describe("packaged .vsix", { skip }, () => {
  const files = skip ? new Map<string, Buffer>() : unzip(fs.readFileSync(vsixPath));
  const get = (name: string): Buffer => {
    const b = files.get(name);
    assert.ok(b, `${name} is in the .vsix (has: ${[...files.keys()].join(", ")})`);
    return b!;
  };

  it("holds the bundled extension, schema, icon and README, and no node_modules", () => {
    const pkg = JSON.parse(get("extension/package.json").toString("utf8"));
    const main = path.posix.normalize(path.posix.join("extension", pkg.main));
    assert.ok(get(main).length > 10000, "bundled main");
    assert.match(get(main).toString("utf8"), /vscode-languageclient|LanguageClient/, "languageclient is bundled in");
    get("extension/schemas/nonroot-ls.schema.json");
    assert.equal(get(path.posix.join("extension", pkg.icon)).subarray(1, 4).toString(), "PNG");
    get("extension/readme.md");
    assert.ok(![...files.keys()].some((k) => k.includes("node_modules/")), "dependencies are bundled, not shipped");
    assert.ok(![...files.keys()].some((k) => k.startsWith("extension/src/")), "no sources");
  });

  it("has the marketplace fields and an identity matching package.json", () => {
    const pkg = JSON.parse(get("extension/package.json").toString("utf8"));
    for (const k of ["name", "displayName", "description", "version", "publisher", "icon", "repository", "categories", "keywords", "engines"]) {
      assert.ok(pkg[k], `package.json ${k}`);
    }
    assert.deepEqual(pkg.categories, ["Linters"]);
    const xml = get("extension.vsixmanifest").toString("utf8");
    assert.match(xml, new RegExp(`<Identity [^>]*Id="${pkg.name}"[^>]*Version="${pkg.version}"[^>]*Publisher="${pkg.publisher}"`));
    const lcPkg = path.join(root, "node_modules", "vscode-languageclient", "package.json");
    const lcEngine: string = JSON.parse(fs.readFileSync(lcPkg, "utf8")).engines.vscode;
    assert.equal(pkg.engines.vscode, lcEngine, "engines.vscode is the language client's requirement");
  });

  it("activates on Dockerfiles, YAML, JSON and the config file", () => {
    const pkg = JSON.parse(get("extension/package.json").toString("utf8"));
    for (const e of ["onLanguage:dockerfile", "onLanguage:yaml", "onLanguage:json", "workspaceContains:**/Dockerfile", "workspaceContains:**/Containerfile", "workspaceContains:.nonroot-ls.yaml",
      // Workspaces whose problems the server publishes without a file open (Helm, compose, kustomize, skaffold, bake).
      "workspaceContains:**/Chart.yaml", "workspaceContains:**/compose.yaml", "workspaceContains:**/docker-compose.yml", "workspaceContains:**/kustomization.yaml"]) {
      assert.ok(pkg.activationEvents.includes(e), `activation event ${e}`);
    }
  });

  it("contributes exactly the server's settings (from the generated schema) plus server.path and trace.server", () => {
    const pkg = JSON.parse(get("extension/package.json").toString("utf8"));
    const schema = JSON.parse(get("extension/schemas/nonroot-ls.schema.json").toString("utf8")) as Schema;
    const contributed = Object.keys(pkg.contributes.configuration.properties).sort();
    const want = [...leaves(schema).map((k) => `nonroot.${k}`), "nonroot.server.path", "nonroot.trace.server"].sort();
    assert.deepEqual(contributed, want);
    assert.deepEqual([...SERVER_KEYS].sort(), Object.keys(schema.properties!).sort(), "keys the extension forwards");
    for (const [k, v] of Object.entries(pkg.contributes.configuration.properties as Record<string, { description?: string; markdownDescription?: string }>)) {
      assert.ok(v.description || v.markdownDescription, `${k} has a description`);
    }
    assert.equal(pkg.contributes.configuration.properties["nonroot.server.path"].scope, "machine",
      "a workspace must not choose the program the extension runs");
    const yv = pkg.contributes.yamlValidation.find((y: { fileMatch: string[] }) => y.fileMatch.includes(".nonroot-ls.yaml"));
    assert.equal(yv?.url, "./schemas/nonroot-ls.schema.json");
  });

  it("contributes the commands the extension registers", () => {
    const pkg = JSON.parse(get("extension/package.json").toString("utf8"));
    const src = fs.readFileSync(path.join(root, "src", "extension.ts"), "utf8");
    const registered = [...src.matchAll(/registerCommand\("([^"]+)"/g)].map((m) => m[1]).sort();
    const contributed = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
    assert.deepEqual(contributed, registered);
    assert.ok(contributed.includes("nonroot.showImageModel"));
    assert.ok(pkg.contributes.commands.find((c: { title: string; category: string }) => c.title === "Show image model" && c.category === "nonroot-ls"));
  });
});
