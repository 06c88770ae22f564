// Headless Chromium (Debian's `chromium`) driven by playwright-core, for the e2e tests:
// one browser, named pages each in their own context, commands over JSON lines.
//
// Usage: node browser.js <chromium path> <host rules JSON: {"host": "127.0.0.1:port"}>
// stdin, one command per line, each with an "id"; stdout, one reply per command:
//   {"id":1,"ok":true,"result":...} or {"id":1,"ok":false,"error":"..."}
// Commands (`page` names a page opened by "open"; `within` is an optional CSS selector
// that narrows where the label or role is looked for):
//   {"cmd":"open","page":"a","url":"...","credentials":{"username":"..","password":".."}}
//   {"cmd":"fill","page":"a","label":"Name","value":"Alice"}
//   {"cmd":"select","page":"a","label":"Path","option":"API Gateway"}
//   {"cmd":"click","page":"a","role":"button","name":"Join","within":"tr[data-x]"}
//   {"cmd":"wait_text","page":"a","selector":"#messages","text":"hi","timeout_ms":30000}
//   {"cmd":"reload_until","page":"a","url":"...","selector":"td","text":"1","timeout_ms":30000}
//                                    loads url again until the selector's first match has text
//   {"cmd":"text","page":"a","selector":"#status"}            innerText, or null if absent
//   {"cmd":"count","page":"a","selector":"tr.dead-job"}
//   {"cmd":"goto","page":"a","url":"..."} → the HTTP status
//   {"cmd":"screenshot","page":"a","path":"/abs/file.png"}
//   {"cmd":"console","page":"a"}                                 console lines so far
"use strict";

const readline = require("node:readline");
const { chromium } = require("playwright-core");

const [executablePath, hostRulesJson] = process.argv.slice(2);
const hostRules = Object.entries(JSON.parse(hostRulesJson || "{}"))
  .map(([host, target]) => `MAP ${host} ${target}`)
  .join(", ");

const pages = new Map();
let browser;

async function open({ page: name, url, credentials }) {
  const context = await browser.newContext({
    httpCredentials: credentials,
    viewport: { width: 1100, height: 800 },
  });
  const page = await context.newPage();
  const logs = [];
  page.on("console", (message) => logs.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => logs.push(`pageerror: ${error.message}`));
  pages.set(name, { page, logs });
  const response = await page.goto(url);
  return response ? response.status() : null;
}

function scope(page, within) {
  return within ? page.locator(within) : page;
}

const commands = {
  open,
  async goto({ page, url }) {
    const response = await page.goto(url);
    return response ? response.status() : null;
  },
  async fill({ page, label, value, within }) {
    await scope(page, within).getByLabel(label, { exact: true }).fill(value);
  },
  async select({ page, label, option, within }) {
    await scope(page, within).getByLabel(label, { exact: true }).selectOption({ label: option });
  },
  async click({ page, role, name, within }) {
    await scope(page, within).getByRole(role, { name, exact: true }).click();
  },
  async wait_text({ page, selector, text, timeout_ms }) {
    await page.locator(selector).filter({ hasText: text }).first().waitFor({ timeout: timeout_ms || 30000 });
  },
  async reload_until({ page, url, selector, text, timeout_ms }) {
    const deadline = Date.now() + (timeout_ms || 30000);
    for (;;) {
      await page.goto(url);
      const found = page.locator(selector).first();
      const shown = (await found.count()) ? (await found.innerText()).trim() : null;
      if (shown === text) return shown;
      if (Date.now() > deadline) throw new Error(`${selector} shows ${shown}, not ${text}`);
      await page.waitForTimeout(250);
    }
  },
  async text({ page, selector }) {
    const found = page.locator(selector);
    return (await found.count()) ? await found.first().innerText() : null;
  },
  async count({ page, selector }) {
    return page.locator(selector).count();
  },
  async screenshot({ page, path }) {
    await page.screenshot({ path, fullPage: true });
    return path;
  },
  async console({ logs }) {
    return logs;
  },
};

async function run(command) {
  const handler = commands[command.cmd];
  if (!handler) throw new Error(`unknown command ${command.cmd}`);
  if (command.cmd === "open") return handler(command);
  const entry = pages.get(command.page);
  if (!entry) throw new Error(`no page named ${command.page}`);
  return handler({ ...command, page: entry.page, logs: entry.logs });
}

(async () => {
  browser = await chromium.launch({
    executablePath,
    args: hostRules ? [`--host-resolver-rules=${hostRules}`] : [],
  });
  process.stdout.write(JSON.stringify({ ready: true }) + "\n");
  const lines = readline.createInterface({ input: process.stdin });
  let queue = Promise.resolve();
  lines.on("line", (line) => {
    queue = queue.then(async () => {
      let command;
      try {
        command = JSON.parse(line);
        const result = await run(command);
        process.stdout.write(JSON.stringify({ id: command.id, ok: true, result: result ?? null }) + "\n");
      } catch (error) {
        const id = command ? command.id : null;
        process.stdout.write(JSON.stringify({ id, ok: false, error: String(error && error.stack || error) }) + "\n");
      }
    });
  });
  lines.on("close", () => queue.then(() => browser.close()).then(() => process.exit(0)));
})().catch((error) => {
  process.stdout.write(JSON.stringify({ ready: false, error: String(error && error.stack || error) }) + "\n");
  process.exit(1);
});
