// The tab title's count, the favicon's badge and desktop notifications.
//
// The count is the sidebar's: unread mentions in every room plus unread messages in
// direct conversations (each room link carries data-mentions, data-unread and
// data-direct; the sockets keep them current). A notice (#page-notice, sent by the
// server for a mention or a direct message in another room) becomes a desktop
// notification when the browser allows them (asked from a button, never here) and
// the member's level for that room wants it.
(function () {
  "use strict";

  var baseTitle = document.title;
  var icon = document.querySelector('link[rel="icon"]');
  var baseIcon = icon && icon.href;
  var shownCount = 0;

  function unreadCount() {
    var seen = {}, total = 0;
    document.querySelectorAll("a[data-room][data-mentions]").forEach(function (link) {
      if (seen[link.dataset.room]) return;  // the sidebar and the home page list a room twice
      seen[link.dataset.room] = true;
      total += parseInt(link.dataset.mentions, 10) || 0;
      if (link.hasAttribute("data-direct")) total += parseInt(link.dataset.unread, 10) || 0;
    });
    return total;
  }

  function badgedIcon(count, done) {
    var image = new Image();
    image.onload = function () {
      var canvas = document.createElement("canvas");
      canvas.width = canvas.height = 64;
      var context = canvas.getContext("2d");
      context.drawImage(image, 0, 0, 64, 64);
      context.beginPath();
      context.arc(46, 18, 18, 0, 2 * Math.PI);
      context.fillStyle = "#d42c2c";
      context.fill();
      context.fillStyle = "#fff";
      context.font = "bold 26px sans-serif";
      context.textAlign = "center";
      context.textBaseline = "middle";
      context.fillText(count > 9 ? "9+" : String(count), 46, 19);
      done(canvas.toDataURL("image/png"));
    };
    image.src = baseIcon;
  }

  function showCount() {
    var count = unreadCount();
    if (count === shownCount) return;
    shownCount = count;
    document.title = count ? "(" + count + ") " + baseTitle : baseTitle;
    if (!icon) return;
    if (!count) {
      icon.type = "image/svg+xml";
      icon.href = baseIcon;
      return;
    }
    badgedIcon(count, function (url) {
      if (shownCount !== count) return;  // a newer count won the race
      icon.type = "image/png";
      icon.href = url;
    });
  }

  function levelFor(slug) {
    return fetch("/rooms/" + encodeURIComponent(slug) + "/notifications/?format=json", {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.ok ? response.json().then(function (data) { return data.level; }) : "nothing";
    });
  }

  function wanted(notice, level) {
    if (level === "nothing") return false;
    var mentioned = (notice.dataset.mentioned || "").split(" ").indexOf(document.body.dataset.user) >= 0;
    return mentioned || (notice.hasAttribute("data-direct") && level === "all");
  }

  function notify(notice) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    var data = notice.dataset;
    levelFor(data.room).then(function (level) {
      if (!wanted(notice, level)) return;
      var shown = new Notification(data.title, { body: data.body, tag: "message-" + data.message });
      shown.onclick = function () {
        window.focus();
        window.location.assign(data.url);
        shown.close();
      };
    }).catch(function () {});  // offline: the badge still says it
  }

  // htmx fires oobAfterSwap on the element swapped in (detail.target is the one it replaced).
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.target.id === "page-notice") notify(event.target);
  });
  document.addEventListener("htmx:afterSettle", showCount);
  document.addEventListener("htmx:oobAfterSwap", showCount);
  document.addEventListener("DOMContentLoaded", showCount);
})();
