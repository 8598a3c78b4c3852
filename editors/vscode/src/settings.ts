// Pure helpers shared by the extension and its tests: no `vscode` import here, so the Node
// tests can load this module outside VS Code.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Configuration section the server reads through workspace/configuration. */
export const SECTION = "nonroot";

/**
 * Keys of the `nonroot` section that belong to the server's configuration (diagnostics.Config).
 * `server.path` and `trace.server` are the extension's own and are never sent to the server.
 * The Go test editors/settings_test.go checks this list, package.json and the server's
 * configuration struct against each other.
 */
export const SERVER_KEYS = ["profile", "rules", "defaultUser", "images", "helm", "kustomize", "ignore", "diagnostics"] as const;

/** Files the server understands, by VS Code language id and by file name. */
export const DOCKERFILE_PATTERN = "**/{Dockerfile,Containerfile,*.Dockerfile,*.dockerfile,Dockerfile.*,Containerfile.*}";

/** A document filter as the LSP defines it (a language and/or a glob, and a scheme). */
export type DocumentFilter = { scheme: string; language: string } | { scheme: string; pattern: string };

/** The documents the language client attaches to. */
export function documentSelector(): DocumentFilter[] {
  const sel: DocumentFilter[] = [];
  for (const scheme of ["file", "untitled"]) {
    for (const language of ["dockerfile", "dockercompose", "yaml", "helm", "json"]) {
      sel.push({ scheme, language });
    }
  }
  sel.push({ scheme: "file", pattern: DOCKERFILE_PATTERN });
  return sel;
}

/** True for a value a user did not set: undefined, null, "", [] or an object of such values. */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === "") {
    return true;
  }
  if (Array.isArray(v)) {
    return v.length === 0;
  }
  if (typeof v === "object") {
    return Object.values(v as Record<string, unknown>).every(isEmpty);
  }
  return false;
}

/** Drops unset values from an object tree (keeps arrays' items as they are). */
function prune(v: unknown): unknown {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    return v;
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (!isEmpty(x)) {
      out[k] = prune(x);
    }
  }
  return out;
}

/**
 * The server's part of the `nonroot` section: only the keys of diagnostics.Config, without
 * values the user left unset, so that `.nonroot-ls.yaml` and the server's defaults apply.
 */
export function serverSettings(section: Record<string, unknown> | undefined | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!section) {
    return out;
  }
  for (const k of SERVER_KEYS) {
    const v = section[k];
    if (!isEmpty(v)) {
      out[k] = prune(v);
    }
  }
  return out;
}

/** Expands `~` and `${workspaceFolder}` in a configured path. */
export function expandPath(p: string, workspaceFolder?: string): string {
  let s = p.trim();
  if (s === "~" || s.startsWith("~/")) {
    s = path.join(os.homedir(), s.slice(1));
  }
  if (workspaceFolder) {
    s = s.split("${workspaceFolder}").join(workspaceFolder);
  }
  return s;
}

/**
 * Resolves the server binary: a path with a separator must exist; a bare name is looked up on
 * PATH (with PATHEXT on Windows). Returns undefined when it is not found.
 */
export function resolveServerPath(
  configured: string,
  env: NodeJS.ProcessEnv = process.env,
  workspaceFolder?: string,
): string | undefined {
  const p = expandPath(configured || "nonroot-ls", workspaceFolder);
  const isWin = process.platform === "win32";
  const exts = isWin ? (env.PATHEXT || ".EXE;.CMD;.BAT").split(";").concat([""]) : [""];
  const runnable = (f: string): boolean => {
    try {
      const st = fs.statSync(f);
      if (!st.isFile()) {
        return false;
      }
      if (!isWin) {
        fs.accessSync(f, fs.constants.X_OK);
      }
      return true;
    } catch {
      return false;
    }
  };
  if (p.includes("/") || (isWin && p.includes("\\"))) {
    const abs = path.resolve(workspaceFolder || process.cwd(), p);
    for (const e of exts) {
      if (runnable(abs + e)) {
        return abs + e;
      }
    }
    return undefined;
  }
  for (const dir of (env.PATH || "").split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    for (const e of exts) {
      const f = path.join(dir, p + e);
      if (runnable(f)) {
        return f;
      }
    }
  }
  return undefined;
}

/** The command users run to install the server. */
export const INSTALL_COMMAND = "go install github.com/nonroot-ls/nonroot-ls/cmd/...@latest";

/** Arguments that start the language server over stdio. */
export const SERVE_ARGS = ["serve"];

/** Arguments of the CLI's inspect command for a file. */
export function inspectArgs(file: string): string[] {
  return ["inspect", file];
}
