// The menu button of narrow screens: shows and hides the navigation and account links.
// Without script the links are always shown (the button and the collapse need both).
(function () {
  "use strict";
  var toggle = document.querySelector(".nav-toggle");
  if (!toggle) { return; }
  function setOpen(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    document.body.classList.toggle("nav-open", open);
  }
  toggle.addEventListener("click", function () {
    setOpen(toggle.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      toggle.focus();
    }
  });
})();
