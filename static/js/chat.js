// Glue that the server, htmx and CSS cannot do. No inline handlers: a strict CSP holds.
// The server renders every fragment (runs of one author and day separators included);
// this keeps the list whole and in id order, the draft, the scroll and the read mark.
(function () {
  "use strict";

  var NEAR_BOTTOM_PX = 80;
  var RECONNECTING_CODES = [1006, 1011, 1012, 1013]; // the ws extension reconnects after these
  var socket = null; // the open socket's wrapper, for read marks
  var socketWasOpen = false;
  var pendingSend = null; // the last message sent and not yet answered
  var followNewest = false;
  var lastReadSent = 0;
  var readTimer = null;

  function list() {
    return document.getElementById("messages");
  }

  function shownMessages() {
    return Array.from(list().querySelectorAll(":scope > .message[data-id]"));
  }

  function reachesNewest() {
    return !list().querySelector(":scope > .history-after");
  }

  function atBottom() {
    var messages = list();
    return messages.scrollHeight - messages.scrollTop - messages.clientHeight < NEAR_BOTTOM_PX;
  }

  function scrollToNewest() {
    list().scrollTop = list().scrollHeight;
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
    if (inOrder || !reachesNewest()) return;
    messages.sort(function (a, b) {
      return a.dataset.id - b.dataset.id;
    });
    messages.forEach(function (message) {
      list().appendChild(message);
    });
  }

  // "Jump to newest" shows while the reader is away from it, and reads "New messages"
  // once one arrived meanwhile.
  function updateJump(fresh) {
    var jump = document.querySelector(".jump-newest");
    if (!jump) return;
    jump.hidden = reachesNewest() && atBottom();
    if (jump.hidden) delete jump.dataset.fresh;
    else if (fresh) jump.dataset.fresh = "";
  }

  // Postgres is the record: after a reconnect, a missed frame or a layer outage, fetch
  // what came after the messages shown (from `fromId`, else from 20 back: ids are taken
  // before commit, so the last frames may have overtaken a lower id) and the changes since.
  function catchUp(fromId) {
    var room = document.getElementById("room");
    var sync = document.getElementById("sync-state");
    if (!list() || !room || !sync || !reachesNewest()) return;
    var shown = shownMessages();
    var from = fromId !== undefined ? fromId : shown.length ? shown[Math.max(0, shown.length - 20)].dataset.id : 0;
    var query = "?after=" + from + "&changed_since=" + encodeURIComponent(sync.dataset.syncedAt);
    htmx.ajax("GET", "/rooms/" + room.dataset.room + "/messages/" + query, { target: list(), swap: "beforeend" });
  }

  function newestId() {
    var shown = shownMessages();
    return shown.length ? Number(shown[shown.length - 1].dataset.id) : 0;
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
    if (readTimer || !socket) return;
    readTimer = setTimeout(function () {
      readTimer = null;
      var newest = newestId();
      if (newest > lastReadSent && document.visibilityState === "visible" && reachesNewest() && atBottom()) {
        lastReadSent = newest;
        socket.send(JSON.stringify({ action: "read", message_id: newest }));
      }
    }, 1000);
  }

  document.addEventListener("htmx:wsOpen", function (event) {
    socket = event.detail.socketWrapper;
    event.target.dataset.socket = "open"; // chat.css shows the reconnect banner otherwise
    if (socketWasOpen) catchUp();
    if (socketWasOpen && pendingSend) socket.send(pendingSend);
    socketWasOpen = true;
  });

  document.addEventListener("htmx:wsClose", function (event) {
    event.target.dataset.socket = "closed";
    if (RECONNECTING_CODES.indexOf(event.detail.event.code) !== -1) return;
    var queued = event.detail.socketWrapper.queue.splice(0).map(function (item) {
      return item.message;
    });
    if (pendingSend) queued.unshift(pendingSend);
    pendingSend = null;
    queued.forEach(postInstead);
  });

  // The composer empties on send, with a new client id; the draft comes back if refused.
  document.addEventListener("htmx:wsAfterSend", function (event) {
    var form = event.target;
    if (form.id !== "composer") return;
    pendingSend = event.detail.message;
    form.dataset.draft = form.elements.body.value;
    form.elements.body.value = ""; // not form.reset(): that brings back the page's own draft
    form.elements.client_id.value = newClientId();
    form.elements.body.focus({ preventScroll: true }); // also after a click on Send
    scrollToNewest();
  });

  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    var frame = event.detail.message;
    var own = frame.indexOf("beforeend:#messages") !== -1 && frame.indexOf('data-author="' + document.body.dataset.user + '"') !== -1;
    followNewest = !!list() && reachesNewest() && (atBottom() || own);
  });

  document.addEventListener("htmx:wsAfterMessage", function (event) {
    var frame = event.detail.message;
    var form = document.getElementById("composer");
    if (form && frame.indexOf('id="composer-errors"') !== -1) {
      pendingSend = null;
      var refused = document.getElementById("composer-errors").textContent.trim();
      if (refused && form.dataset.draft && !form.elements.body.value) form.elements.body.value = form.dataset.draft;
      delete form.dataset.draft;
    }
    if (!list()) return;
    tidyList();
    if (followNewest) scrollToNewest();
    updateJump(frame.indexOf("beforeend:#messages") !== -1);
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

  // Pages of history and catch-ups (htmx): the sentinel at the top loads older messages
  // in its place, and the reader's view stays where it was.
  var keptPlace = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var sentinel = event.detail.elt;
    if (!sentinel.matches || !sentinel.matches(".history-before") || !sentinel.nextElementSibling) return;
    keptPlace = { node: sentinel.nextElementSibling, top: sentinel.nextElementSibling.getBoundingClientRect().top };
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (!list()) return;
    if (event.target.id === "room") scrollToNewest(); // joined or left: a new list
    tidyList();
    if (keptPlace) list().scrollTop += keptPlace.node.getBoundingClientRect().top - keptPlace.top;
    keptPlace = null;
    updateJump(false);
  });

  document.addEventListener("scroll", function (event) {
    if (event.target === list()) updateJump(false);
  }, true);

  document.addEventListener("visibilitychange", sendReadSoon);

  // Jump to newest: scroll down when the list reaches it; else the link reloads the room.
  document.addEventListener("click", function (event) {
    if (!list() || !event.target.closest || !event.target.closest(".jump-newest") || !reachesNewest()) return;
    event.preventDefault();
    scrollToNewest();
    document.getElementById("composer-body").focus({ preventScroll: true });
  });

  // Enter sends, Shift+Enter starts a new line.
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (field.id !== "composer-body" || event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (field.value.trim()) field.form.requestSubmit();
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (!list()) return;
    var highlighted = list().querySelector(":scope > .message.highlighted"); // a search result
    if (highlighted) highlighted.scrollIntoView({ block: "center" });
    else scrollToNewest();
    updateJump(false);
  });
})();
