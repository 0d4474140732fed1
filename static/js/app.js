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

  document.addEventListener("DOMContentLoaded", function () {
    wireFlashes(document);
    wirePasswords(document);
    startCountdowns(document);
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
