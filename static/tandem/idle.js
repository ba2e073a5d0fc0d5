// Idle sessions (issue 13): warn before the 15-minute idle sign-out and offer "stay signed in";
// fill a form back in after the session had ended (what was typed is held on the server).
// No inline script, no storage in the browser.
(function () {
  "use strict";
  var body = document.body;
  var warnAfter = Number(body.dataset.idleWarn || 0) * 1000;
  var endAfter = Number(body.dataset.idleEnd || 0) * 1000;
  var dialog = document.getElementById("idle-warning");
  if (!warnAfter || !endAfter || !dialog) return;
  var form = dialog.querySelector("form[data-keepalive]");
  var left = dialog.querySelector("[data-idle-left]");
  var lastActivity = Date.now();
  var timer = null;

  function minutesText(ms) {
    var minutes = Math.max(1, Math.round(ms / 60000));
    return minutes === 1 ? "1 minute" : minutes + " minutes";
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(warn, warnAfter);
  }

  function warn() {
    var remaining = endAfter - (Date.now() - lastActivity);
    if (left) left.textContent = remaining < 60000 ? "less than a minute" : minutesText(remaining);
    if (!dialog.open) dialog.showModal();
    window.clearTimeout(timer);
    timer = window.setTimeout(ended, Math.max(0, remaining));
  }

  function ended() {
    // The server has ended the session by now; the next request will ask for a sign-in, and a
    // form posted from this page is held for the same user (clinic.middleware.HeldFormMiddleware).
    if (left) left.textContent = "a moment";
    var text = document.getElementById("idle-warning-text");
    if (text) text.textContent = "Your session has ended. Anything you save now is kept while you sign in again.";
  }

  // Every server round trip renews the session: restart the clock (full pages reload this file).
  document.body.addEventListener("htmx:afterRequest", function () {
    lastActivity = Date.now();
    schedule();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    }).then(function (response) {
      if (response.ok) {
        lastActivity = Date.now();
        dialog.close();
        schedule();
      } else {
        window.location.reload();
      }
    });
  });

  schedule();

  // A held form: fetch what the user typed (once) and put it back.
  var heldUrl = body.dataset.heldForm;
  if (heldUrl) {
    fetch(heldUrl, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (held) {
        if (!held || !held.fields) return;
        var names = Object.keys(held.fields);
        if (!names.length) return;
        var target = null;
        document.querySelectorAll("main form").forEach(function (candidate) {
          if (!target && candidate.elements.namedItem(names[0])) target = candidate;
        });
        if (!target) return;
        names.forEach(function (name) {
          var values = held.fields[name];
          var field = target.elements.namedItem(name);
          if (!field) return;
          var fields = field instanceof RadioNodeList ? Array.prototype.slice.call(field) : [field];
          fields.forEach(function (input) {
            if (input.type === "checkbox" || input.type === "radio") {
              input.checked = values.indexOf(input.value) !== -1;
            } else if (input.tagName === "SELECT" && input.multiple) {
              Array.prototype.forEach.call(input.options, function (option) {
                option.selected = values.indexOf(option.value) !== -1;
              });
            } else if (input.type !== "file") {
              input.value = values[0] || "";
            }
          });
        });
        var note = document.createElement("p");
        note.className = "flash flash-info";
        note.setAttribute("role", "status");
        note.textContent = "Your session had ended before this was saved. What you typed is filled back in: check it and save.";
        target.parentNode.insertBefore(note, target);
      });
  }
})();
