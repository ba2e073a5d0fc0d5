// Forms (issue 16 item 9), loaded on every page; no inline script (CSP).
// 1. After a failed submit the page comes back with an error summary: focus moves there, so a
//    keyboard or screen-reader user lands on what went wrong (the summary links to each field).
//    The same after an htmx swap that brings a summary in.
// 2. A form marked data-confirm asks first (the browser's own dialog: Enter / Escape work).
//    Without this script the form posts at once; its action can then be undone.
(function () {
  "use strict";

  function focusSummary(root) {
    var summary = (root || document).querySelector("[data-error-summary]");
    if (!summary) { return; }
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }

  focusSummary(document);

  // After an htmx row swap the clicked button is gone: put focus on the row's undo offer, else on
  // the row's first button, so the keyboard user stays where they were.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    var swapped = (target && target.id && document.getElementById(target.id)) || event.target;
    if (swapped.querySelector("[data-error-summary]")) { focusSummary(swapped); return; }
    if (document.activeElement && document.activeElement !== document.body && document.contains(document.activeElement)) { return; }
    var next = swapped.querySelector("[data-undo]") || swapped.querySelector("[role=alert]") || swapped.querySelector("button, a[href]");
    if (next) {
      if (!next.matches("button, a[href]")) { next.setAttribute("tabindex", "-1"); }
      next.focus();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
