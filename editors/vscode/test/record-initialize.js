// Records the `initialize` params VS Code's language client (vscode-languageclient, the
// version in package.json) sends, by running the client's own computeClientCapabilities and
// initialize-params code outside VS Code with a stand-in `vscode` module that answers every
// property with an inert value. The client-capabilities object is the client library's own
// (VS Code adds nothing to it); clientInfo is VS Code's. Usage:
//
//   node test/record-initialize.js > test/testdata/vscode-initialize.json
"use strict";
const Module = require("node:module");

function inert(name) {
  const fn = function () {
    return inert(name + "()");
  };
  return new Proxy(fn, {
    get(_t, prop) {
      if (prop === "then") {
        return undefined; // not a thenable
      }
      if (prop === Symbol.toPrimitive) {
        return () => name;
      }
      if (prop === Symbol.iterator) {
        return function* () {};
      }
      return inert(name + "." + String(prop));
    },
    construct() {
      return inert("new " + name);
    },
  });
}
const vscodeStub = new Proxy(
  { version: "1.95.0", env: { appName: "Visual Studio Code", language: "en" } },
  {
    get(t, prop) {
      return prop in t ? t[prop] : inert("vscode." + String(prop));
    },
  },
);
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === "vscode" ? vscodeStub : load.call(this, request, ...rest);
};

const { LanguageClient } = require("vscode-languageclient/node");
const client = new LanguageClient(
  "nonroot",
  "nonroot-ls",
  { command: "nonroot-ls", args: ["serve"] },
  { documentSelector: [{ language: "dockerfile" }] },
);
const capabilities = client.computeClientCapabilities();
const params = {
  processId: null,
  clientInfo: { name: "Visual Studio Code", version: "1.95.0" },
  locale: "en",
  rootPath: null,
  rootUri: null,
  capabilities,
  initializationOptions: {},
  trace: "off",
  workspaceFolders: null,
};
const pkg = require("vscode-languageclient/package.json");
process.stdout.write(
  JSON.stringify(
    {
      _recorded: `vscode-languageclient ${pkg.version} computeClientCapabilities(); rootPath, rootUri, workspaceFolders and processId are set per test`,
      ...params,
    },
    null,
    2,
  ) + "\n",
);
