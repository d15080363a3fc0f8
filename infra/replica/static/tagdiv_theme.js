/*
 * The replica's theme script (written for the newsvault replica, standing in for tagDiv's
 * tagdiv_theme.min.js): opens and closes the mobile menu and the header search box, and shows
 * the scroll-up button once the reader has scrolled. Nothing here runs on a timer.
 */
(function (window, document, $) {
  "use strict";
  function toggle(el, name) {
    el.classList.toggle(name);
  }
  function on(selector, handler) {
    $(selector).forEach(function (el) {
      el.addEventListener("click", function (event) {
        event.preventDefault();
        handler(el);
      });
    });
  }
  $(function () {
    on("#td-top-mobile-toggle a", function () {
      toggle(document.body, "td-menu-mob-open-menu");
    });
    on(".td-mobile-close a", function () {
      document.body.classList.remove("td-menu-mob-open-menu");
    });
    on("#td-header-search-button", function () {
      $(".td-drop-down-search").forEach(function (box) {
        toggle(box, "td-drop-down-search-open");
      });
    });
    var up = $(".td-scroll-up")[0];
    if (up) {
      window.addEventListener("scroll", function () {
        up.classList.toggle("td-scroll-up-visible", window.pageYOffset > 400);
      });
      up.addEventListener("click", function () {
        window.scrollTo(0, 0);
      });
    }
  });
})(window, document, window.jQuery);
