// Web Push on this device (templates/notifications/partials/push_button.html):
// permission is asked only on a click; the subscription goes to the server, which
// pushes from its background worker while no tab of the site is open.
"use strict";

(() => {
  const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function keyBytes(base64url) {
    const base64 = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
  }

  function send(control, method, subscription) {
    return fetch(control.dataset.subscriptionsUrl, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(subscription),
    }).then((response) => {
      if (!response.ok) throw new Error("the server refused the subscription");
    });
  }

  function show(control, text, action, pageOnly) {
    const button = control.querySelector("[data-push-toggle]");
    control.querySelector("[data-push-state]").textContent = text;
    button.hidden = !action;
    if (action) button.textContent = action;
    control.dataset.pushOn = action === "Turn off" ? "true" : "false";
    control.dataset.pageOnly = pageOnly ? "true" : "false";
  }

  // No push on this server: the page's own notifications (js/notify.js) still need the
  // browser's permission, asked from this button.
  function showPageOnly(control) {
    if (Notification.permission === "granted") {
      return show(control, "Push is not set up on this server; notifications show while the site is open.", "");
    }
    return show(control, "Push notifications are not set up on this server.", "Show notifications while the site is open", true);
  }

  function registration(control) {
    return navigator.serviceWorker.register(control.dataset.workerUrl, { scope: "/" });
  }

  function refresh(control) {
    if (!supported) return Promise.resolve(show(control, "This browser cannot show notifications from the site.", ""));
    if (Notification.permission === "denied") {
      return Promise.resolve(show(control, "Notifications are blocked by the browser for this site.", ""));
    }
    return fetch(control.dataset.keyUrl, { credentials: "same-origin" }).then((response) => response.json()).then((key) => {
      if (!key.public_key) return showPageOnly(control);
      return navigator.serviceWorker.getRegistration("/").then((found) => (found ? found.pushManager.getSubscription() : null))
        .then((subscription) => subscription
          ? show(control, "Notifications are on for this device.", "Turn off")
          : show(control, "Notifications are off for this device.", "Turn on notifications on this device"));
    });
  }

  function turnOn(control) {
    return Notification.requestPermission().then((permission) => {
      if (permission !== "granted") return refresh(control);
      return Promise.all([registration(control), fetch(control.dataset.keyUrl, { credentials: "same-origin" }).then((r) => r.json())])
        .then(([registered, key]) => navigator.serviceWorker.ready.then(() => registered.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(key.public_key),
        })))
        .then((subscription) => send(control, "POST", subscription.toJSON()))
        .then(() => refresh(control));
    });
  }

  function turnOff(control) {
    return navigator.serviceWorker.getRegistration("/")
      .then((found) => (found ? found.pushManager.getSubscription() : null))
      .then((subscription) => subscription && send(control, "DELETE", { endpoint: subscription.endpoint })
        .then(() => subscription.unsubscribe()))
      .then(() => refresh(control));
  }

  function setUp(control) {
    if (control.dataset.pushReady) return;
    control.dataset.pushReady = "true";
    control.querySelector("[data-push-toggle]").addEventListener("click", () => {
      const askOnly = (shown) => Notification.requestPermission().then(() => refresh(shown));
      const change = control.dataset.pushOn === "true" ? turnOff : control.dataset.pageOnly === "true" ? askOnly : turnOn;
      change(control).catch(() => show(control, "Could not change notifications on this device; try again.", "Try again"));
    });
    refresh(control).catch(() => show(control, "Could not read this device's notification state.", ""));
  }

  function setUpAll(root) {
    root.querySelectorAll("[data-push-control]").forEach(setUp);
  }

  document.addEventListener("DOMContentLoaded", () => setUpAll(document));
  // The room menu may be swapped in by htmx.
  document.addEventListener("htmx:load", (event) => setUpAll(event.target));
})();
