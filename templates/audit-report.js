// Filters for `jit audit --format html`: person, resource and a date range hide the grants (bars,
// marks and table rows) that do not match. The page reads the same without this script; the
// filter form is only shown once it runs.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) return;
  var field = function (name) { return form.elements.namedItem(name); };
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-grant]"));
  var lanes = Array.prototype.slice.call(document.querySelectorAll("[data-lane]"));
  var shown = document.getElementById("shown");
  var total = document.querySelectorAll("tbody tr[data-grant]").length;
  var DAY = 86400000;
  var day = function (value, plus) { return value ? Date.parse(value + "T00:00:00Z") + plus : NaN; };

  function apply() {
    var person = field("person").value;
    var resource = field("resource").value;
    var from = day(field("from").value, 0);
    var to = day(field("to").value, DAY);
    var count = 0;
    items.forEach(function (el) {
      var d = el.dataset;
      var ok = (!person || d.person === person) && (!resource || d.resource === resource) &&
        (isNaN(from) || Number(d.to) >= from) && (isNaN(to) || Number(d.from) < to);
      el.classList.toggle("off", !ok);
      if (ok && el.tagName === "TR") count++;
    });
    lanes.forEach(function (lane) { lane.classList.toggle("off", !lane.querySelector("[data-grant]:not(.off)")); });
    shown.textContent = count + " of " + total + " grants shown";
  }

  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("reset", function () { setTimeout(apply, 0); });
  form.hidden = false;
  apply();
})();
