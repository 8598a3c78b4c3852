/// <reference lib="dom" />
// The extension in a real VS Code: code-server (VS Code in the browser) with the packaged .vsix
// installed, driven through its UI by headless Chromium (puppeteer-core, Debian's chromium).
// editors/editors_test.go (TestVSCodeE2E) installs the extension, writes the user settings,
// starts code-server on the workspace (a copy of editors/testdata/e2e) and runs this script
// with:
//
//   NONROOT_E2E_URL       the workbench URL (code-server, folder opened)
//   NONROOT_WS            the workspace folder on disk
//   NONROOT_CHROMIUM      the browser executable
//   NONROOT_FIXED         deploy/api.yaml as `nonroot-ls fix` leaves it (on a copy)
//   NONROOT_ARTIFACTS     where to save screenshots
//   NONROOT_RESULT        the results file: PASS/FAIL lines, then DONE
//
// Every step waits for what VS Code shows (a DOM condition) or for the file on disk, each
// with a deadline; nothing sleeps for a fixed time.

import * as fs from "node:fs";
import * as path from "node:path";
import puppeteer, { Browser, Page } from "puppeteer-core";

function env(k: string): string {
  const v = process.env[k];
  if (!v) {
    throw new Error(`${k} is not set (run through go test ./editors -run TestVSCodeE2E)`);
  }
  return v;
}

const url = env("NONROOT_E2E_URL");
const ws = env("NONROOT_WS");
const chromium = env("NONROOT_CHROMIUM");
const fixedPath = env("NONROOT_FIXED");
const artifacts = env("NONROOT_ARTIFACTS");
const resultPath = env("NONROOT_RESULT");

/** How long one UI step may take: the workbench, the extension host and the server start cold. */
const STEP = 60_000;

function report(line: string): void {
  fs.appendFileSync(resultPath, line + "\n");
  console.log(line);
}

let failures = 0;

/** Runs one named check: PASS, or FAIL with the error. A failed check ends the run when fatal. */
async function check(name: string, fn: () => Promise<string | void>, fatal = true): Promise<boolean> {
  const start = Date.now();
  try {
    const detail = await fn();
    report(`PASS ${name} (${Date.now() - start} ms)${detail ? `: ${detail}` : ""}`);
    return true;
  } catch (err) {
    failures++;
    report(`FAIL ${name}: ${err instanceof Error ? err.message : String(err)}`);
    if (fatal) {
      throw new Fatal(name);
    }
    return false;
  }
}

class Fatal extends Error {}

// ---- The Problems panel, as the tree VS Code renders ----

interface Related {
  resource: string;
  line: number;
  col: number;
  message: string;
}
interface Marker {
  file: string; // absolute path (the file row's label)
  severity: string; // error, warning, info
  code: string;
  source: string;
  line: number;
  col: number;
  message: string;
  related: Related[];
}

/** Reads the rows of the Problems panel (a virtualised tree: the rows on screen). */
function readProblems(): Marker[] {
  const rows = Array.from(document.querySelectorAll(".markers-panel .monaco-list-row"));
  const out: Marker[] = [];
  let file = "";
  const pos = (s: string | null | undefined): [number, number] => {
    const m = /\[Ln (\d+), Col (\d+)\]/.exec(s ?? "");
    return m ? [Number(m[1]), Number(m[2])] : [0, 0];
  };
  for (const row of rows) {
    const level = row.getAttribute("aria-level");
    if (level === "1") {
      file = row.querySelector(".monaco-icon-label")?.getAttribute("aria-label") ?? "";
      continue;
    }
    if (level === "2") {
      const icon = row.querySelector(".marker-icon")?.className ?? "";
      const [line, col] = pos(row.querySelector(".marker-line")?.textContent);
      out.push({
        file,
        severity: ["error", "warning", "info"].find((s) => icon.split(/\s+/).includes(s)) ?? icon,
        code: row.querySelector(".marker-code")?.textContent?.trim() ?? "",
        source: row.querySelector(".marker-source")?.textContent?.trim() ?? "",
        line,
        col,
        message: row.querySelector(".marker-message")?.textContent?.trim() ?? "",
        related: [],
      });
      continue;
    }
    if (level === "3" && out.length > 0) {
      const text = (row as HTMLElement).innerText ?? "";
      const [line, col] = pos(text);
      out[out.length - 1].related.push({
        resource: row.querySelector(".related-info-resource")?.textContent?.trim() ?? "",
        line,
        col,
        message: text.replace(/^[^:]*\]\s*:\s*/s, "").trim(),
      });
    }
  }
  return out;
}

/** Waits until the Problems panel satisfies pred (evaluated in the page on each DOM change). */
async function waitForProblems(page: Page, what: string, pred: string): Promise<Marker[]> {
  try {
    await page.waitForFunction(
      `(() => { const problems = (${readProblems.toString()})(); return (${pred})(problems); })()`,
      { timeout: STEP, polling: "mutation" },
    );
  } catch (err) {
    const now = (await page.evaluate(readProblems)) as Marker[];
    throw new Error(`${what}: not shown within ${STEP / 1000}s (${String(err)}); the Problems panel lists ${describe(now)}`);
  }
  return (await page.evaluate(readProblems)) as Marker[];
}

function describe(ms: Marker[]): string {
  if (ms.length === 0) {
    return "nothing";
  }
  return ms
    .map((m) => `${path.relative(ws, m.file) || m.file}:${m.line}:${m.col} ${m.severity} ${m.code}` + m.related.map((r) => ` [${r.resource}:${r.line}:${r.col}]`).join(""))
    .join("; ");
}

// ---- Driving the workbench with the keyboard, as a person would ----

/** Runs a command from the command palette (F1), picking the entry whose label is exactly label. */
async function command(page: Page, label: string): Promise<void> {
  await page.keyboard.press("F1");
  await page.waitForSelector(".quick-input-widget .quick-input-box input", { visible: true, timeout: STEP });
  await page.keyboard.type(label);
  await pickQuickInput(page, label, (row, want) => (row.querySelector(".label-name") as HTMLElement | null)?.innerText.trim() === want);
}

/** Waits for the quick-input row that matches, focuses it with the arrow keys and presses Enter. */
async function pickQuickInput(
  page: Page,
  want: string,
  match: (row: Element, want: string) => boolean,
): Promise<void> {
  const find = `(() => {
    const match = ${match.toString()};
    const rows = Array.from(document.querySelectorAll(".quick-input-widget .quick-input-list .monaco-list-row"));
    return rows.findIndex((r) => match(r, ${JSON.stringify(want)}));
  })()`;
  try {
    await page.waitForFunction(`${find} >= 0`, { timeout: STEP, polling: "mutation" });
  } catch {
    const shown = await page.$$eval(".quick-input-widget .quick-input-list .monaco-list-row", (els) =>
      els.map((e) => e.getAttribute("aria-label")),
    );
    throw new Error(`the quick input does not offer "${want}" (it shows: ${JSON.stringify(shown)})`);
  }
  // Move the focus to the row (the first one is focused when the list opens).
  const index = (await page.evaluate(find)) as number;
  for (let i = 0; i < index; i++) {
    await page.keyboard.press("ArrowDown");
  }
  await page.waitForFunction(
    `(() => { const f = document.querySelector(".quick-input-widget .quick-input-list .monaco-list-row.focused"); const match = ${match.toString()}; return f && match(f, ${JSON.stringify(want)}); })()`,
    { timeout: STEP, polling: "mutation" },
  );
  await page.keyboard.press("Enter");
  await page.waitForSelector(".quick-input-widget", { hidden: true, timeout: STEP });
}

/** Opens a workspace file with Go to File (Ctrl+P) and waits for its editor to have focus. */
async function openFile(page: Page, rel: string): Promise<void> {
  const abs = path.join(ws, rel);
  await page.keyboard.down("Control");
  await page.keyboard.press("p");
  await page.keyboard.up("Control");
  await page.waitForSelector(".quick-input-widget .quick-input-box input", { visible: true, timeout: STEP });
  await page.keyboard.type(rel);
  await pickQuickInput(page, abs, (row, want) => {
    const label = row.querySelector(".monaco-icon-label");
    // Go to File's rows carry the file's path in their label's title/aria-label or description.
    const name = want.split("/").pop();
    const dir = want.split("/").slice(-2, -1)[0];
    const text = (row as HTMLElement).innerText;
    return !!label && text.includes(name!) && text.includes(dir!);
  });
  await page.waitForFunction(
    `(() => { const t = document.querySelector(".tabs-container .tab.active"); return t && (t.getAttribute("aria-label") || "").startsWith(${JSON.stringify(path.basename(rel))}) && document.activeElement && document.activeElement.closest(".monaco-editor"); })()`,
    { timeout: STEP, polling: "mutation" },
  );
}

/** Moves the cursor with Go to Line/Column (Ctrl+G) and waits for the status bar to show it. */
async function goTo(page: Page, line: number, col: number): Promise<void> {
  await page.keyboard.down("Control");
  await page.keyboard.press("g");
  await page.keyboard.up("Control");
  await page.waitForSelector(".quick-input-widget .quick-input-box input", { visible: true, timeout: STEP });
  await page.keyboard.type(`${line}:${col}`);
  await page.keyboard.press("Enter");
  await page.waitForSelector(".quick-input-widget", { hidden: true, timeout: STEP });
  await page.waitForFunction(
    `Array.from(document.querySelectorAll(".statusbar-item")).some((e) => (e.innerText || "").trim() === "Ln ${line}, Col ${col}")`,
    { timeout: STEP, polling: "mutation" },
  );
}

/**
 * Moves the mouse over the first token `word` on line `line` (1-based) of the active editor,
 * as a person hovering it would, and returns the hover's text once it says `want`.
 */
async function hoverText(page: Page, line: number, word: string, want: string): Promise<string> {
  // The line is on screen (goTo revealed it); find the token's box in the rendered view line.
  const box = await page.waitForFunction(
    (line: number, word: string) => {
      const editor = document.querySelector(".editor-group-container.active .monaco-editor");
      if (!editor) {
        return null;
      }
      const numbers = Array.from(editor.querySelectorAll(".margin-view-overlays .line-numbers"));
      const number = numbers.find((n) => (n as HTMLElement).innerText.trim() === String(line)) as HTMLElement | undefined;
      if (!number) {
        return null;
      }
      const top = number.getBoundingClientRect().top;
      for (const span of Array.from(editor.querySelectorAll(".view-lines .view-line span span"))) {
        const r = span.getBoundingClientRect();
        if (Math.abs(r.top - top) < 2 && span.textContent === word) {
          return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
        }
      }
      return null;
    },
    { timeout: STEP, polling: "mutation" },
    line,
    word,
  );
  const at = (await box.jsonValue()) as { x: number; y: number };
  await page.mouse.move(at.x - 40, at.y + 40);
  await page.mouse.move(at.x, at.y, { steps: 5 });
  const sel = ".monaco-hover:not(.hidden) .monaco-hover-content";
  try {
    await page.waitForFunction(
      `Array.from(document.querySelectorAll(${JSON.stringify(sel)})).some((e) => (e.innerText || "").includes(${JSON.stringify(want)}))`,
      { timeout: STEP, polling: "mutation" },
    );
  } catch {
    const shown = await page.$$eval(sel, (els) => els.map((e) => (e as HTMLElement).innerText));
    throw new Error(`hovering ${word} on line ${line} does not show "${want}" (the hover shows: ${JSON.stringify(shown)})`);
  }
  const text = await page.$$eval(sel, (els) => els.map((e) => (e as HTMLElement).innerText).join("\n"));
  // Move away: the hover closes.
  await page.mouse.move(5, 5);
  await page.waitForFunction(`!document.querySelector(${JSON.stringify(sel)})`, { timeout: STEP, polling: "mutation" }).catch(() => undefined);
  return text;
}

/** Waits, with a deadline, for a condition that spans the page and the disk (checked every 100 ms). */
async function until(what: string, cond: () => Promise<boolean>, state?: () => string): Promise<void> {
  const deadline = Date.now() + STEP;
  while (!(await cond())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${STEP / 1000}s waiting for ${what}${state ? `: ${state()}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function activeTabDirty(page: Page): Promise<boolean> {
  return (await page.evaluate(
    `(() => { const t = document.querySelector(".tabs-container .tab.active"); return !!t && t.classList.contains("dirty"); })()`,
  )) as boolean;
}

async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(artifacts, name);
  await page.screenshot({ path: file as `${string}.png` });
  report(`SCREENSHOT ${file}`);
  return file;
}

// ---- The scenario ----

const dockerfile = path.join(ws, "api", "Dockerfile");
const containerfile = path.join(ws, "worker", "Containerfile");
const manifest = path.join(ws, "deploy", "api.yaml");
const workspaceSettings = path.join(ws, ".vscode", "settings.json");

async function scenario(page: Page): Promise<void> {
  await check("the workbench opens the workspace", async () => {
    await page.goto(url, { waitUntil: "domcontentloaded", timeout: STEP });
    await page.waitForSelector(".monaco-workbench .explorer-folders-view .monaco-list-row", { timeout: STEP });
    await page.waitForFunction(
      `Array.from(document.querySelectorAll(".explorer-folders-view .monaco-list-row")).some((r) => r.getAttribute("aria-label") === "deploy")`,
      { timeout: STEP, polling: "mutation" },
    );
  });

  await check("the Problems panel opens", async () => {
    await command(page, "View: Focus Problems (Errors, Warnings, Infos)");
    await page.waitForSelector(".markers-panel", { visible: true, timeout: STEP });
  });

  // No file is open yet: what the panel lists comes from the workspace scan (the extension
  // activated on workspaceContains, found the server at nonroot.server.path, and the server
  // published the findings of the files it read).
  await check(
    "Problems lists NR103 on api/Dockerfile and NR301 on deploy/api.yaml (related: the Dockerfile's USER line) with no file open",
    async () => {
      const ms = await waitForProblems(
        page,
        "NR103 on the Dockerfile and NR301 on the manifest",
        `(ms) => ms.some((m) => m.file === ${JSON.stringify(dockerfile)} && m.code === "NR103" && m.line === 5 && m.col === 6)
             && ms.some((m) => m.file === ${JSON.stringify(manifest)} && m.code === "NR301" && m.line === 23 && m.col === 18
                  && m.related.some((r) => r.resource === "Dockerfile" && r.line === 5 && r.col === 6))`,
      );
      const nr301 = ms.find((m) => m.code === "NR301")!;
      if (nr301.severity !== "error" || nr301.source !== "nonroot-ls" || !nr301.message.includes("cannot verify user is non-root")) {
        throw new Error(`NR301 is shown as ${JSON.stringify(nr301)}`);
      }
      const nr103 = ms.find((m) => m.code === "NR103")!;
      if (nr103.severity !== "warning") {
        throw new Error(`NR103 is shown as ${JSON.stringify(nr103)}`);
      }
      return describe(ms);
    },
    false,
  );
  await check("screenshot of the Problems panel", async () => path.basename(await screenshot(page, "problems.png")));

  await check("hover on USER in the Dockerfile shows the effective user", async () => {
    await openFile(page, "api/Dockerfile");
    await goTo(page, 5, 2);
    const text = await hoverText(page, 5, "USER", "From here on");
    for (const want of ["USER", "runs as", "app (uid 10001)"]) {
      if (!text.includes(want)) {
        throw new Error(`the hover lacks "${want}":\n${text}`);
      }
    }
    return JSON.stringify(text.split("\n").find((l) => l.includes("From here on")));
  });

  // A file named Containerfile is attached to the client too (the document selector): hover
  // requests only reach the server for documents it selects.
  await check("hover on USER in worker/Containerfile (document selector)", async () => {
    await openFile(page, "worker/Containerfile");
    await goTo(page, 3, 2);
    const text = await hoverText(page, 3, "USER", "From here on");
    if (!text.includes("root")) {
      throw new Error(`the hover does not say root:\n${text}`);
    }
    return containerfile.slice(ws.length + 1);
  });

  const fixed = fs.readFileSync(fixedPath, "utf8");
  const original = fs.readFileSync(manifest, "utf8");
  await check("the preferred quick-fix of NR301 (Auto Fix...) edits deploy/api.yaml as `nonroot-ls fix` does", async () => {
    if (fixed === original) {
      throw new Error("`nonroot-ls fix` leaves deploy/api.yaml unchanged: nothing to compare with");
    }
    await openFile(page, "deploy/api.yaml");
    await goTo(page, 23, 18);
    await command(page, "Auto Fix...");
    // The edit lands in the editor: the tab turns dirty, or VS Code saves it at once (a code
    // action's workspace edit is saved when files.refactoring.autoSave is on, the default).
    await until("the quick-fix to edit the manifest", async () =>
      fs.readFileSync(manifest, "utf8") !== original || (await activeTabDirty(page)),
    );
    await command(page, "File: Save");
    // The file is written while it is read here: wait until it is saved and holds the text
    // `nonroot-ls fix` gives; on the deadline, say what it holds instead.
    let got = "";
    await until("the saved deploy/api.yaml to equal `nonroot-ls fix`'s", async () => {
      got = fs.readFileSync(manifest, "utf8");
      return got === fixed && !(await activeTabDirty(page));
    }, () => `deploy/api.yaml holds:\n${got}\n--- nonroot-ls fix gives:\n${fixed}`);
    const added = got.split("\n").filter((l) => !original.split("\n").includes(l));
    return `added ${JSON.stringify(added)}`;
  });

  await check("after the fix, NR301 is gone from the Problems panel (NR103 stays)", async () => {
    await command(page, "View: Focus Problems (Errors, Warnings, Infos)");
    const ms = await waitForProblems(
      page,
      "NR301 gone",
      `(ms) => !ms.some((m) => m.code === "NR301") && ms.some((m) => m.code === "NR103")`,
    );
    return describe(ms);
  });

  // Settings: NR108 is turned off in the workspace's .vscode/settings.json; VS Code reloads
  // the file, the extension pushes the new section, the server re-diagnoses. No window
  // reload. (code-server does not notice edits of its user settings file made outside the
  // window, so the workspace's settings file it watches is the one edited here.)
  await check("NR108 is listed before the settings change", async () => {
    const ms = await waitForProblems(page, "NR108 on the Dockerfile", `(ms) => ms.some((m) => m.code === "NR108" && m.file === ${JSON.stringify(dockerfile)})`);
    return describe(ms);
  });
  await check('setting "nonroot.rules": {"NR108": "off"} takes effect without reload', async () => {
    fs.mkdirSync(path.dirname(workspaceSettings), { recursive: true });
    fs.writeFileSync(workspaceSettings, JSON.stringify({ "nonroot.rules": { NR108: "off" } }, null, 2) + "\n");
    const ms = await waitForProblems(
      page,
      "NR108 gone after the settings change",
      `(ms) => !ms.some((m) => m.code === "NR108") && ms.some((m) => m.code === "NR103")`,
    );
    return describe(ms);
  });
  await check("screenshot after the fix and the settings change", async () => path.basename(await screenshot(page, "problems-after.png")));
}

async function main(): Promise<void> {
  fs.writeFileSync(resultPath, "");
  const profile = fs.mkdtempSync(path.join(artifacts, "chromium-"));
  let browser: Browser | undefined;
  try {
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      // The network is closed here: without these, Chromium floods refused connections.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-breakpad",
        `--user-data-dir=${profile}`,
      ],
      defaultViewport: { width: 1400, height: 900 },
      protocolTimeout: STEP * 2,
    });
    const page = await browser.newPage();
    page.on("pageerror", (err) => console.log(`page error: ${String(err)}`));
    try {
      await scenario(page);
    } catch (err) {
      if (!(err instanceof Fatal)) {
        failures++;
        report(`FAIL ${err instanceof Error ? err.stack : String(err)}`);
      }
      await screenshot(page, "failure.png").catch(() => undefined);
    }
  } finally {
    await browser?.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  report("DONE");
  process.exitCode = failures > 0 ? 1 : 0;
}

main().catch((err) => {
  report(`FAIL ${err instanceof Error ? err.stack : String(err)}`);
  report("DONE");
  process.exitCode = 1;
});
