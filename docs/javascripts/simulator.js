/* The dropout simulator (docs/simulator.md): every combination of the controls was
 * rendered at build time and listed in <script id="df-sim-data">; this only swaps
 * texts, image sources and alt texts. No network, works from file://. */
(function () {
  "use strict";

  function setup() {
    var root = document.getElementById("df-sim");
    var blob = document.getElementById("df-sim-data");
    if (!root || !blob || root.dataset.ready) {
      return;
    }
    root.dataset.ready = "1";
    var data = JSON.parse(blob.textContent);
    var selects = data.keys.map(function (name) {
      return root.querySelector('select[name="' + name + '"]');
    });

    function update() {
      var key = selects
        .map(function (s) {
          return s.value;
        })
        .join("|");
      var combo = data.combos[key];
      if (!combo) {
        return;
      }
      root.querySelectorAll("[data-sim-field]").forEach(function (el) {
        el.textContent = combo.numbers[el.dataset.simField];
      });
      root.querySelectorAll("img[data-sim-img]").forEach(function (img) {
        var fig = combo[img.dataset.simImg];
        if (img.getAttribute("src") !== fig.src) {
          img.src = fig.src;
        }
        img.alt = fig.alt;
      });
      root.dataset.state = key;
    }

    selects.forEach(function (s) {
      s.addEventListener("change", update);
    });
    // The browser may restore earlier choices on reload: show what they select.
    update();
  }

  if (typeof document$ !== "undefined" && document$.subscribe) {
    document$.subscribe(setup);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
