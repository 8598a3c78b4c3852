// VS Code's protocol stack against the real server: the vscode-languageclient's own protocol
// layer (vscode-languageserver-protocol + vscode-jsonrpc over stdio), the initialize params
// VS Code's client sends (test/testdata/vscode-initialize.json, recorded from the client
// library), and the extension's own settings code (src/settings.ts).
//
// Needs NONROOT_LS (the binary) and NONROOT_WS (a copy of editors/testdata/workspace);
// NONROOT_FIXED is the Dockerfile after the engine's preferred NR102 fix. editors/editors_test.go sets
// them; without them the tests are skipped.

import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import {
  CodeAction,
  CodeActionRequest,
  CodeActionResolveRequest,
  ConfigurationRequest,
  createProtocolConnection,
  Diagnostic,
  DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  HoverRequest,
  InitializedNotification,
  InitializeParams,
  InitializeRequest,
  MarkupContent,
  ProtocolConnection,
  PublishDiagnosticsNotification,
  PublishDiagnosticsParams,
  RegistrationRequest,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  TextDocumentEdit,
  TextEdit,
  UnregistrationRequest,
  WorkDoneProgressCreateRequest,
} from "vscode-languageserver-protocol/node";
import { inspectArgs, SECTION, SERVE_ARGS, serverSettings } from "../src/settings";

const bin = process.env.NONROOT_LS;
const ws = process.env.NONROOT_WS;
const skip = !bin || !ws ? "NONROOT_LS and NONROOT_WS are not set (run through go test ./editors)" : false;
const TIMEOUT = 10000;

const recorded = JSON.parse(
  fs.readFileSync(path.join(__dirname, "..", "..", "test", "testdata", "vscode-initialize.json"), "utf8"),
) as InitializeParams & { _recorded?: string };
delete recorded._recorded;

type Roots = "workspaceFolders" | "rootUri" | "none";

/** One server process driven like VS Code drives it. */
class Session {
  readonly proc: ChildProcess;
  readonly conn: ProtocolConnection;
  readonly diagnostics = new Map<string, PublishDiagnosticsParams>();
  private waiters: Array<() => void> = [];
  /** The user's `nonroot` settings, with the extension's own keys the server must not see. */
  user: Record<string, unknown> = { server: { path: "nonroot-ls" }, trace: { server: "off" } };
  configurationRequests = 0;
  exited: Promise<number | null>;

  constructor() {
    this.proc = spawn(bin as string, SERVE_ARGS, { cwd: ws, stdio: ["pipe", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => this.proc.on("exit", (code) => resolve(code)));
    this.conn = createProtocolConnection(
      new StreamMessageReader(this.proc.stdout!),
      new StreamMessageWriter(this.proc.stdin!),
    );
    this.conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
      this.diagnostics.set(p.uri, p);
      const w = this.waiters;
      this.waiters = [];
      w.forEach((f) => f());
    });
    // What the extension's middleware answers: only the server's keys of the section.
    this.conn.onRequest(ConfigurationRequest.type, (p) => {
      this.configurationRequests++;
      return p.items.map((item) => (item.section === SECTION ? serverSettings(this.user) : null));
    });
    this.conn.onRequest(RegistrationRequest.type, () => undefined);
    this.conn.onRequest(UnregistrationRequest.type, () => undefined);
    this.conn.onRequest(WorkDoneProgressCreateRequest.type, () => undefined);
    this.conn.listen();
  }

  async initialize(roots: Roots): Promise<void> {
    const root = pathToFileURL(ws as string).toString();
    const params: InitializeParams = {
      ...recorded,
      processId: process.pid,
      rootPath: roots === "rootUri" ? ws : null,
      rootUri: roots === "rootUri" ? root : null,
      workspaceFolders: roots === "workspaceFolders" ? [{ uri: root, name: path.basename(ws as string) }] : null,
      initializationOptions: serverSettings(this.user),
    };
    const res = await this.conn.sendRequest(InitializeRequest.type, params);
    assert.ok(res.capabilities, "initialize result has capabilities");
    await this.conn.sendNotification(InitializedNotification.type, {});
  }

  open(file: string, languageId: string): { uri: string; text: string } {
    const uri = pathToFileURL(file).toString();
    const text = fs.readFileSync(file, "utf8");
    void this.conn.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId, version: 1, text },
    });
    return { uri, text };
  }

  /** Waits until pred holds for the diagnostics published for uri. */
  async waitFor(uri: string, pred: (d: Diagnostic[]) => boolean, what: string): Promise<PublishDiagnosticsParams> {
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      const p = this.diagnostics.get(uri);
      if (p && pred(p.diagnostics)) {
        return p;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        assert.fail(`timed out waiting for ${what}; last published: ${JSON.stringify(p)}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async close(): Promise<number | null> {
    await this.conn.sendRequest(ShutdownRequest.type);
    await this.conn.sendNotification(ExitNotification.type);
    const code = await Promise.race([this.exited, new Promise<number | null>((r) => setTimeout(() => r(-1), 3000).unref())]);
    this.conn.dispose();
    this.proc.kill();
    return code;
  }
}

/** Applies LSP text edits (UTF-16 positions, which JS strings index natively). */
function applyEdits(text: string, edits: TextEdit[]): string {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\n") {
      lineStarts.push(i + 1);
    }
  }
  const offset = (p: { line: number; character: number }) =>
    p.line < lineStarts.length ? lineStarts[p.line] + p.character : text.length;
  const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start));
  let out = text;
  for (const e of sorted) {
    out = out.slice(0, offset(e.range.start)) + e.newText + out.slice(offset(e.range.end));
  }
  return out;
}

const has = (code: string) => (ds: Diagnostic[]) => ds.some((d) => d.code === code);

describe("VS Code protocol stack against nonroot-ls", { skip }, () => {
  let s: Session;
  before(async () => {
    s = new Session();
    await s.initialize("workspaceFolders");
  });
  after(async () => {
    if (s) {
      s.proc.kill();
    }
  });

  it("publishes NR102 on USER root, hovers in Markdown, and fixes it with documentChanges", async () => {
    const file = path.join(ws as string, "Dockerfile");
    const { uri, text } = s.open(file, "dockerfile");
    const pub = await s.waitFor(uri, has("NR102"), "NR102");
    if (pub.version !== undefined) {
      assert.equal(pub.version, 1, "diagnostics carry the version they were computed for");
    }
    const d = pub.diagnostics.find((x) => x.code === "NR102")!;
    assert.deepEqual(d.range, { start: { line: 2, character: 5 }, end: { line: 2, character: 9 } }, "range of `root`");
    assert.equal(d.severity, 1, "error");
    assert.equal(d.source, "nonroot-ls");
    assert.match(d.codeDescription?.href ?? "", /NR102/, "codeDescription links the rule");
    assert.ok(d.message.length > 0);

    const hover = await s.conn.sendRequest(HoverRequest.type, {
      textDocument: { uri },
      position: { line: 2, character: 6 },
    });
    assert.ok(hover, "hover result");
    const contents = hover!.contents as MarkupContent;
    assert.equal(contents.kind, "markdown", "VS Code asks for Markdown first");
    assert.match(contents.value, /NR102/);

    const actions = (await s.conn.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: d.range,
      context: { diagnostics: [d], only: ["quickfix"], triggerKind: 1 },
    })) as CodeAction[];
    let fix = actions.find((a) => a.isPreferred && a.kind === "quickfix");
    assert.ok(fix, `a preferred quick-fix among ${JSON.stringify(actions)}`);
    if (!fix!.edit) {
      fix = await s.conn.sendRequest(CodeActionResolveRequest.type, fix!);
    }
    const dc = fix!.edit?.documentChanges as TextDocumentEdit[] | undefined;
    assert.ok(dc && dc.length === 1, `documentChanges for a client that supports them: ${JSON.stringify(fix!.edit)}`);
    assert.deepEqual(dc![0].textDocument, { uri, version: 1 }, "versioned document");
    const fixed = applyEdits(text, dc![0].edits as TextEdit[]);
    assert.match(fixed.split("\n")[2], /^USER [1-9][0-9]*(:[0-9]+)?$/, "USER is a non-root uid");
    if (process.env.NONROOT_FIXED) {
      assert.equal(fixed, fs.readFileSync(process.env.NONROOT_FIXED, "utf8"), "same text as the engine's preferred NR102 fix");
    }

    // VS Code sends the applied edit as incremental changes.
    await s.conn.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: 2 },
      contentChanges: (dc![0].edits as TextEdit[]).map((e) => ({ range: e.range, text: e.newText })),
    });
    await s.waitFor(uri, (ds) => !has("NR102")(ds), "NR102 to go away after the fix");
  });

  it("honours settings from initializationOptions, workspace/configuration and didChangeConfiguration", async () => {
    const file = path.join(ws as string, "Dockerfile");
    const t = new Session();
    try {
      t.user = { ...t.user, rules: { NR102: "warning" } };
      await t.initialize("workspaceFolders");
      const { uri } = t.open(file, "dockerfile");
      const first = await t.waitFor(uri, has("NR102"), "NR102");
      assert.equal(first.diagnostics.find((x) => x.code === "NR102")!.severity, 2, "rules.NR102 = warning");
      // What the extension sends when a setting changes.
      t.user = { ...t.user, rules: { NR102: "info" } };
      await t.conn.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { [SECTION]: serverSettings(t.user) },
      });
      await t.waitFor(uri, (ds) => ds.some((x) => x.code === "NR102" && x.severity === 3), "NR102 as info");
      t.user = { ...t.user, rules: { NR102: "off" } };
      await t.conn.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
      await t.waitFor(uri, (ds) => !has("NR102")(ds), "NR102 off (pulled through workspace/configuration)");
      assert.ok(t.configurationRequests > 0, "the server asked for workspace/configuration");
      assert.equal(await t.close(), 0, "exit status after shutdown/exit");
    } finally {
      t.proc.kill();
    }
  });

  for (const roots of ["rootUri", "none"] as Roots[]) {
    it(`works when the client sends ${roots === "none" ? "no root (a single file)" : "only rootUri"}`, async () => {
      const t = new Session();
      try {
        await t.initialize(roots);
        const { uri } = t.open(path.join(ws as string, "Dockerfile"), "dockerfile");
        await t.waitFor(uri, has("NR102"), "NR102");
        assert.equal(await t.close(), 0, "exit status after shutdown/exit");
      } finally {
        t.proc.kill();
      }
    });
  }

  it("runs the CLI call behind \"nonroot-ls: Show image model\"", () => {
    const r = spawnSync(bin as string, inspectArgs(path.join(ws as string, "Dockerfile")), { cwd: ws, encoding: "utf8", timeout: TIMEOUT });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /root/, "the model shows the effective user");
  });

  it("shuts down and exits with status 0", async () => {
    assert.equal(await s.close(), 0);
  });
});
