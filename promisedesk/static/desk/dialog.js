/* promisedesk dialogs: an element with data-dialog="ID" loads its content with htmx into the dialog
   #ID, which then opens as a modal (focus moves into it, Escape closes it, the page behind is inert).
   [data-close-dialog] closes the dialog it is in. Without script the opener is an ordinary link.
   In the logging form, typing a new customer's details unchooses a customer picked from the list. */
(function () {
  "use strict";

  // After settling, not swapping: htmx wires up the new content (the live search) when it settles.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    var dialog = target && target.closest ? target.closest("dialog") : null;
    if (!dialog || !event.detail.requestConfig) return;
    var opener = event.detail.requestConfig.elt;
    if (!opener || opener.getAttribute("data-dialog") !== dialog.id) return;
    if (!dialog.open) dialog.showModal();
    var first = dialog.querySelector("[autofocus]") || dialog.querySelector("input, select, textarea, button");
    if (first) first.focus();
  });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      var dialog = closer.closest("dialog");
      if (dialog) dialog.close();
    }
  });

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field.name || field.name.indexOf("new_") !== 0) return;
    var form = field.form;
    if (!form) return;
    var chosen = form.querySelectorAll('input[name="customer"]:checked');
    for (var i = 0; i < chosen.length; i++) chosen[i].checked = false;
  });
})();
