// IDBx dashboard: draws each page's charts with Vega-Embed (the bundle loaded before this file)
// and makes tables with class "sortable" sortable by their column headings.
(function () {
  "use strict";
  var options = document.getElementById("vega-options");
  options = options && JSON.parse(options.textContent);

  document.querySelectorAll(".chart[data-spec]").forEach(function (box) {
    var spec = JSON.parse(document.getElementById(box.getAttribute("data-spec")).textContent);
    vegaEmbed(box, spec, options).catch(function (error) {
      box.textContent = String(error);
      console.error(error);
    });
  });

  function cellValue(row, column, numeric) {
    var value = row.cells[column].getAttribute("data-value");
    if (!numeric) return value;
    return value === "" ? -Infinity : Number(value);
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headings = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headings, function (heading, column) {
      heading.querySelector("button").addEventListener("click", function () {
        var numeric = heading.getAttribute("data-type") === "number";
        var ascending = heading.getAttribute("aria-sort") !== "ascending";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, column, numeric), y = cellValue(b, column, numeric);
          var order = numeric ? (x === y ? 0 : (x < y ? -1 : 1)) : String(x).localeCompare(String(y), document.documentElement.lang);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
        Array.prototype.forEach.call(headings, function (other) { other.setAttribute("aria-sort", "none"); });
        heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      });
    });
  });
})();
