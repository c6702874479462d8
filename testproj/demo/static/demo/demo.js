/* The demo's page glue, in a file so that the pages need no inline script. */
(function () {
  "use strict";

  function showHeatmap() {
    var status = document.getElementById("heatmap-status");
    window.tracker
      .heatmap("#tracked-links", { text: true })
      .then(function (found) {
        status.textContent =
          "Heat map of " + Object.keys(found).length + " clicked link(s).";
      })
      .catch(function (error) {
        status.textContent = String(error);
      });
  }

  function addLink() {
    var links = document.getElementById("tracked-links");
    var number = links.querySelectorAll("a").length + 1;
    var link = document.createElement("a");
    link.href = "#" + number;
    link.id = "link" + number;
    link.setAttribute("data-track", "tracked-links-link" + number + ":links");
    link.textContent = "Test link " + number;
    links.appendChild(link);
  }

  function fold(event) {
    var form = event.target;
    var result = form.querySelector("[data-demo-fold-result]");
    event.preventDefault();
    result.textContent = "Folding…";
    window
      .fetch(form.action, {
        method: "POST",
        body: new FormData(form), // carries the CSRF token
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
      .then(function (response) {
        return response.json();
      })
      .then(function (summary) {
        result.textContent = summary.error
          ? summary.error
          : "Folded " +
            summary.increments_moved +
            " increment(s) from " +
            summary.counters_read +
            " counter(s): " +
            summary.rows_created +
            " row(s) created, " +
            summary.rows_updated +
            " updated.";
      })
      .catch(function (error) {
        result.textContent = String(error);
      });
  }

  function start() {
    var show = document.getElementById("show-heatmap");
    if (show) {
      show.addEventListener("click", showHeatmap);
    }
    var add = document.getElementById("add-link");
    if (add) {
      add.addEventListener("click", addLink);
    }
    document.querySelectorAll("form[data-demo-fold]").forEach(function (form) {
      form.addEventListener("submit", fold);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
