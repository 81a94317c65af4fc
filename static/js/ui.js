// The interface beyond HTML, CSS and the server (which do the panels, the theme, runs of
// messages and the per-viewer look): Enter to send, the composer's counter and draft, the
// reader's place and the "new messages" pill, relative times, a quiet log while history
// loads, and the reconnect banner's switch. sync.js, loaded before, keeps the list whole.
(function () {
  "use strict";

  var chat = window.chat;
  var followNewest = false; // the reader was at the newest when a frame came in
  var keptPlace = null; // the message in view while older ones go in above it

  // CSS cannot count characters: "3,600 / 4,000" from 3,500 on, in red from 3,900.
  function updateCounter() {
    var field = document.getElementById("composer-body");
    var count = document.getElementById("composer-count");
    if (!field || !count) return;
    count.hidden = field.value.length < 3500;
    count.classList.toggle("near-limit", field.value.length >= 3900);
    count.textContent = field.value.length.toLocaleString("en") + " / " + field.maxLength.toLocaleString("en");
  }

  // "3 min ago", moving on every 30 s; the title holds the exact time, in the reader's zone.
  function timeAgo(date, now) {
    var minutes = Math.round((now - date) / 60000);
    if (minutes < 1) return "just now";
    if (minutes < 60) return minutes + " min ago";
    if (minutes < 24 * 60) return Math.round(minutes / 60) + " h ago";
    return new Date(date).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }

  function showTimes() {
    var now = Date.now();
    document.querySelectorAll("time[data-relative]").forEach(function (time) {
      var date = Date.parse(time.getAttribute("datetime"));
      var label = time.querySelector(".ago") || time;
      if (isNaN(date) || label.textContent === timeAgo(date, now)) return;
      label.textContent = timeAgo(date, now);
      time.title = new Date(date).toLocaleString(undefined, { dateStyle: "full", timeStyle: "medium" });
    });
  }

  function scrollToNewest() {
    chat.list().scrollTop = chat.list().scrollHeight;
  }

  // "Jump to newest" shows while the reader is away from it, and reads "New messages"
  // once one arrived meanwhile.
  function updateJump(fresh) {
    var jump = document.querySelector(".jump-newest");
    if (!jump) return;
    jump.hidden = chat.reachesNewest() && chat.atBottom();
    if (jump.hidden) delete jump.dataset.fresh;
    else if (fresh) jump.dataset.fresh = "";
  }

  // The banner shows while #room[data-socket=closed] (chat.css).
  document.addEventListener("htmx:wsOpen", function (event) {
    event.target.dataset.socket = "open";
  });
  document.addEventListener("htmx:wsClose", function (event) {
    event.target.dataset.socket = "closed";
  });

  // Enter sends, Shift+Enter starts a new line.
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (field.id !== "composer-body" || event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (field.value.trim()) field.form.requestSubmit();
  });

  // The composer empties on send and keeps the focus; a refused draft comes back.
  document.addEventListener("htmx:wsAfterSend", function (event) {
    var form = event.target;
    if (form.id !== "composer") return;
    form.dataset.draft = form.elements.body.value;
    form.elements.body.value = ""; // not form.reset(): that brings back the page's own draft
    form.elements.body.focus({ preventScroll: true }); // also after a click on Send
    scrollToNewest();
    updateCounter();
  });

  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    var frame = event.detail.message;
    var own = frame.indexOf("beforeend:#messages") !== -1 && frame.indexOf('data-author="' + document.body.dataset.user + '"') !== -1;
    followNewest = !!chat.list() && chat.reachesNewest() && (chat.atBottom() || own);
  });

  document.addEventListener("htmx:wsAfterMessage", function (event) {
    var frame = event.detail.message;
    var form = document.getElementById("composer");
    if (form && frame.indexOf('id="composer-errors"') !== -1) {
      var refused = document.getElementById("composer-errors").textContent.trim();
      if (refused && form.dataset.draft && !form.elements.body.value) form.elements.body.value = form.dataset.draft;
      delete form.dataset.draft;
      updateCounter();
    }
    if (!chat.list()) return;
    if (followNewest) scrollToNewest();
    updateJump(frame.indexOf("beforeend:#messages") !== -1);
    showTimes();
  });

  // A page of history (swapped in for a .history-before/.history-after sentinel) goes in
  // while the live log is busy and silent, and the reader's view stays where it was.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var sentinel = event.detail.elt;
    var list = chat.list();
    if (!list || !sentinel.matches || !sentinel.matches(".history-before, .history-after")) return;
    list.setAttribute("aria-live", "off");
    list.setAttribute("aria-busy", "true");
    setTimeout(function () {
      list.setAttribute("aria-live", "polite");
      list.removeAttribute("aria-busy");
    }, 300); // the sentinel is gone by the time the swap settles: no later event to wait for
    var next = sentinel.matches(".history-before") && sentinel.nextElementSibling;
    if (next) keptPlace = { node: next, top: next.getBoundingClientRect().top };
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    updateCounter(); // a room swapped in (join, leave)
    showTimes();
    if (!chat.list()) return;
    if (event.target.id === "room") scrollToNewest(); // joined or left: a new list
    if (keptPlace) chat.list().scrollTop += keptPlace.node.getBoundingClientRect().top - keptPlace.top;
    keptPlace = null;
    updateJump(false);
  });

  document.addEventListener("scroll", function (event) {
    if (event.target === chat.list()) updateJump(false);
  }, true);

  // Jump to newest: scroll down when the list reaches it; else the link reloads the room.
  document.addEventListener("click", function (event) {
    if (!chat.list() || !event.target.closest || !event.target.closest(".jump-newest") || !chat.reachesNewest()) return;
    event.preventDefault();
    scrollToNewest();
    document.getElementById("composer-body").focus({ preventScroll: true });
  });

  // The empty state's "Invite people": open the panel (and the room menu, a drawer on
  // narrow screens), then put the focus in its first field.
  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-opens]");
    var panel = opener && document.getElementById(opener.dataset.opens);
    if (!panel) return;
    var drawer = panel.closest("[popover]");
    if (drawer && !drawer.matches(":popover-open") && getComputedStyle(drawer).display === "none") drawer.showPopover();
    panel.open = true;
    var field = panel.querySelector("input:not([type=hidden]), select, textarea");
    if (field) field.focus();
  });

  // The user menu (a <details> in the top bar): Escape closes it and gives the focus back
  // to its button; so does a click anywhere outside it.
  document.addEventListener("keydown", function (event) {
    var menu = document.querySelector(".user-menu[open]");
    if (event.key !== "Escape" || !menu) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });
  document.addEventListener("click", function (event) {
    var menu = document.querySelector(".user-menu[open]");
    if (menu && !menu.contains(event.target)) menu.open = false;
  });

  document.addEventListener("input", updateCounter);
  document.addEventListener("DOMContentLoaded", function () {
    updateCounter();
    showTimes();
    setInterval(showTimes, 30000);
    if (!chat.list()) return;
    var highlighted = chat.list().querySelector(":scope > .message.highlighted"); // a search result
    if (highlighted) highlighted.scrollIntoView({ block: "center" });
    else scrollToNewest();
    updateJump(false);
  });
})();
