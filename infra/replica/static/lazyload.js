/*
 * The replica's lazy-load script (written for the newsvault replica, standing in for a WordPress
 * lazy-load plugin): images carry their real address in data-src (and data-srcset) and a tiny
 * placeholder in src; once the page is parsed, every one of them gets its real image. All at
 * once, so a page looks the same whatever the window or the timing.
 */
(function (document) {
  "use strict";
  function reveal() {
    var images = document.querySelectorAll("img[data-src]");
    Array.prototype.forEach.call(images, function (img) {
      if (img.getAttribute("data-srcset")) {
        img.setAttribute("srcset", img.getAttribute("data-srcset"));
      }
      img.setAttribute("src", img.getAttribute("data-src"));
      img.classList.remove("lazy-hidden");
      img.classList.add("lazy-loaded");
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", reveal);
  } else {
    reveal();
  }
})(document);
