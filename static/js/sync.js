// Delivery glue that htmx cannot do (issues 3 and 5): the list keeps each message once and
// in id order, a reconnect or a missed frame fetches what the page lacks from Postgres, a
// send is retried with its client id until answered, and reading the newest marks the room
// read. No inline handlers: a strict CSP holds. ui.js, loaded after, does the interface.
(function () {
  "use strict";

  var NEAR_BOTTOM_PX = 80;
  var RECONNECTING_CODES = [1006, 1011, 1012, 1013]; // the ws extension reconnects after these
  var socket = null; // the open socket's wrapper, for read marks
  var socketWasOpen = false;
  var pendingSend = null; // the last message sent and not yet answered
  var lastReadSent = 0;
  var readTimer = null;

  // The message list, shared with ui.js.
  var chat = (window.chat = {
    list: function () {
      return document.getElementById("messages");
    },
    reachesNewest: function () {
      return !chat.list().querySelector(":scope > .history-after");
    },
    atBottom: function () {
      var messages = chat.list();
      return messages.scrollHeight - messages.scrollTop - messages.clientHeight < NEAR_BOTTOM_PX;
    },
  });

  function shownMessages() {
    return Array.from(chat.list().querySelectorAll(":scope > .message[data-id]"));
  }

  function newestId() {
    var shown = shownMessages();
    return shown.length ? Number(shown[shown.length - 1].dataset.id) : 0;
  }

  // Frames from several server processes may arrive out of order and a catch-up may
  // repeat one: keep each message once (the first), in id order.
  function tidyList() {
    var seen = new Set();
    var messages = shownMessages().filter(function (message) {
      if (!seen.has(message.dataset.id)) return seen.add(message.dataset.id);
      message.remove();
    });
    var inOrder = messages.every(function (message, i) {
      return i === 0 || Number(messages[i - 1].dataset.id) < Number(message.dataset.id);
    });
    if (inOrder || !chat.reachesNewest()) return;
    messages.sort(function (a, b) {
      return a.dataset.id - b.dataset.id;
    });
    messages.forEach(function (message) {
      chat.list().appendChild(message);
    });
  }

  // Postgres is the record: after a reconnect, a missed frame or a layer outage, fetch
  // what came after the messages shown (from `fromId`, else from 20 back: ids are taken
  // before commit, so the last frames may have overtaken a lower id) and the changes since.
  function catchUp(fromId) {
    var room = document.getElementById("room");
    var sync = document.getElementById("sync-state");
    if (!chat.list() || !room || !sync || !chat.reachesNewest()) return;
    var shown = shownMessages();
    var from = fromId !== undefined ? fromId : shown.length ? shown[Math.max(0, shown.length - 20)].dataset.id : 0;
    var query = "?after=" + from + "&changed_since=" + encodeURIComponent(sync.dataset.syncedAt);
    htmx.ajax("GET", "/rooms/" + room.dataset.room + "/messages/" + query, { target: chat.list(), swap: "beforeend" });
  }

  // A send the socket can no longer carry (it closed for good) goes by POST; the client
  // id makes a send that did reach the server count once.
  function postInstead(frame) {
    var form = document.getElementById("composer");
    var data = JSON.parse(frame);
    if (!form || !data.body) return;
    var body = new FormData();
    body.append("body", data.body);
    body.append("client_id", data.client_id || "");
    fetch(form.action, { method: "POST", body: body, headers: { "X-CSRFToken": form.elements.csrfmiddlewaretoken.value } });
  }

  function newClientId() {
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }

  // Reading the newest messages in a visible tab marks the room read, at most once a second.
  function sendReadSoon() {
    if (readTimer || !socket || !chat.list()) return;
    readTimer = setTimeout(function () {
      readTimer = null;
      if (!chat.list()) return; // the room went meanwhile (a ban)
      var newest = newestId();
      if (newest > lastReadSent && document.visibilityState === "visible" && chat.reachesNewest() && chat.atBottom()) {
        lastReadSent = newest;
        socket.send(JSON.stringify({ action: "read", message_id: newest }));
      }
    }, 1000);
  }

  // The room's own socket only (on #room), not a banned page's (#ban-watch, ban_watch.py).
  document.addEventListener("htmx:wsOpen", function (event) {
    if (event.target.id !== "room") return; // nor the user's own socket (user_consumers.py)
    socket = event.detail.socketWrapper;
    if (socketWasOpen) catchUp();
    if (socketWasOpen && pendingSend) socket.send(pendingSend);
    socketWasOpen = true;
  });

  document.addEventListener("htmx:wsClose", function (event) {
    if (event.target.id !== "room") return;
    if (RECONNECTING_CODES.indexOf(event.detail.event.code) !== -1) return;
    var queued = event.detail.socketWrapper.queue.splice(0).map(function (item) {
      return item.message;
    });
    if (pendingSend) queued.unshift(pendingSend);
    pendingSend = null;
    queued.forEach(postInstead);
  });

  document.addEventListener("htmx:wsAfterSend", function (event) {
    if (event.target.id !== "composer") return;
    pendingSend = event.detail.message;
    event.target.elements.client_id.value = newClientId();
  });

  document.addEventListener("htmx:wsAfterMessage", function (event) {
    if (event.detail.message.indexOf('id="composer-errors"') !== -1) pendingSend = null; // answered
    if (!chat.list()) return;
    tidyList();
    sendReadSoon();
  });

  // A message whose predecessor this page lacks means a missed frame.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    if (event.detail.target.id !== "messages") return;
    var incoming = event.detail.fragment.querySelector(".message[data-prev]");
    var prev = incoming && Number(incoming.dataset.prev);
    if (prev && !document.getElementById("message-" + prev) && newestId() < prev) setTimeout(catchUp, 0, newestId());
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target.id === "catch-up") catchUp(); // the server's layer recovered
  });

  document.addEventListener("htmx:afterSwap", function () {
    if (chat.list()) tidyList();
  });

  document.addEventListener("visibilitychange", sendReadSoon);

  // Pages with no room socket of their own (the home page, a public room only read) still
  // follow the user's rooms: an element [data-user-socket="/ws/..."] gets the ws extension's
  // socket (messages_app/user_consumers.py), now and whenever htmx swaps one in (a leave).
  // A room's own socket (ws-connect in room_main.html) stays for its members only.
  htmx.onLoad(function (content) {
    var found = content.matches && content.matches("[data-user-socket]") ? [content] : [];
    if (content.querySelectorAll) found = found.concat(Array.from(content.querySelectorAll("[data-user-socket]")));
    found.forEach(function (element) {
      if (element.hasAttribute("ws-connect")) return;
      element.setAttribute("hx-ext", "ws");
      element.setAttribute("ws-connect", element.dataset.userSocket);
      htmx.process(element);
    });
  });

  // Answering an invitation takes its buttons away (and the socket redraws the lists): the
  // keyboard's place moves to the lists' heading, which no swap replaces.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!event.target.closest || !event.target.closest(".invitation-notice")) return;
    var heading = document.querySelector("#my-rooms-title, .sidebar-title");
    if (!heading) return;
    heading.tabIndex = -1;
    heading.focus();
  });
})();
