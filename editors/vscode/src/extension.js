// The Deluge extension: grammar, snippets and language configuration come from
// package.json; this file starts sluicegate's language server (`sluice lsp`) over stdio
// for .dg files, with the command configured in `deluge.server.command`.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const configured = vscode.workspace.getConfiguration("deluge").get("server.command");
  const [command, ...args] = configured && configured.length ? configured : ["sluice", "lsp"];
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient(
    "deluge",
    "Deluge (sluicegate)",
    { run: server, debug: server },
    { documentSelector: [{ language: "deluge" }] }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start().catch((error) => {
    vscode.window.showErrorMessage(
      `Deluge: could not start "${[command, ...args].join(" ")}" (${error.message}). ` +
        "Install sluicegate (pip install sluicegate) or set deluge.server.command."
    );
  });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
