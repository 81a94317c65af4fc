{% load static %}// The service worker (served at /sw.js by notifications.views.service_worker): shows
// the server's Web Push notifications while no tab of the site is open, and brings
// the reader to the message when they click one.
"use strict";

const ICON = "{% static 'favicon.svg' %}";

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { title: "Chat", body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(data.title || "Chat", {
      body: data.body || "",
      tag: data.tag,
      icon: ICON,
      data: { url: data.url || "/" },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data.url || "/", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((tabs) => {
      const tab = tabs.find((client) => new URL(client.url).origin === self.location.origin);
      if (tab) {
        // navigate() works on tabs this worker controls; another tab gets a new window.
        return tab.focus().then((focused) => focused.navigate(url)).catch(() => self.clients.openWindow(url));
      }
      return self.clients.openWindow(url);
    })
  );
});
