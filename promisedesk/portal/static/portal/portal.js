/* The customer's case page: live countdowns and one submit per tap.
   Countdowns run on the server's clock: [data-server-now] says what time the server thought it
   was when it rendered, so a phone with a wrong clock still shows the right time left. */
(function () {
  "use strict";

  var offset = 0;
  var daysText = "%(days)d d";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function format(ms) {
    var total = Math.floor(Math.abs(ms) / 1000);
    var days = Math.floor(total / 86400);
    var hours = Math.floor((total % 86400) / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var clock = hours + ":" + pad(minutes) + ":" + pad(total % 60);
    return days ? daysText.replace("%(days)d", String(days)) + " " + clock : clock;
  }

  function tick() {
    var now = Date.now() + offset;
    var clocks = document.querySelectorAll("[data-due]");
    for (var i = 0; i < clocks.length; i++) {
      var el = clocks[i];
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) continue;
      var left = due - now;
      var shown = el.querySelector(".left");
      var text = format(left);
      if (shown && shown.textContent !== text) shown.textContent = text;
      var label = el.querySelector(".label");
      var words = el.getAttribute(left < 0 ? "data-over-label" : "data-left-label");
      if (label && words && label.textContent !== words) label.textContent = words;
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 15 * 60 * 1000);
    }
  }

  function oneSubmitPerTap() {
    var forms = document.querySelectorAll("form[method=post]");
    for (var i = 0; i < forms.length; i++) {
      forms[i].addEventListener("submit", function (event) {
        var form = event.currentTarget;
        if (form.dataset.sent) { event.preventDefault(); return; }
        form.dataset.sent = "1";
        var button = form.querySelector("button[type=submit]");
        if (button) setTimeout(function () { button.disabled = true; }, 0);
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var anchor = document.querySelector("[data-server-now]");
    if (anchor) {
      var server = Date.parse(anchor.getAttribute("data-server-now"));
      if (!isNaN(server)) offset = server - Date.now();
      daysText = anchor.getAttribute("data-days") || daysText;
    }
    oneSubmitPerTap();
    tick();
    setInterval(tick, 1000);
  });
})();
