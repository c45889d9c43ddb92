/* promisedesk countdowns: every element with data-due="ISO time" shows the time left (H:MM:SS),
   with a minus sign and the "overdue" class once the time has passed.
   Time is measured on the server's clock: the nearest [data-server-now] container says what
   time the server thought it was when it rendered, so a wrong clock on this machine does not
   show a wrong countdown. Containers swapped in by htmx bring their own server time. */
(function () {
  "use strict";

  function offsetFor(container) {
    if (!container) return 0;
    if (container.pdOffset === undefined) {
      var server = Date.parse(container.getAttribute("data-server-now"));
      container.pdOffset = isNaN(server) ? 0 : server - Date.now();
    }
    return container.pdOffset;
  }

  function format(ms) {
    var sign = ms < 0 ? "\u2212" : "";
    var total = Math.floor(Math.abs(ms) / 1000);
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var seconds = total % 60;
    return sign + hours + ":" + (minutes < 10 ? "0" : "") + minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
  }

  function tick() {
    var now = Date.now();
    var clocks = document.querySelectorAll("[data-due]");
    for (var i = 0; i < clocks.length; i++) {
      var el = clocks[i];
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) continue;
      var left = due - (now + offsetFor(el.closest("[data-server-now]")));
      var text = format(left);
      if (el.textContent !== text) el.textContent = text;
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 15 * 60 * 1000);
    }
  }

  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSettle", tick);
  setInterval(tick, 1000);
})();
