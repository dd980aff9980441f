/* Click (or Enter on) a figure in the page to see it full size; Escape, a click or
 * the close button closes it. A native <dialog>, no library, works from file://. */
(function () {
  "use strict";

  var dialog = null;

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "df-zoom";
    dialog.setAttribute("aria-label", "Enlarged figure");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "df-zoom__close";
    close.setAttribute("aria-label", "Close the enlarged figure");
    close.textContent = "\u00d7";
    var img = document.createElement("img");
    img.className = "df-zoom__img";
    img.alt = "";
    dialog.appendChild(close);
    dialog.appendChild(img);
    dialog.addEventListener("click", function () {
      dialog.close();
    });
    document.body.appendChild(dialog);
    return dialog;
  }

  function open(source) {
    var d = dialog || build();
    var img = d.querySelector("img");
    img.src = source.currentSrc || source.src;
    img.alt = source.alt;
    d.showModal();
    d.querySelector("button").focus();
  }

  function zoomable(img) {
    // Skip images inside links (the link wins), the logo and tiny icons.
    return (
      img.closest(".md-content") !== null &&
      img.closest("a") === null &&
      !img.classList.contains("df-nozoom")
    );
  }

  function setup() {
    document.querySelectorAll(".md-content img").forEach(function (img) {
      if (!zoomable(img) || img.dataset.dfZoom) {
        return;
      }
      img.dataset.dfZoom = "1";
      img.classList.add("df-zoomable");
      img.tabIndex = 0;
      img.setAttribute("role", "button");
      img.title = "Click to enlarge";
      img.addEventListener("click", function () {
        open(img);
      });
      img.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          open(img);
        }
      });
    });
  }

  if (typeof document$ !== "undefined" && document$.subscribe) {
    document$.subscribe(setup);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
