/* Copy buttons: <button data-copy="#selector"> copies that element's value or text. */
(function () {
  "use strict";

  function copyText(value) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(value);
    }
    var area = document.createElement("textarea");
    area.value = value;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    try {
      document.execCommand("copy");
    } finally {
      document.body.removeChild(area);
    }
    return Promise.resolve();
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target) {
      return;
    }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var value = "value" in target && target.tagName !== "PRE" ? target.value : target.textContent;
      copyText(value).then(
        function () {
          button.textContent = button.getAttribute("data-copied") || "✓";
          window.setTimeout(function () {
            button.textContent = label;
          }, 2000);
        },
        function () {
          if (target.select) {
            target.select();
          }
        }
      );
    });
  });
})();
