import { execFile } from "node:child_process";
import * as vscode from "vscode";
import {
  ConfigurationParams,
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
} from "vscode-languageclient/node";
import {
  documentSelector,
  INSTALL_COMMAND,
  inspectArgs,
  resolveServerPath,
  SECTION,
  SERVE_ARGS,
  serverSettings,
} from "./settings";

const INSPECT_SCHEME = "nonroot-inspect";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;

/** The server's settings for a scope (a document or workspace folder), or the window's. */
function settingsFor(scope?: vscode.Uri): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration(SECTION, scope ?? null);
  return serverSettings({
    profile: cfg.get("profile"),
    rules: cfg.get("rules"),
    defaultUser: cfg.get("defaultUser"),
    images: cfg.get("images"),
    helm: cfg.get("helm"),
    ignore: cfg.get("ignore"),
    diagnostics: cfg.get("diagnostics"),
  });
}

function firstFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** Finds the binary or tells the user how to install it. */
async function serverPath(): Promise<string | undefined> {
  const configured = vscode.workspace.getConfiguration(SECTION).get<string>("server.path", "nonroot-ls");
  const found = resolveServerPath(configured, process.env, firstFolder());
  if (found) {
    return found;
  }
  const copy = "Copy install command";
  const settings = "Open Settings";
  const pick = await vscode.window.showErrorMessage(
    `nonroot-ls: the server binary "${configured}" was not found. Install it with \`${INSTALL_COMMAND}\` ` +
      `(Go 1.26 or later; make sure $(go env GOPATH)/bin is on PATH) or set "nonroot.server.path".`,
    copy,
    settings,
  );
  if (pick === copy) {
    await vscode.env.clipboard.writeText(INSTALL_COMMAND);
  } else if (pick === settings) {
    await vscode.commands.executeCommand("workbench.action.openSettings", "nonroot.server.path");
  }
  return undefined;
}

async function startClient(context: vscode.ExtensionContext): Promise<void> {
  const command = await serverPath();
  if (!command) {
    return;
  }
  output.appendLine(`starting ${command} ${SERVE_ARGS.join(" ")}`);
  // No `transport` on purpose: the client then talks over stdio without appending --stdio.
  const serverOptions: ServerOptions = {
    run: { command, args: SERVE_ARGS },
    debug: { command, args: SERVE_ARGS },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: documentSelector(),
    outputChannel: output,
    traceOutputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    initializationOptions: settingsFor(),
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher("**/.nonroot-ls.{yaml,yml}"),
    },
    middleware: {
      workspace: {
        // Answer workspace/configuration for our section with the server's keys only.
        configuration: async (params: ConfigurationParams, token, next) => {
          const answers = await next(params, token);
          if (!Array.isArray(answers)) {
            return answers;
          }
          return params.items.map((item, i) => {
            if (item.section !== SECTION) {
              return answers[i];
            }
            const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
            return settingsFor(scope);
          });
        },
      },
    },
  };
  client = new LanguageClient("nonroot", "nonroot-ls", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (err) {
    output.appendLine(`failed to start: ${String(err)}`);
    void vscode.window.showErrorMessage(`nonroot-ls: the server did not start (${String(err)}). See the "nonroot-ls" output.`);
    return;
  }
  context.subscriptions.push({ dispose: () => void client?.stop() });
}

async function restart(context: vscode.ExtensionContext): Promise<void> {
  if (client) {
    const c = client;
    client = undefined;
    try {
      await c.stop();
    } catch (err) {
      output.appendLine(`stop: ${String(err)}`);
    }
  }
  await startClient(context);
}

/** Read-only documents holding `nonroot-ls inspect` output, keyed by the inspected file. */
class InspectProvider implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const file = decodeURIComponent(uri.query);
    const command = await serverPath();
    if (!command) {
      return `nonroot-ls was not found. Install it with:\n\n  ${INSTALL_COMMAND}\n`;
    }
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file))?.uri.fsPath;
    return new Promise((resolve) => {
      execFile(command, inspectArgs(file), { cwd: folder, timeout: 30000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (err && !stdout) {
          resolve(`nonroot-ls inspect ${file} failed:\n\n${stderr || String(err)}\n`);
          return;
        }
        resolve(stdout + (stderr ? `\n${stderr}` : ""));
      });
    });
  }
}

async function showImageModel(): Promise<void> {
  const doc = vscode.window.activeTextEditor?.document;
  if (!doc || doc.uri.scheme !== "file") {
    void vscode.window.showInformationMessage("nonroot-ls: open a Dockerfile, manifest or chart file saved on disk first.");
    return;
  }
  if (doc.isDirty) {
    void vscode.window.showWarningMessage("nonroot-ls: the image model shows the file as saved on disk; save it to include your edits.");
  }
  const uri = vscode.Uri.from({
    scheme: INSPECT_SCHEME,
    path: `/${doc.uri.path.split("/").pop() ?? "file"} (image model)`,
    query: encodeURIComponent(doc.uri.fsPath),
  });
  const shown = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(shown, { preview: true, viewColumn: vscode.ViewColumn.Beside });
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("nonroot-ls");
  context.subscriptions.push(
    output,
    vscode.workspace.registerTextDocumentContentProvider(INSPECT_SCHEME, new InspectProvider()),
    vscode.commands.registerCommand("nonroot.showImageModel", showImageModel),
    vscode.commands.registerCommand("nonroot.restartServer", () => restart(context)),
    vscode.commands.registerCommand("nonroot.showOutput", () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration(`${SECTION}.server.path`)) {
        await restart(context);
        return;
      }
      if (e.affectsConfiguration(SECTION) && client?.isRunning()) {
        // Push the new settings; the server may also pull them with workspace/configuration.
        await client.sendNotification(DidChangeConfigurationNotification.type, {
          settings: { [SECTION]: settingsFor() },
        });
      }
    }),
  );
  await startClient(context);
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop();
    client = undefined;
  }
}
