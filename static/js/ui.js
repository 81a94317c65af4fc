// What the interface needs beyond HTML, CSS and the server (which do the panels, the
// theme, the banner, runs of messages and the per-viewer look): a length counter,
// relative times, and a live log that stays quiet while history goes in.
(function () {
  "use strict";

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

  // The live log announces new messages only: a page of history (swapped in for a
  // .history-before/.history-after sentinel) goes in while it is busy and silent.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var list = document.getElementById("messages");
    if (!list || !event.detail.elt.matches || !event.detail.elt.matches(".history-before, .history-after")) return;
    list.setAttribute("aria-live", "off");
    list.setAttribute("aria-busy", "true");
    setTimeout(function () {
      list.setAttribute("aria-live", "polite");
      list.removeAttribute("aria-busy");
    }, 300); // the sentinel is gone by the time the swap settles: no later event to wait for
  });

  document.addEventListener("input", updateCounter);
  document.addEventListener("htmx:wsAfterSend", updateCounter); // chat.js empties the composer
  document.addEventListener("htmx:wsAfterMessage", updateCounter); // a refused draft comes back
  document.addEventListener("htmx:afterSwap", updateCounter); // a room swapped in (join, leave)
  document.addEventListener("htmx:wsAfterMessage", showTimes);
  document.addEventListener("htmx:afterSwap", showTimes);
  document.addEventListener("DOMContentLoaded", function () {
    updateCounter();
    showTimes();
    setInterval(showTimes, 30000);
  });
})();
