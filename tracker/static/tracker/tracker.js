/*
 * django-tracker's browser side: beacons, click tracking, stats, heat maps and
 * live counters. No dependencies and no inline script: configure it with
 * data- attributes on its own script tag ({% tracker_script %} writes them):
 *
 *   <script src=".../tracker.js" data-track-url="/tracker/track/"
 *           data-stats-url="/tracker/get_stats/"
 *           data-counts-url="/tracker/counts/" defer></script>
 *
 * API (window.tracker):
 *   tracker.track("label:category:dom_id|other")  -> true if a beacon left
 *   tracker.stats(["link1", "link2"], {days: 7})  -> Promise of
 *                                     {dom_id: {count, label, labels}}
 *   tracker.heatmap(container, {text: true})      -> Promise of the stats
 *   tracker.live()                                -> (re)start live counters
 *
 * Declarative:
 *   data-track="label[:category]"    counted on click; the dom id is the
 *                                    element's id (elements added later too)
 *   data-tracker-object="<token>"    one view of the object on page load
 *   data-tracker-heatmap             a container coloured on page load;
 *     data-tracker-heatmap-text="clicked {count} times" also writes counts
 *   data-tracker-live="<token>"      text refreshed from the counts URL, with
 *     data-tracker-interval (seconds), data-tracker-period and
 *     data-tracker-field ("count" or "uniques")
 */
(function () {
  "use strict";

  if (window.tracker && window.tracker.version) {
    return; // included twice: keep the first, or clicks would count twice
  }

  var script =
    document.currentScript || document.querySelector("script[data-track-url]");

  function setting(name, fallback) {
    var value = script && script.getAttribute(name);
    return value || fallback;
  }

  var config = {
    trackUrl: setting("data-track-url", "/track/"),
    statsUrl: setting("data-stats-url", "/get_stats/"),
    countsUrl: setting("data-counts-url", "/tracker/counts/"),
    // get_stats/ refuses more than TRACKER_STATS_MAX_DOM_IDS (200) at once.
    statsBatch: 100,
  };

  function each(list, callback) {
    Array.prototype.forEach.call(list, callback);
  }

  function unique(values) {
    var seen = Object.create(null);
    return values.filter(function (value) {
      if (typeof value !== "string" || !value || seen[value]) {
        return false;
      }
      seen[value] = true;
      return true;
    });
  }

  // --- Beacons --------------------------------------------------------------

  function send(fields) {
    // Never throws and never waits: a beacon outlives the page it leaves.
    try {
      var body = new URLSearchParams(fields);
      if (navigator.sendBeacon && navigator.sendBeacon(config.trackUrl, body)) {
        return true;
      }
      if (window.fetch) {
        window
          .fetch(config.trackUrl, {
            method: "POST",
            body: body,
            keepalive: true,
            credentials: "same-origin",
          })
          .catch(function () {});
        return true;
      }
    } catch (error) {
      // Counting must never break the page.
    }
    return false;
  }

  function track(query) {
    try {
      if (Array.isArray(query)) {
        query = query.join("|");
      }
      if (typeof query !== "string" || !query) {
        return false;
      }
      return send({ labels: query });
    } catch (error) {
      return false;
    }
  }

  // --- Declarative click tracking -------------------------------------------

  function queryOf(element) {
    var spec = element.getAttribute("data-track") || "";
    if (spec.indexOf("|") !== -1 || spec.split(":").length >= 3 || !element.id) {
      return spec; // several items, or a dom id given explicitly, or no id
    }
    var parts = spec.split(":");
    return parts[0] + ":" + (parts[1] || "") + ":" + element.id;
  }

  function domIdOf(element) {
    if (element.id) {
      return element.id;
    }
    var parts = (element.getAttribute("data-track") || "").split(":");
    return parts.length >= 3 ? parts[2] : "";
  }

  function onClick(event) {
    if (event.type === "auxclick" && event.button !== 1) {
      return; // only the middle button opens a link, in a new tab
    }
    var target = event.target;
    if (target && target.nodeType !== 1) {
      target = target.parentElement;
    }
    var element = target && target.closest && target.closest("[data-track]");
    if (element) {
      track(queryOf(element));
    }
  }

  // Delegated on the document, in the capture phase: elements added later are
  // tracked, and a handler that stops propagation does not hide the click.
  document.addEventListener("click", onClick, true);
  document.addEventListener("auxclick", onClick, true);

  // --- Stats and heat maps --------------------------------------------------

  function getJson(url) {
    return window
      .fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("tracker: " + url + " answered " + response.status);
        }
        return response.json();
      });
  }

  function stats(domIds, options) {
    options = options || {};
    var ids = unique(Array.prototype.slice.call(domIds || []));
    var requests = [];
    for (var start = 0; start < ids.length; start += config.statsBatch) {
      var params = new URLSearchParams({
        dom_ids: ids.slice(start, start + config.statsBatch).join("|"),
      });
      if (options.day) {
        params.set("day", options.day);
      }
      if (options.days) {
        params.set("days", String(options.days));
      }
      requests.push(getJson(config.statsUrl + "?" + params.toString()));
    }
    return Promise.all(requests).then(function (answers) {
      var found = {};
      answers.forEach(function (rows) {
        rows.forEach(function (row) {
          var domId = row[0];
          var count = row[1];
          var label = row[2];
          var entry = found[domId];
          if (!entry) {
            entry = found[domId] = { count: 0, label: label, labels: {} };
          }
          entry.count += count;
          entry.labels[label] = (entry.labels[label] || 0) + count;
          if (entry.labels[label] > entry.labels[entry.label]) {
            entry.label = label; // the label counted most on that element
          }
        });
      });
      return found;
    });
  }

  function heatColour(heat) {
    // Blue (cold, hue 240) to red (hot, hue 0).
    var hue = Math.round(240 * (1 - heat));
    return "hsl(" + hue + ", 80%, " + Math.round(80 - 25 * heat) + "%)";
  }

  function clickedText(count) {
    return "clicked " + count + (count === 1 ? " time" : " times");
  }

  function writeText(element, count, text) {
    var content;
    if (typeof text === "function") {
      content = text(count);
    } else if (typeof text === "string") {
      content = text.replace("{count}", String(count));
    } else {
      content = clickedText(count);
    }
    var holder = element.querySelector(".tracker-count");
    if (!holder) {
      holder = document.createElement("span");
      holder.className = "tracker-count";
      element.appendChild(document.createTextNode(" "));
      element.appendChild(holder);
    }
    holder.textContent = content; // text, never markup
  }

  function heatmap(container, options) {
    options = options || {};
    if (typeof container === "string") {
      container = document.querySelector(container);
    }
    if (!container) {
      return Promise.resolve({});
    }
    var selector =
      options.selector ||
      container.getAttribute("data-tracker-heatmap-selector") ||
      "[data-track]";
    var elements = Array.prototype.filter.call(
      container.querySelectorAll(selector),
      domIdOf
    );
    return stats(elements.map(domIdOf), options).then(function (found) {
      var most = 0;
      elements.forEach(function (element) {
        most = Math.max(most, (found[domIdOf(element)] || {}).count || 0);
      });
      elements.forEach(function (element) {
        var count = (found[domIdOf(element)] || {}).count || 0;
        var heat = most ? count / most : 0;
        // CSSOM, not a style attribute: allowed under a strict CSP.
        element.style.backgroundColor = heatColour(heat);
        element.setAttribute("data-tracker-count", String(count));
        element.setAttribute("data-tracker-heat", heat.toFixed(2));
        if (options.text) {
          writeText(element, count, options.text);
        }
      });
      return found;
    });
  }

  // --- Object views ---------------------------------------------------------

  function sendObjectViews() {
    var sent = Object.create(null);
    each(document.querySelectorAll("[data-tracker-object]"), function (element) {
      var token = element.getAttribute("data-tracker-object");
      if (!token || sent[token] || element.hasAttribute("data-tracker-sent")) {
        return; // one view per object and page, even if tagged twice
      }
      sent[token] = true;
      element.setAttribute("data-tracker-sent", "");
      send({ object: token });
    });
  }

  // --- Live counters --------------------------------------------------------

  var liveTimer = null;
  var due = new WeakMap();

  function formatCount(value, format) {
    if (format !== "compact" || value < 1000) {
      return String(value);
    }
    var units = [
      [1e9, "B"],
      [1e6, "M"],
      [1e3, "K"],
    ];
    for (var i = 0; i < units.length; i++) {
      if (value >= units[i][0]) {
        var scaled = Math.floor((value / units[i][0]) * 10) / 10;
        return String(scaled).replace(/\.0$/, "") + units[i][1];
      }
    }
    return String(value);
  }

  function refresh(period, elements) {
    var tokens = unique(
      elements.map(function (element) {
        return element.getAttribute("data-tracker-live");
      })
    );
    var params = new URLSearchParams({ objects: tokens.join("|") });
    if (period) {
      params.set("period", period);
    }
    getJson(config.countsUrl + "?" + params.toString())
      .then(function (data) {
        var counts = (data && data.counts) || {};
        elements.forEach(function (element) {
          var entry = counts[element.getAttribute("data-tracker-live")];
          var field = element.getAttribute("data-tracker-field") || "count";
          var value = entry && entry[field];
          if (typeof value !== "number") {
            return;
          }
          element.textContent = formatCount(
            value,
            element.getAttribute("data-tracker-format")
          );
          element.setAttribute("data-tracker-value", String(value));
        });
      })
      .catch(function () {}); // the next tick tries again
  }

  function tick() {
    if (document.hidden) {
      return; // no polling from background tabs
    }
    var now = Date.now();
    var groups = Object.create(null);
    each(document.querySelectorAll("[data-tracker-live]"), function (element) {
      var seconds = parseFloat(element.getAttribute("data-tracker-interval"));
      var interval = Math.max(1, isFinite(seconds) ? seconds : 30) * 1000;
      if (!due.has(element)) {
        due.set(element, now + interval); // the page shows a fresh count already
        return;
      }
      if (due.get(element) > now) {
        return;
      }
      due.set(element, now + interval);
      var period = element.getAttribute("data-tracker-period") || "";
      (groups[period] = groups[period] || []).push(element);
    });
    Object.keys(groups).forEach(function (period) {
      // Bounded URLs: a few dozen tokens per request.
      for (var start = 0; start < groups[period].length; start += 40) {
        refresh(period, groups[period].slice(start, start + 40));
      }
    });
  }

  function live() {
    if (liveTimer === null) {
      liveTimer = window.setInterval(tick, 1000);
      tick();
    }
  }

  // --- Start ----------------------------------------------------------------

  function start() {
    sendObjectViews();
    each(document.querySelectorAll("[data-tracker-heatmap]"), function (element) {
      var text = element.hasAttribute("data-tracker-heatmap-text")
        ? element.getAttribute("data-tracker-heatmap-text") || true
        : false;
      heatmap(element, { text: text }).catch(function () {});
    });
    if (document.querySelector("[data-tracker-live]")) {
      live();
    }
  }

  window.tracker = {
    version: "1",
    config: config,
    track: track,
    stats: stats,
    heatmap: heatmap,
    live: live,
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
