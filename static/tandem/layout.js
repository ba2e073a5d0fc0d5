// Phone and tablet layout (issue 16 item 7), as progressive enhancement: without this
// script the header wraps and tables scroll; with it the header collapses behind a
// Menu button and data tables turn into labelled cards on narrow screens (layout.css).
// No inline script (CSP), no storage.
(function () {
  "use strict";

  function setUpMenu() {
    var nav = document.querySelector(".site-header nav");
    var button = nav && nav.querySelector(".nav-toggle");
    var menu = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) return;
    // The unread count stays visible while the menu is closed.
    var count = menu.querySelector(".badge-count");
    if (count) {
      var copy = button.appendChild(count.cloneNode(true));
      copy.removeAttribute("id");  // one #inbox-badge on the page: htmx updates that one
      copy.setAttribute("aria-hidden", "true");
    }
    nav.classList.add("has-toggle");
    button.hidden = false;
    function close() {
      nav.classList.remove("nav-open");
      button.setAttribute("aria-expanded", "false");
    }
    button.addEventListener("click", function () {
      var open = !nav.classList.contains("nav-open");
      nav.classList.toggle("nav-open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("nav-open")) {
        close();
        button.focus();
      }
    });
  }

  // Each body cell learns its column's header, so a card can say "Status: Overdue".
  function labelTable(table) {
    var headRow = table.tHead && table.tHead.rows[0];
    if (!headRow || table.classList.contains("no-cards")) return;
    var labels = [];
    Array.prototype.forEach.call(headRow.cells, function (cell) {
      var text = cell.textContent.replace(/\s+/g, " ").trim();
      for (var i = 0; i < (cell.colSpan || 1); i++) labels.push(text);
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (labels[column]) cell.setAttribute("data-label", labels[column]);
          column += cell.colSpan || 1;
        });
      });
    });
    table.classList.add("cards-ready");
  }

  function labelTables(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("main table"), labelTable);
  }

  setUpMenu();
  labelTables(document);
  // Rows that htmx swaps in (inbox, reports) get their labels too.
  document.body.addEventListener("htmx:afterSettle", function (event) {
    labelTables(event.target.closest ? event.target.closest("main") || document : document);
  });
})();
