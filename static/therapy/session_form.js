// Session log form: Ctrl+Enter (Cmd+Enter on a Mac) saves from any field, so a therapist
// can log a session without leaving the keyboard. The form works without this script.
(function () {
  "use strict";
  var form = document.getElementById("session-form");
  if (!form) { return; }
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();

// A missed session (no-show, late cancel, cancelled) shows only what it needs: date, attendance,
// a note, the risk check and the private note (issue 16 item 9). The server ignores the hidden
// parts for a missed session, so nothing hidden is saved.
(function () {
  "use strict";
  var form = document.getElementById("session-form");
  if (!form) { return; }
  function update() {
    var checked = form.querySelector("input[name=attendance]:checked");
    var missed = checked && checked.value !== "attended";
    form.querySelectorAll("[data-attended-only]").forEach(function (part) { part.hidden = missed; });
    form.querySelectorAll("[data-missed-only]").forEach(function (part) { part.hidden = !missed; });
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "attendance") { update(); }
  });
  update();
})();
