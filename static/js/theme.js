// Loaded early in <head>, not deferred: applies the remembered choices before the
// first paint, so a dark page never flashes light (ui.js has the controls).
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  try {
    var theme = localStorage.getItem("chat.theme");
    if (theme === "dark" || theme === "light") root.dataset.theme = theme;
    if (localStorage.getItem("chat.members") === "closed") root.dataset.members = "closed";
  } catch (error) {
    // Storage refused (privacy settings): follow the system and show the members.
  }
})();
