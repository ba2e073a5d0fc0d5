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
