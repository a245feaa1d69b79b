// Live countdowns for deadlines, filters that apply on change and a confirm dialog before
// destructive actions. Everything is bound here: the console's CSP allows no inline script.
(function () {
  "use strict";
  // The words come with each countdown, in the page's language (data-days "{d}天{h}小时",
  // data-due "还剩 {span}", ...), the same the server wrote before this script ran.
  function fill(pattern, parts) {
    return String(pattern || "").replace(/\{(\w+)\}/g, function (_, name) {
      return name in parts ? String(parts[name]) : "";
    });
  }
  function words(el, seconds) {
    var s = Math.abs(Math.trunc(seconds)), minutes = Math.floor(s / 60);
    var parts = { d: Math.floor(minutes / 1440), h: Math.floor((minutes % 1440) / 60), m: minutes % 60 };
    var pattern = parts.d ? el.dataset.days : parts.h ? el.dataset.hours : el.dataset.minutes;
    var span = fill(pattern, parts);
    return fill(seconds < 0 ? el.dataset.late : el.dataset.due, { span: span });
  }
  var nodes = document.querySelectorAll("[data-countdown]");
  if (nodes.length) {
    // Count from the server's clock so demo time travel shows the same time left.
    var skew = Date.parse(nodes[0].dataset.now) - Date.now();
    var tick = function () {
      nodes.forEach(function (el) {
        var left = (Date.parse(el.dataset.countdown) - (Date.now() + skew)) / 1000;
        if (el.dataset.days) el.textContent = words(el, left);
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
// The header's "More" menu (a <details>): on a desk console.css shows its links flat; where a
// browser cannot style ::details-content it is opened here instead. On a phone it closes on a
// click outside it or on Escape.
(function () {
  "use strict";
  var menu = document.querySelector("details[data-menu]");
  if (!menu || !window.matchMedia) return;
  var desk = window.matchMedia("(min-width: 761px)");
  var flat = window.CSS && CSS.supports && CSS.supports("selector(::details-content)");
  function sync() { if (!flat) menu.open = desk.matches; }
  sync();
  if (desk.addEventListener) desk.addEventListener("change", sync);
  document.addEventListener("click", function (ev) {
    if (menu.open && !desk.matches && !menu.contains(ev.target)) menu.open = false;
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && menu.open && !desk.matches) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
})();
