// The interface around the chat: theme, panels, composer, message runs and times,
// the live log and the connection banner. Plain glue, no inline handlers (CSP);
// chat.js owns the socket, the message list and its scrolling.
(function () {
  "use strict";
  var root = document.documentElement;

  function remember(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch (error) {
      // Storage refused: the choice lasts for this page only.
    }
  }

  // Theme: the system's unless the reader chose (<html data-theme>, theme.js).
  var systemDark = window.matchMedia("(prefers-color-scheme: dark)");

  function isDark() {
    return root.dataset.theme ? root.dataset.theme === "dark" : systemDark.matches;
  }

  function showTheme() {
    document.querySelectorAll(".theme-toggle").forEach(function (button) {
      button.setAttribute("aria-pressed", String(isDark()));
    });
  }

  // Panels: #sidebar, #room-tools and #members are drawers where chat.css says so
  // (--drawer: 1, narrow screens), one open at a time (<html data-open-panel>). On
  // wide screens the member list folds away instead, and that choice is remembered.
  function isDrawer(panel) {
    return getComputedStyle(panel).getPropertyValue("--drawer").trim() === "1";
  }

  function isExpanded(name) {
    var panel = document.getElementById(name);
    if (!panel) return false;
    if (isDrawer(panel)) return root.dataset.openPanel === name;
    return name !== "members" || root.dataset.members !== "closed";
  }

  function showPanels() {
    document.querySelectorAll(".panel-toggle").forEach(function (button) {
      button.setAttribute("aria-expanded", String(isExpanded(button.dataset.panel)));
    });
  }

  function closeDrawer(returnFocus) {
    var open = root.dataset.openPanel;
    if (!open) return;
    delete root.dataset.openPanel;
    showPanels();
    var button = document.querySelector('.panel-toggle[data-panel="' + open + '"]');
    if (returnFocus && button) button.focus();
  }

  function togglePanel(button) {
    var name = button.dataset.panel;
    var panel = document.getElementById(name);
    if (!panel) return;
    if (!isDrawer(panel)) {
      root.dataset.members = root.dataset.members === "closed" ? "open" : "closed";
      remember("chat.members", root.dataset.members);
    } else if (root.dataset.openPanel === name) {
      delete root.dataset.openPanel;
    } else {
      root.dataset.openPanel = name;
      var first = panel.querySelector("a[href], button, input, select, summary");
      if (first) first.focus();
    }
    showPanels();
  }

  document.addEventListener("click", function (event) {
    var theme = event.target.closest(".theme-toggle");
    if (theme) {
      root.dataset.theme = isDark() ? "light" : "dark";
      remember("chat.theme", root.dataset.theme);
      showTheme();
    }
    var toggle = event.target.closest(".panel-toggle");
    if (toggle) togglePanel(toggle);
    else closeDrawerLeft(event.target);
    if (event.target.closest(".jump-newest")) focusComposer();
  });

  // A tap beside the open drawer, or the focus going elsewhere, closes it.
  function closeDrawerLeft(target) {
    var open = root.dataset.openPanel;
    if (open && !target.closest("#" + open + ', .panel-toggle[data-panel="' + open + '"]')) closeDrawer(false);
  }

  document.addEventListener("focusin", function (event) {
    closeDrawerLeft(event.target);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && root.dataset.openPanel) closeDrawer(true);
  });

  window.addEventListener("resize", showPanels);
  systemDark.addEventListener("change", showTheme);

  // Composer: the focus stays in it, a counter shows near the 4,000-character limit,
  // and it grows with its text (CSS field-sizing; this fallback elsewhere).
  var COUNT_FROM = 3500;
  var WARN_FROM = 3900;
  var fieldSizing = window.CSS && CSS.supports("field-sizing", "content");

  function focusComposer() {
    var field = document.getElementById("composer-body");
    if (field) field.focus({ preventScroll: true });
  }

  function updateComposer() {
    var field = document.getElementById("composer-body");
    var count = document.getElementById("composer-count");
    if (!field || !count) return;
    var length = field.value.length;
    count.hidden = length < COUNT_FROM;
    count.classList.toggle("near-limit", length >= WARN_FROM);
    count.textContent = length.toLocaleString("en") + " / " + field.maxLength.toLocaleString("en");
    if (!fieldSizing) {
      field.style.height = "auto";
      field.style.height = field.scrollHeight + 2 + "px";
    }
  }

  document.addEventListener("input", function (event) {
    if (event.target.id === "composer-body") updateComposer();
  });
  document.addEventListener("htmx:wsAfterSend", function (event) {
    if (event.target.id !== "composer") return;
    updateComposer();
    focusComposer();
  });
  document.addEventListener("htmx:wsAfterMessage", updateComposer); // a refused draft comes back

  // Messages: one author's messages within five minutes on one day form a run that
  // shows the name and avatar once; times read "3 min ago" (exact on hover).
  var RUN_GAP_MS = 5 * 60 * 1000;

  function sentAt(message) {
    var time = message.querySelector("time[data-relative]");
    return time ? Date.parse(time.getAttribute("datetime")) : NaN;
  }

  function markRuns(list) {
    var previous = null;
    list.querySelectorAll(":scope > *").forEach(function (node) {
      var isMessage = node.classList.contains("message") && !node.classList.contains("editing");
      var continues =
        isMessage &&
        previous !== null &&
        !!node.dataset.author &&
        node.dataset.author === previous.dataset.author &&
        node.dataset.day === previous.dataset.day &&
        sentAt(node) - sentAt(previous) < RUN_GAP_MS;
      if (isMessage) node.classList.toggle("continued", continues);
      previous = isMessage ? node : null;
    });
  }

  function timeAgo(date, now) {
    var minutes = Math.round((now - date) / 60000);
    if (minutes < 1) return "just now";
    if (minutes < 60) return minutes + " min ago";
    if (minutes < 24 * 60) return Math.round(minutes / 60) + " h ago";
    var older = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
    return new Date(date).toLocaleString(undefined, older);
  }

  function showTimes() {
    var now = Date.now();
    document.querySelectorAll("time[data-relative]").forEach(function (time) {
      var date = Date.parse(time.getAttribute("datetime"));
      if (isNaN(date)) return;
      var label = time.querySelector(".ago") || time;
      var text = timeAgo(date, now);
      if (label.textContent !== text) label.textContent = text;
      if (!time.dataset.local) {
        time.title = new Date(date).toLocaleString(undefined, { dateStyle: "full", timeStyle: "medium" });
        time.dataset.local = "";
      }
    });
  }

  document.addEventListener("chat:listchange", function (event) {
    markRuns(event.target);
    showTimes();
  });
  setInterval(showTimes, 30000);

  // The live log announces new messages only: pages of history that go in above or
  // below (the .history-before/.history-after sentinels) are put in while it is quiet.
  // The swap is synchronous and settles 20 ms later; the sentinel is gone by then, so its
  // later events no longer reach the document: the log speaks again after a while instead.
  var QUIET_FOR_MS = 300;

  function isHistoryRequest(event) {
    var sentinel = event.detail.elt;
    return !!sentinel && !!sentinel.matches && sentinel.matches(".history-before, .history-after");
  }

  function setLogQuiet(quiet) {
    var list = document.getElementById("messages");
    if (!list) return;
    list.setAttribute("aria-live", quiet ? "off" : "polite");
    if (quiet) list.setAttribute("aria-busy", "true");
    else list.removeAttribute("aria-busy");
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!isHistoryRequest(event)) return;
    setLogQuiet(true);
    setTimeout(setLogQuiet, QUIET_FOR_MS, false);
  });

  // "Connection lost, reconnecting…" while the socket is down (chat.js sets data-socket).
  function showConnection() {
    var room = document.getElementById("room");
    var banner = document.querySelector(".connection-lost");
    if (room && banner) banner.hidden = room.dataset.socket !== "closed";
  }

  document.addEventListener("htmx:wsOpen", showConnection);
  document.addEventListener("htmx:wsClose", showConnection);

  // A room swapped in (join, leave) brings new panel buttons and a new composer.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id === "room") {
      showPanels();
      updateComposer();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    showTheme();
    showPanels();
    updateComposer();
    showTimes();
  });
})();
