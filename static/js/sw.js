/* The club's service worker, served at /sw.js (scope /). It only shows web
   push messages and opens the page a tap leads to; it caches nothing, so pages
   are always fresh. The payload is JSON {title, body, url, tag, lang} (see
   webapp/services/messages/channels/webpush.py). */
"use strict";

var ICON = "/static/icons/icon-192.png";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("push", function (event) {
  var data = {};
  if (event.data) {
    try {
      data = event.data.json();
    } catch (e) {
      data = { body: event.data.text() };
    }
  }
  var options = {
    body: data.body || "",
    icon: ICON,
    badge: ICON,
    dir: "auto",
    data: { url: data.url || "/me/inbox" }
  };
  if (data.lang) options.lang = data.lang;
  // the same tag replaces an earlier copy (a retried delivery) instead of a second alert
  if (data.tag) options.tag = data.tag;
  event.waitUntil(self.registration.showNotification(data.title || self.location.host, options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target;
  try {
    target = new URL((event.notification.data && event.notification.data.url) || "/me/inbox", self.location.origin);
  } catch (e) {
    target = new URL("/me/inbox", self.location.origin);
  }
  if (target.protocol !== "https:" && target.protocol !== "http:") return;
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
    for (var i = 0; i < windows.length; i++) {
      if (windows[i].url === target.href && "focus" in windows[i]) return windows[i].focus();
    }
    return self.clients.openWindow(target.href);
  }));
});
