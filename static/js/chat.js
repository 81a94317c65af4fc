// A few lines of glue around htmx and its ws extension. No inline handlers:
// everything is wired here so a strict Content Security Policy stays possible.
(function () {
  "use strict";

  function messageList() {
    return document.getElementById("messages");
  }

  function scrollToNewest() {
    var list = messageList();
    if (list) list.scrollTop = list.scrollHeight;
  }

  // Frames from several server processes can arrive out of order, and a
  // catch-up can repeat one: keep each message once, in id order.
  function placeNewestMessage(list) {
    var node = list.lastElementChild;
    if (!node || !node.dataset.id) return;
    var id = Number(node.dataset.id);
    var twins = list.querySelectorAll('[data-id="' + id + '"]');
    if (twins.length > 1) {
      node.remove();
      return;
    }
    var before = node.previousElementSibling;
    while (before && Number(before.dataset.id) > id) before = before.previousElementSibling;
    if (before !== node.previousElementSibling) {
      list.insertBefore(node, before ? before.nextElementSibling : list.firstElementChild);
    }
  }

  function composerOf(room) {
    return room.querySelector("#composer");
  }

  // The server answers each send with the composer's error box: empty when the
  // message was saved, else the reason, and then the draft comes back.
  function settleDraft(form) {
    var refused = document.getElementById("composer-errors").textContent.trim();
    if (refused && form.dataset.draft && !form.elements.body.value) {
      form.elements.body.value = form.dataset.draft;
    }
    delete form.dataset.draft;
  }

  document.addEventListener("htmx:wsOpen", function (event) {
    event.target.dataset.socket = "open";
  });
  document.addEventListener("htmx:wsClose", function (event) {
    event.target.dataset.socket = "closed";
  });

  // The ws extension does not clear the form; keep the draft until the server
  // has answered, so a refused message can be put back.
  document.addEventListener("htmx:wsAfterSend", function (event) {
    var form = event.target;
    if (form.id !== "composer") return;
    form.dataset.draft = form.elements.body.value;
    // Not form.reset(): that would bring back a draft the page was rendered with.
    form.elements.body.value = "";
    form.elements.body.focus({ preventScroll: true }); // also after a click on Send
  });

  document.addEventListener("htmx:wsAfterMessage", function (event) {
    var list = messageList();
    if (list) placeNewestMessage(list);
    var form = composerOf(event.target);
    if (form && event.detail.message.indexOf('id="composer-errors"') !== -1) settleDraft(form);
    if (list) refreshList();
    if (followNewest) scrollToNewest();
    else markNewMessagesBelow(event.detail.message);
  });

  // Enter sends, Shift+Enter starts a new line.
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (field.id !== "composer-body" || event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (field.value.trim()) field.form.requestSubmit();
  });

  // Reading live messages while the tab is visible and scrolled to the newest
  // marks the room read, at most once a second; every tab of the user follows.
  var socket = null;
  var readTimer = null;
  var lastReadSent = 0;

  function newestMessageId() {
    var list = messageList();
    var last = list && list.querySelector(".message[data-id]:last-of-type");
    return last ? Number(last.dataset.id) : 0;
  }

  function isReadingNewest() {
    var list = messageList();
    if (!list || document.visibilityState !== "visible" || !reachesNewest(list)) return false;
    return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  }

  function sendReadSoon() {
    if (readTimer || !socket) return;
    readTimer = setTimeout(function () {
      readTimer = null;
      var newest = newestMessageId();
      if (newest > lastReadSent && isReadingNewest()) {
        lastReadSent = newest;
        socket.send(JSON.stringify({ action: "read", message_id: newest }));
      }
    }, 1000);
  }

  document.addEventListener("htmx:wsOpen", function (event) {
    socket = event.detail.socketWrapper;
  });
  document.addEventListener("htmx:wsAfterMessage", sendReadSoon);
  document.addEventListener("visibilitychange", sendReadSoon);

  // Presence: the #presence roster (who has the room open) comes from several
  // server processes, possibly out of order: the newest data-version wins, and the
  // member list is marked from it, also after the list itself is replaced.
  // Typing: "bob is typing…" arrives as one line shared by the whole room. The
  // typist's own page drops it, a newer line replaces an older one of the same
  // person, and a line goes after a few seconds or when that person's message arrives.
  var TYPING_SEND_EVERY_MS = 3000;
  var TYPING_SHOWN_MS = 6000;
  var lastTypingSent = 0;

  function markPresentMembers() {
    var roster = document.getElementById("presence");
    var members = document.getElementById("members");
    if (!roster || !members) return;
    var here = roster.dataset.present.split(" ");
    members.querySelectorAll("li[data-user]").forEach(function (member) {
      var present = here.indexOf(member.dataset.user) !== -1;
      member.classList.toggle("present", present);
      var note = member.querySelector(".here-now");
      if (note) note.hidden = !present;
    });
  }

  function removeTypingLinesOf(userId) {
    document.querySelectorAll('#typing [data-user="' + userId + '"]').forEach(function (line) {
      line.remove();
    });
  }

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    var fragment = event.detail.fragment;
    if (target.id === "presence") {
      var incoming = fragment.querySelector("#presence");
      if (incoming && Number(incoming.dataset.version) < Number(target.dataset.version)) {
        event.detail.shouldSwap = false;
      }
    } else if (target.id === "typing") {
      var line = fragment.querySelector("[data-user]");
      if (!line) return;
      if (line.dataset.user === document.body.dataset.user) event.detail.shouldSwap = false;
      else removeTypingLinesOf(line.dataset.user);
    } else if (target.id === "messages") {
      fragment.querySelectorAll(".message[data-author]").forEach(function (message) {
        removeTypingLinesOf(message.dataset.author);
      });
    }
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail.target;
    if (target.id === "presence" || target.id === "members") markPresentMembers();
    if (target.id !== "typing") return;
    target.querySelectorAll("[data-user]:not([data-shown])").forEach(function (line) {
      line.dataset.shown = "true";
      setTimeout(function () {
        line.remove();
      }, TYPING_SHOWN_MS);
    });
  });

  // A member list or room swapped in over HTTP (moderation, join) may be older than the roster.
  document.addEventListener("htmx:afterSwap", markPresentMembers);

  document.addEventListener("input", function (event) {
    if (event.target.id !== "composer-body" || !socket || !event.target.value.trim()) return;
    var now = Date.now();
    if (now - lastTypingSent < TYPING_SEND_EVERY_MS) return;
    lastTypingSent = now;
    socket.send(JSON.stringify({ action: "typing" }));
  });

  // History. Sentinels load the next page in their place when scrolled into view
  // (htmx): .history-before at the top of #messages (older), .history-after at the
  // bottom when the list does not reach the newest message yet (?around=). Live
  // messages that arrive meanwhile go after .history-after and stay hidden (chat.css)
  // until the pages in between are in, so the list never shows a gap.
  var NEAR_BOTTOM_PX = 80;
  var followNewest = false;
  var keptPlace = null;
  var refreshQueued = false;

  function isNearBottom(list) {
    return list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_BOTTOM_PX;
  }

  function reachesNewest(list) {
    return !list.querySelector(":scope > .history-after");
  }

  function isOwnNewMessage(frame) {
    var me = document.body.dataset.user;
    return !!me && frame.indexOf("beforeend:#messages") !== -1 && frame.indexOf('data-author="' + me + '"') !== -1;
  }

  // A page loaded below can repeat a live message that arrived meanwhile: keep the first.
  function removeRepeatedMessages(list) {
    var seen = {};
    list.querySelectorAll(":scope > .message[data-id]").forEach(function (message) {
      if (seen[message.dataset.id]) message.remove();
      else seen[message.dataset.id] = true;
    });
  }

  // Every message carries its day's separator; only the first message of a day
  // shows it, however the list was put together (pages above and below, live ones).
  function markDayStarts(list) {
    var previousDay = null;
    list.querySelectorAll(":scope > .message[data-day]").forEach(function (message) {
      message.toggleAttribute("data-day-start", message.dataset.day !== previousDay);
      previousDay = message.dataset.day;
    });
  }

  function updateJumpControl(list) {
    var jump = document.querySelector(".jump-newest");
    if (!jump) return;
    jump.hidden = reachesNewest(list) && isNearBottom(list);
    if (jump.hidden) delete jump.dataset.fresh; // back at the newest: nothing new below
  }

  // A message arrived below while the reader is up in the history: "New messages ↓".
  function markNewMessagesBelow(frame) {
    var jump = document.querySelector(".jump-newest");
    if (jump && frame.indexOf("beforeend:#messages") !== -1) jump.dataset.fresh = "";
  }

  function refreshList() {
    refreshQueued = false;
    var list = messageList();
    if (!list) return;
    removeRepeatedMessages(list);
    sortMessages(list);
    markDayStarts(list);
    // ui.js groups runs of messages and dates them: heights change, so before the place is kept.
    list.dispatchEvent(new CustomEvent("chat:listchange", { bubbles: true }));
    if (keptPlace && keptPlace.node.isConnected) {
      list.scrollTop += keptPlace.node.getBoundingClientRect().top - keptPlace.top;
    }
    keptPlace = null;
    updateJumpControl(list);
  }

  // After a swap and all its events (one microtask for the many afterSwap events).
  function refreshListSoon() {
    if (refreshQueued) return;
    refreshQueued = true;
    queueMicrotask(refreshList);
  }

  function showFirstView() {
    var highlighted = document.querySelector("#messages > .message.highlighted");
    if (highlighted) highlighted.scrollIntoView({ block: "center" });
    else scrollToNewest();
    refreshList();
  }

  // An older page goes in above what the reader sees: keep that where it is.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var sentinel = event.detail.elt;
    if (!sentinel.classList || !sentinel.classList.contains("history-before")) return;
    var anchor = sentinel.nextElementSibling;
    if (anchor) keptPlace = { node: anchor, top: anchor.getBoundingClientRect().top };
    refreshListSoon();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id === "room") scrollToNewest(); // joined or left: a new list
    refreshListSoon();
  });
  document.addEventListener("htmx:oobAfterSwap", refreshListSoon);

  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    var list = messageList();
    followNewest = !!list && reachesNewest(list) && (isNearBottom(list) || isOwnNewMessage(event.detail.message));
  });

  document.addEventListener(
    "scroll",
    function (event) {
      if (event.target === messageList()) updateJumpControl(event.target);
    },
    true
  );

  // Jump to newest: scroll down when the list reaches it; else the link reloads the room.
  document.addEventListener("click", function (event) {
    var list = messageList();
    if (!list || !event.target.closest || !event.target.closest(".jump-newest") || !reachesNewest(list)) return;
    event.preventDefault();
    scrollToNewest();
    var field = document.getElementById("composer-body");
    if (field) field.focus({ preventScroll: true });
  });

  // Nothing lost. Postgres is the record and ids the order: after a reconnect, or
  // when a message arrives whose predecessor this page lacks, fetch what came after
  // the last messages shown plus the edits and deletions since the page last synced.
  // Each send carries a client id, so resending one that may have reached the
  // server cannot post it twice; a send the socket can no longer carry is POSTed.
  var RECONNECTING_CODES = [1006, 1011, 1012, 1013];
  var socketWasOpen = false;
  var pendingSend = null;

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var hex = Array.from(crypto.getRandomValues(new Uint8Array(16)), function (byte) {
      return byte.toString(16).padStart(2, "0");
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), "4" + hex.slice(13, 16), "8" + hex.slice(17, 20), hex.slice(20)].join("-");
  }

  // From `fromId`, or else from a few messages back: ids are assigned before commit,
  // so the last frames before a drop may have overtaken a message with a lower id.
  function catchUp(fromId) {
    var list = messageList();
    var room = document.getElementById("room");
    var sync = document.getElementById("sync-state");
    if (!list || !room || !sync || !reachesNewest(list)) return;
    var shown = list.querySelectorAll(":scope > .message[data-id]");
    var from = fromId !== undefined ? fromId : shown.length ? shown[Math.max(0, shown.length - 20)].dataset.id : 0;
    var query = "?after=" + from + "&changed_since=" + encodeURIComponent(sync.dataset.syncedAt);
    htmx.ajax("GET", "/rooms/" + room.dataset.room + "/messages/" + query, { target: list, swap: "beforeend" });
  }

  function sortMessages(list) {
    var messages = Array.from(list.querySelectorAll(":scope > .message[data-id]"));
    var sorted = messages.every(function (message, i) {
      return i === 0 || Number(messages[i - 1].dataset.id) < Number(message.dataset.id);
    });
    if (sorted || !reachesNewest(list)) return;
    messages.sort(function (a, b) {
      return a.dataset.id - b.dataset.id;
    });
    messages.forEach(function (message) {
      list.appendChild(message);
    });
  }

  function postInstead(frame) {
    var form = document.getElementById("composer");
    var data = JSON.parse(frame);
    if (!form || !data.body) return;
    var body = new FormData();
    body.append("body", data.body);
    body.append("client_id", data.client_id || "");
    fetch(form.action, { method: "POST", body: body, headers: { "X-CSRFToken": form.elements.csrfmiddlewaretoken.value } });
  }

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    if (event.detail.target.id !== "messages") return;
    var incoming = event.detail.fragment.querySelector(".message[data-prev]");
    var prev = incoming && Number(incoming.dataset.prev);
    var newest = newestMessageId();
    if (prev && !document.getElementById("message-" + prev) && newest < prev) setTimeout(catchUp, 0, newest);
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target.id === "catch-up") catchUp();
  });

  document.addEventListener("htmx:wsOpen", function (event) {
    if (socketWasOpen) catchUp();
    if (socketWasOpen && pendingSend) event.detail.socketWrapper.send(pendingSend);
    socketWasOpen = true;
  });

  document.addEventListener("htmx:wsAfterSend", function (event) {
    var form = event.target;
    if (form.id !== "composer") return;
    pendingSend = event.detail.message;
    form.elements.client_id.value = newClientId();
  });

  document.addEventListener("htmx:wsAfterMessage", function (event) {
    if (event.detail.message.indexOf('id="composer-errors"') !== -1) pendingSend = null;
  });

  document.addEventListener("htmx:wsClose", function (event) {
    if (RECONNECTING_CODES.indexOf(event.detail.event.code) !== -1) return;
    var queued = event.detail.socketWrapper.queue.splice(0).map(function (item) {
      return item.message;
    });
    if (pendingSend) queued.unshift(pendingSend);
    pendingSend = null;
    queued.forEach(postInstead);
  });

  document.addEventListener("DOMContentLoaded", showFirstView);
})();
