// Live countdowns for deadlines, filters that apply on change and a confirm dialog before
// destructive actions. Everything is bound here: the console's CSP allows no inline script.
(function () {
  "use strict";
  function fmt(seconds, overdue) {
    var late = seconds < 0, s = Math.abs(Math.floor(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    var text = (d ? d + "d " : "") + h + "h " + (m < 10 ? "0" : "") + m + "m";
    return late ? overdue + " " + text : text;
  }
  var nodes = document.querySelectorAll("[data-countdown]");
  if (nodes.length) {
    // Count from the server's clock so demo time travel shows the same time left.
    var skew = Date.parse(nodes[0].dataset.now) - Date.now();
    var tick = function () {
      nodes.forEach(function (el) {
        var left = (Date.parse(el.dataset.countdown) - (Date.now() + skew)) / 1000;
        el.textContent = fmt(left, el.dataset.overdue);
        el.classList.toggle("late", left < 0);
        el.classList.toggle("soon", left >= 0 && left < 6 * 3600);
      });
    };
    tick();
    setInterval(tick, 30000);
  }
  // Filters apply as soon as a choice changes (the page's CSP forbids inline handlers).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
    });
  });
})();
// Scanner screens (receiving): a barcode scanner types, then presses Enter. Keys typed while
// the cursor is elsewhere go to the scan input; Escape clears it; a form is sent once, so a
// scanner's double Enter does not count twice. The pages work without this.
(function () {
  "use strict";
  var input = document.querySelector("[data-scan-input]");
  if (!input) return;
  if (document.activeElement === input) input.select();
  document.addEventListener("keydown", function (ev) {
    var target = ev.target, tag = target && target.tagName;
    if (ev.key === "Escape" && target === input) { input.value = ""; return; }
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key.length === 1) input.focus();
  });
  document.querySelectorAll("form[data-scan], form[data-testid=asn-scan]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (form.dataset.sent) { ev.preventDefault(); return; }
      form.dataset.sent = "1";
    });
  });
})();
