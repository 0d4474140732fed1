/* "Notifications on this device" on /me/settings: registers the service worker
   (/sw.js, scope /), then shows the browser's true state — unsupported, blocked
   by the browser, off or on — and turns web push on (asks permission,
   subscribes with the club's VAPID key, posts the subscription) or off.
   The words come translated in the control's data-* attributes. */
(function () {
  "use strict";

  var box = document.getElementById("push-control");
  if (!box) return;
  var d = box.dataset;
  var state = document.getElementById("push-state");
  var button = document.getElementById("push-toggle");
  var words = {
    unsupported: d.sayUnsupported, blocked: d.sayBlocked, off: d.sayOff, on: d.sayOn,
    working: d.sayWorking, failed: d.sayFailed
  };

  function offer(action) {
    button.setAttribute("data-action", action);
    button.textContent = action === "on" ? d.turnOn : d.turnOff;
  }

  function show(name) {
    box.setAttribute("data-state", name);
    state.textContent = words[name];
    if (name === "on") offer("off");
    else if (name === "off" || (name === "failed" && !button.getAttribute("data-action"))) offer("on");
    // "failed" keeps the button's last offer: the member can simply try again
    button.hidden = ["on", "off", "failed", "working"].indexOf(name) === -1;
    button.disabled = name === "working";
  }

  var supported = window.isSecureContext && "serviceWorker" in navigator && "PushManager" in window &&
    "Notification" in window && !!d.key;
  if (!supported) {
    show("unsupported");
    return;
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function post(url, body) {
    return window.fetch(url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response;
    });
  }

  function keyBytes(base64url) {
    var text = base64url.replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(text + "===".slice((text.length + 3) % 4));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function sameKey(subscription) {
    var key = subscription.options && subscription.options.applicationServerKey;
    if (!key) return true; // the browser does not say: assume ours
    var mine = keyBytes(d.key), theirs = new Uint8Array(key);
    if (mine.length !== theirs.length) return false;
    for (var i = 0; i < mine.length; i++) if (mine[i] !== theirs[i]) return false;
    return true;
  }

  // is this browser's subscription one of the member's? (the page lists SHA-256s)
  function isMine(subscription) {
    var marks = (d.mine || "").split(" ");
    return window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(subscription.endpoint))
      .then(function (digest) {
        var hex = Array.prototype.map.call(new Uint8Array(digest), function (b) {
          return ("0" + b.toString(16)).slice(-2);
        }).join("");
        return marks.indexOf(hex) !== -1;
      });
  }

  var registration = navigator.serviceWorker.register(d.worker, { scope: "/" });

  function current() {
    if (Notification.permission === "denied") return Promise.resolve("blocked");
    return registration.then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (subscription) {
      if (!subscription || Notification.permission !== "granted") return "off";
      return isMine(subscription).then(function (mine) { return mine ? "on" : "off"; });
    });
  }

  function subscribed(reg) {
    return reg.pushManager.getSubscription().then(function (old) {
      // subscribed with another key (the club's key changed): start afresh
      if (old && !sameKey(old)) return old.unsubscribe().then(function () { return null; });
      return old;
    }).then(function (subscription) {
      return subscription || reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(d.key) });
    });
  }

  function turnOn() {
    show("working");
    // asked straight from the tap: browsers only ask the member from a gesture
    Promise.resolve(Notification.requestPermission()).then(function (permission) {
      if (permission === "denied") return show("blocked");
      if (permission !== "granted") return show("off");
      return registration.then(subscribed).then(function (subscription) {
        return post(d.subscribe, subscription.toJSON());
      }).then(function () { show("on"); });
    }).catch(function () { show("failed"); });
  }

  function turnOff() {
    show("working");
    registration.then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (subscription) {
      if (!subscription) return show("off");
      // the club forgets it first (whatever it answers), then the browser
      return post(d.unsubscribe, { endpoint: subscription.endpoint }).catch(function () {})
        .then(function () { return subscription.unsubscribe(); })
        .then(function () { show("off"); });
    }).catch(function () { show("failed"); });
  }

  button.addEventListener("click", function () {
    if (button.getAttribute("data-action") === "off") turnOff(); else turnOn();
  });

  current().then(show, function () { show("unsupported"); });
}());
