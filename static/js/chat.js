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
  });

  document.addEventListener("htmx:wsAfterMessage", function (event) {
    var list = messageList();
    if (list) placeNewestMessage(list);
    var form = composerOf(event.target);
    if (form && event.detail.message.indexOf('id="composer-errors"') !== -1) settleDraft(form);
    scrollToNewest();
  });

  // Enter sends, Shift+Enter starts a new line.
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (field.id !== "composer-body" || event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (field.value.trim()) field.form.requestSubmit();
  });

  // Per-viewer looks come from one CSS rule keyed on the viewer's id, so the
  // fragments stay the same for everyone (and are rendered once).
  function styleOwnMessages() {
    var me = document.body.dataset.user;
    if (!me || !document.styleSheets.length) return;
    var mine = '.message[data-author="' + me + '"]';
    var sheet = document.styleSheets[0];
    sheet.insertRule(mine + " { background: var(--mine); }", sheet.cssRules.length);
    sheet.insertRule(mine + " .message-actions button { display: inline-block; }", sheet.cssRules.length);
  }

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
    if (!list || document.visibilityState !== "visible") return false;
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

  document.addEventListener("DOMContentLoaded", styleOwnMessages);
  document.addEventListener("DOMContentLoaded", scrollToNewest);
  document.addEventListener("htmx:afterSwap", scrollToNewest);
})();
