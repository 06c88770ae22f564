// The demo page's client: joins through API Gateway (a plain WebSocket to the gateway,
// frames are `{"method": ..}`) or Action Cable (protocol actioncable-v1-json to web's
// /cable, frames wrapped in `{"command": "message", ..}`), and shows every message once.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const config = document.body.dataset;
  const IDENTIFIER = JSON.stringify({ channel: "MessageChannel" });
  const shown = new Set();
  let session = null;

  function status(text, isError) {
    $("status").textContent = text;
    $("status").className = isError ? "error" : "";
  }

  // API Gateway: every frame carries the method and the token.
  function gateway(token, onData, onClosed) {
    const socket = new WebSocket(config.gatewayUrl);
    socket.onopen = () => perform("auth_request", {});
    socket.onmessage = (event) => onData(JSON.parse(event.data));
    socket.onclose = onClosed;
    function perform(action, fields) {
      socket.send(JSON.stringify({ ...fields, method: action, token }));
    }
    return { perform, close: () => { socket.onclose = null; socket.close(); } };
  }

  // Action Cable: subscribe to MessageChannel once welcomed, authenticate once confirmed.
  function cable(token, onData, onClosed) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}${config.cablePath}`, [
      "actioncable-v1-json",
    ]);
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "welcome") {
        socket.send(JSON.stringify({ command: "subscribe", identifier: IDENTIFIER }));
      } else if (frame.type === "confirm_subscription") {
        perform("auth_request", {});
      } else if (frame.type === "reject_subscription") {
        status("Action Cable refused the subscription.", true);
      } else if (frame.type === "disconnect") {
        status(`Disconnected by the server (${frame.reason || "no reason"}).`, true);
      } else if (frame.message !== undefined) {
        onData(frame.message);
      }
    };
    socket.onclose = onClosed;
    function perform(action, fields) {
      const data = JSON.stringify({ ...fields, action, token });
      socket.send(JSON.stringify({ command: "message", identifier: IDENTIFIER, data }));
    }
    return { perform, close: () => { socket.onclose = null; socket.close(); } };
  }

  function show(messages) {
    for (const message of messages || []) {
      if (shown.has(message.id)) continue;
      shown.add(message.id);
      const item = document.createElement("li");
      item.dataset.id = message.id;
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = message.user ? message.user.name : "?";
      const body = document.createElement("span");
      body.className = "body";
      body.textContent = message.body;
      const when = document.createElement("span");
      when.className = "when";
      when.textContent = message.created_at_i18n || "";
      item.append(who, body, when);
      const later = [...$("messages").children].find((li) => Number(li.dataset.id) > message.id);
      $("messages").insertBefore(item, later || null);
    }
  }

  function received(data, pathLabel, name) {
    if (data.action === "auth_result") {
      if (!data.success) return status(`Refused: ${data.alert}`, true);
      status(`Joined as ${name} via ${pathLabel}.`);
      $("chat").hidden = false;
      $("message").focus();
      session.perform("get_messages", { limit: 20 });
    } else if (data.action === "get_messages" || data.action === "send_message") {
      if (data.success === false) return status(data.alert, true);
      show(data.messages);
    } else if (data.action === "send_result" && !data.success) {
      status(`Not sent: ${data.alert}`, true);
    }
  }

  $("join-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = $("name").value;
    const pathLabel = $("path").selectedOptions[0].textContent;
    status(`Joining as ${name}…`);
    const joinUrl = location.pathname.replace(/\/?$/, "/join");
    const response = await fetch(joinUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name }),
    }).catch(() => null);
    const reply = response && (await response.json().catch(() => null));
    if (!response || !response.ok || !reply) {
      return status(`Could not join: ${(reply && reply.alert) || "web is unreachable"}`, true);
    }
    if (session) session.close();
    const connect = $("path").value === "action_cable" ? cable : gateway;
    const onClosed = () => status(`Connection via ${pathLabel} closed.`, true);
    session = connect(reply.token, (data) => received(data, pathLabel, reply.name), onClosed);
  });

  $("send-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!session) return;
    session.perform("send_message", { channel: "all_channel", body: $("message").value });
    $("message").value = "";
  });
})();
