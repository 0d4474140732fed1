/* Small progressive enhancements for member pages. Everything works without
   this file; the CSP forbids inline scripts, so all behaviour lives here. */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.add("js");
  // Words come translated from the page (templates/base.html #js-text), so
  // they go through the same catalog as everything else.
  var text = (document.getElementById("js-text") || { dataset: {} }).dataset;
  var words = {
    show: text.show || "Show", hide: text.hide || "Hide",
    showLabel: text.showLabel || "Show password", hideLabel: text.hideLabel || "Hide password",
    failed: text.failed || "Could not load. Please try again.",
    offline: text.offline || "You seem to be offline. Please try again."
  };

  // Flash messages: a close button (hidden by CSS until this script runs).
  function wireFlashes(scope) {
    scope.querySelectorAll("[data-dismiss]").forEach(function (button) {
      button.addEventListener("click", function () {
        var flash = button.closest(".flash");
        if (flash) flash.remove();
      });
    });
  }

  // Password fields: a show/hide toggle, easier than retyping on a phone.
  function wirePasswords(scope) {
    scope.querySelectorAll("input[data-password]").forEach(function (input) {
      if (input.dataset.wired) return;
      input.dataset.wired = "1";
      var wrap = document.createElement("div");
      wrap.className = "password-wrap";
      input.parentNode.insertBefore(wrap, input);
      wrap.appendChild(input);
      var toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "password-toggle";
      toggle.textContent = words.show;
      toggle.setAttribute("aria-label", words.showLabel);
      toggle.setAttribute("aria-pressed", "false");
      toggle.addEventListener("click", function () {
        var showing = input.type === "text";
        input.type = showing ? "password" : "text";
        toggle.textContent = showing ? words.show : words.hide;
        toggle.setAttribute("aria-label", showing ? words.showLabel : words.hideLabel);
        toggle.setAttribute("aria-pressed", showing ? "false" : "true");
      });
      wrap.appendChild(toggle);
    });
  }

  // htmx does not swap error responses: tell the member instead of doing nothing.
  function showProblem(target, text) {
    var note = document.createElement("p");
    note.className = "field-error";
    note.setAttribute("role", "alert");
    note.textContent = text;
    if (target && target.parentNode) target.parentNode.insertBefore(note, target.nextSibling);
  }

  // A quiz question's countdown, from the milliseconds the server says are left
  // (it alone decides what is late; this only shows the member the time).
  function startCountdowns(scope) {
    scope.querySelectorAll("[data-countdown-ms]:not([data-counting])").forEach(function (timer) {
      timer.setAttribute("data-counting", "");
      var end = Date.now() + parseInt(timer.getAttribute("data-countdown-ms"), 10);
      var value = timer.querySelector(".quiz-timer-value");
      var digits = new Intl.NumberFormat(document.documentElement.lang || undefined);
      timer.hidden = false;
      (function tick() {
        var left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
        value.textContent = digits.format(left);
        timer.classList.toggle("quiz-timer-low", left <= 5);
        if (left > 0 && document.body.contains(timer)) window.setTimeout(tick, 250);
      }());
    });
  }


  // /invite: the phone's share sheet (Web Share API) and "copy link" where the
  // browser has them; the plain WhatsApp/Telegram/SMS/e-mail links work anyway.
  // Every press is counted (POST /invite/share, CSRF token from <body>).
  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function countShare(box, channel) {
    var body = new FormData();
    body.append("channel", channel);
    // keepalive: the press of a link that leaves the page is still counted
    window.fetch(box.dataset.shareEndpoint, {
      method: "POST", body: body, credentials: "same-origin", keepalive: true,
      headers: { "X-CSRFToken": csrfToken() }
    }).catch(function () {});
  }

  function wireShare(scope) {
    scope.querySelectorAll("#share-buttons:not([data-wired])").forEach(function (box) {
      box.setAttribute("data-wired", "");
      var status = document.getElementById("share-status");
      function say(text) { if (status) status.textContent = text; }
      var data = { title: box.dataset.shareTitle, text: box.dataset.shareText, url: box.dataset.shareUrl };
      var native = box.querySelector("[data-share-native]");
      if (native && navigator.share && (!navigator.canShare || navigator.canShare(data))) {
        native.hidden = false;
        native.addEventListener("click", function () {
          navigator.share(data).then(function () { countShare(box, "native"); }, function () {});
        });
      }
      var copy = box.querySelector("[data-share-copy]");
      if (copy) {
        copy.hidden = false;
        copy.addEventListener("click", function () {
          countShare(box, "copy");
          var field = document.getElementById("invite-link");
          var done = function () { say(box.dataset.copied); };
          var fallback = function () {
            if (field) { field.focus(); field.select(); }
            try { if (document.execCommand("copy")) { done(); return; } } catch (e) { /* fall through */ }
            say(box.dataset.copyFailed);
          };
          if (navigator.clipboard && window.isSecureContext) {
            navigator.clipboard.writeText(data.url).then(done, fallback);
          } else {
            fallback();
          }
        });
      }
      box.querySelectorAll("a[data-share-channel]").forEach(function (link) {
        link.addEventListener("click", function () { countShare(box, link.dataset.shareChannel); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireFlashes(document);
    wirePasswords(document);
    startCountdowns(document);
    wireShare(document);
  });
  document.addEventListener("htmx:responseError", function (event) {
    showProblem(event.detail.elt, words.failed);
  });
  document.addEventListener("htmx:sendError", function (event) {
    showProblem(event.detail.elt, words.offline);
  });
  // "Show older activity" (or messages) replaces its own row: move focus to the first newly
  // loaded entry, else keyboard and screen-reader users are thrown to the top.
  var entriesBefore = -1;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var list = elt.closest && elt.closest(".load-more") && elt.closest("#activity-list, #inbox-list");
    entriesBefore = list ? list.querySelectorAll(".entry, .message").length : -1;
  });
  document.addEventListener("htmx:afterSettle", function () {
    startCountdowns(document);
    // A swapped-in element that asks for focus gets it (e.g. an inbox message
    // just marked read: its button is gone, focus must not fall to the top).
    var wanted = document.querySelector("[data-autofocus]");
    if (wanted) {
      wanted.removeAttribute("data-autofocus");
      wanted.focus();
    }
    if (entriesBefore < 0) return;
    var first = document.querySelectorAll("#activity-list .entry, #inbox-list .message")[entriesBefore];
    entriesBefore = -1;
    if (first) {
      first.setAttribute("tabindex", "-1");
      first.focus();
    }
  });
}());
