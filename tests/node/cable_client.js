// The stock @rails/actioncable consumer in Node, driven by the e2e tests over JSON lines.
//
// Usage: node cable_client.js <ws url> <origin>
// stdin, one command per line:
//   {"cmd":"subscribe","identifier":{"channel":"MessageChannel"}}
//   {"cmd":"perform","action":"auth_request","data":{"token":"..."}}
//   {"cmd":"disconnect"}
// stdout, one event per line:
//   {"event":"socket_opening"}            the consumer opens a WebSocket (first time or reconnect)
//   {"event":"connected","reconnected":b} the subscription is confirmed
//   {"event":"rejected"}
//   {"event":"received","data":...}       a message of the subscription
//   {"event":"disconnected","willAttemptReconnect":b}
//   {"event":"error","message":...}       a command this script could not run
"use strict";

const readline = require("node:readline");
const WebSocket = require("ws");

const [url, origin] = process.argv.slice(2);
if (!url || !origin) {
  process.stderr.write("usage: node cable_client.js <ws url> <origin>\n");
  process.exit(2);
}

function emit(event) {
  process.stdout.write(JSON.stringify(event) + "\n");
}

// What a browser gives Action Cable and Node lacks: the page-visibility hooks of its
// ConnectionMonitor (a page that is always visible) and a WebSocket sending an Origin.
global.document = { visibilityState: "visible", addEventListener() {}, removeEventListener() {} };
global.addEventListener = () => {};
global.removeEventListener = () => {};
class BrowserLikeWebSocket extends WebSocket {
  constructor(address, protocols) {
    emit({ event: "socket_opening" });
    super(address, protocols, { headers: { Origin: origin } });
  }
}
global.WebSocket = BrowserLikeWebSocket;

const ActionCable = require("@rails/actioncable");
ActionCable.adapters.WebSocket = BrowserLikeWebSocket;
ActionCable.logger.enabled = process.env.CABLE_CLIENT_DEBUG === "1";
ActionCable.adapters.logger = { log: (...args) => process.stderr.write(args.join(" ") + "\n") };

const consumer = ActionCable.createConsumer(url);
let subscription = null;

function run(command) {
  switch (command.cmd) {
    case "subscribe":
      subscription = consumer.subscriptions.create(command.identifier, {
        connected(details) {
          emit({ event: "connected", reconnected: Boolean(details && details.reconnected) });
        },
        rejected() {
          emit({ event: "rejected" });
        },
        received(data) {
          emit({ event: "received", data });
        },
        disconnected(details) {
          emit({ event: "disconnected", willAttemptReconnect: Boolean(details && details.willAttemptReconnect) });
        },
      });
      break;
    case "perform":
      if (!subscription) throw new Error("perform before subscribe");
      subscription.perform(command.action, command.data || {});
      break;
    case "disconnect":
      consumer.disconnect();
      break;
    default:
      throw new Error(`unknown command ${command.cmd}`);
  }
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  try {
    run(JSON.parse(line));
  } catch (error) {
    emit({ event: "error", message: String(error) });
  }
});
// The test ends the script by closing stdin (or killing it).
process.stdin.on("end", () => process.exit(0));
