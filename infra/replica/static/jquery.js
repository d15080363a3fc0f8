/*
 * The replica's stand-in for /wp-includes/js/jquery/jquery.js (written for the newsvault
 * replica; not jQuery). Themes load it first; this one only offers what the replica's theme
 * scripts use: $(fn) runs fn once the document is parsed, $(selector) lists matching elements.
 */
(function (window, document) {
  "use strict";
  function $(arg) {
    if (typeof arg === "function") {
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", arg);
      } else {
        arg();
      }
      return [];
    }
    return Array.prototype.slice.call(document.querySelectorAll(arg));
  }
  $.fn = {};
  window.jQuery = window.$ = $;
})(window, document);
