// The interface beyond HTML, CSS and the server (which do the panels, the theme, runs of
// messages and the per-viewer look): Enter to send, the composer's counter and draft, the
// reader's place and the "new messages" pill, relative times, a quiet log while history
// loads, the reconnect banner's switch, editing from the keyboard, and the room's menus
// closing as popovers do. sync.js, loaded before, keeps the list whole.
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

  // Editing, as in Slack and Discord: Up in an empty composer edits my last message;
  // in the edit form Enter saves, Shift+Enter is a new line and Escape cancels, and the
  // focus goes back to the composer once the message is shown again.
  var editClosing = null; // the id of the message whose edit form was just saved or cancelled

  function myLastMessage() {
    var mine = chat.list().querySelectorAll(':scope > .message[data-author="' + document.body.dataset.user + '"]:not(.deleted)');
    return Array.from(mine).filter(function (message) {
      return !message.matches(".history-after ~ .message"); // beyond a gap: not shown (chat.css)
    }).pop();
  }

  document.addEventListener("keydown", function (event) {
    var field = event.target;
    var plain = !(event.shiftKey || event.altKey || event.ctrlKey || event.metaKey || event.isComposing);
    if (field.id === "composer-body" && event.key === "ArrowUp" && plain && !field.value && chat.list()) {
      var message = myLastMessage();
      if (!message) return;
      event.preventDefault();
      if (message.matches(".editing")) message.querySelector(".edit-form textarea").focus();
      else message.querySelector(".edit-button").click();
      return;
    }
    var form = field.closest && field.closest(".edit-form");
    if (!form || field.name !== "body" || !plain) return; // Shift+Enter: a new line
    if (event.key === "Escape") {
      event.preventDefault(); // nothing around it (a menu, a drawer) closes as well
      editClosing = form.closest(".message").id;
      form.querySelector(".cancel-button").click();
    } else if (event.key === "Enter") {
      event.preventDefault();
      editClosing = form.closest(".message").id;
      form.requestSubmit();
    }
  });

  // A new edit form takes the focus, the cursor at the end; the message back in its place
  // (the answer or the broadcast, whichever comes first) gives it to the composer.
  document.addEventListener("htmx:load", function (event) {
    var shown = event.target;
    if (!shown.matches || !shown.matches(".message")) return;
    var field = shown.querySelector(".edit-form textarea");
    if (field) {
      field.focus();
      field.setSelectionRange(field.value.length, field.value.length);
    } else if (shown.id === editClosing) {
      editClosing = null;
      var composer = document.getElementById("composer-body");
      var lost = !document.activeElement || document.activeElement === document.body;
      if (composer && lost) composer.focus({ preventScroll: true });
    }
  });

  // The room's menus (Invite people, Room settings: <details name="room-menu">, which the
  // browser keeps to one open) close as popovers do: on Escape, the focus going back to
  // their button, and on a click beside them.
  document.addEventListener("keydown", function (event) {
    var menu = document.querySelector("details[data-light-dismiss][open]");
    if (event.key !== "Escape" || event.defaultPrevented || !menu) return;
    event.preventDefault(); // the drawer around it (#room-tools on narrow screens) stays open
    var hadFocus = menu.contains(document.activeElement);
    menu.open = false;
    if (hadFocus) menu.querySelector("summary").focus();
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details[data-light-dismiss][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });
  // An open menu that htmx replaces (Invite people, after a send) leaves its group first:
  // else the browser closes its open replacement, the group's second open member.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!event.detail.shouldSwap || !target.matches || !target.matches("details[name][open]")) return;
    target.removeAttribute("name");
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
    showTimes(); // also on pages without messages: the home page's last activity
    if (!chat.list()) return;
    if (followNewest) scrollToNewest();
    updateJump(frame.indexOf("beforeend:#messages") !== -1);
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

  // People the viewer blocked (#room[data-blocked], read per page): the fragments are the
  // same for every reader, so their messages fold here, each with a button to show it.
  function applyBlocks(root) {
    var room = document.getElementById("room");
    var blocked = ((room && room.dataset.blocked) || "").split(" ").filter(Boolean);
    if (!blocked.length || !root.querySelectorAll) return;
    var found = Array.from(root.querySelectorAll(".message[data-author], .member-list li[data-user]"));
    if (root.matches && root.matches(".message[data-author], .member-list li[data-user]")) found.push(root);
    found.forEach(function (element) {
      var id = element.classList.contains("message") ? element.dataset.author : element.dataset.user;
      element.classList.toggle("blocked", blocked.indexOf(id) !== -1);
    });
  }
  document.addEventListener("htmx:load", function (event) { applyBlocks(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { applyBlocks(document); });
  document.addEventListener("click", function (event) {
    var show = event.target.closest && event.target.closest(".blocked-show");
    if (show) show.closest(".message").classList.add("revealed");
  });

  // Online dots ([data-presence="<user id>"], rooms/partials/presence_dot.html): the page
  // comes with their state, then asks again who is online every body[data-presence-poll]
  // ms while the tab is visible (rooms/people_views.py presence_people). Dots that a socket
  // swaps in without a state take the last one known, or are asked about after a second.
  var PRESENCE_IDS_MAX = 200;
  var presenceKnown = new Map(); // user id -> online?
  var presenceSoon = null;

  function showDot(dot) {
    var on = presenceKnown.get(dot.dataset.presence);
    if (on === undefined || dot.dataset.state === (on ? "yes" : "no")) return;
    dot.dataset.state = on ? "yes" : "no";
    var words = dot.querySelector(".presence-words");
    if (words) words.textContent = on ? "online: " : "offline: ";
  }

  function dots(root) {
    return root.querySelectorAll ? Array.from(root.querySelectorAll(".presence-dot[data-presence]")) : [];
  }

  function askPresence() {
    var ids = [];
    dots(document).forEach(function (dot) {
      if (ids.length < PRESENCE_IDS_MAX && ids.indexOf(dot.dataset.presence) === -1) ids.push(dot.dataset.presence);
    });
    if (!ids.length || document.visibilityState !== "visible") return;
    fetch("/presence/people/?ids=" + ids.join(","), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer) return;
        var online = new Set(answer.online.map(String));
        ids.forEach(function (id) { presenceKnown.set(id, online.has(id)); });
        dots(document).forEach(showDot);
      })
      .catch(function () {}); // the next round asks again
  }

  document.addEventListener("htmx:load", function (event) {
    var unknown = dots(event.detail.elt).filter(function (dot) {
      if (dot.dataset.state) presenceKnown.set(dot.dataset.presence, dot.dataset.state === "yes");
      else showDot(dot);
      return !dot.dataset.state;
    });
    if (unknown.length && !presenceSoon) {
      presenceSoon = setTimeout(function () { presenceSoon = null; askPresence(); }, 1000);
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var every = Number(document.body.dataset.presencePoll);
    if (every > 0) setInterval(askPresence, every);
  });
})();
