/* Settings → Checkout branding: the previews follow the inputs as they change. */
(function () {
  "use strict";

  var VARS = {
    primary: "--brand-primary",
    background: "--brand-background",
    card: "--brand-card",
    text: "--brand-text",
  };

  function update(theme, fieldset, preview) {
    Object.keys(VARS).forEach(function (key) {
      var input = fieldset.querySelector('[name="' + theme + "_" + key + '"]');
      if (input && /^#[0-9a-fA-F]{6}$/.test(input.value)) {
        preview.style.setProperty(VARS[key], input.value);
      }
    });
    var radius = fieldset.querySelector('[name="' + theme + '_radius"]');
    if (radius && radius.value !== "") {
      var px = Math.max(0, Math.min(16, parseInt(radius.value, 10) || 0));
      preview.style.setProperty("--brand-radius", px + "px");
    }
  }

  var dark = document.querySelector('[name="default_dark_mode"]');

  function markDefault() {
    document.querySelectorAll("[data-preview]").forEach(function (preview) {
      var isDefault = (preview.getAttribute("data-preview") === "dark") === Boolean(dark && dark.checked);
      preview.classList.toggle("is-default", isDefault);
    });
  }

  document.querySelectorAll("fieldset[data-theme]").forEach(function (fieldset) {
    var theme = fieldset.getAttribute("data-theme");
    var preview = document.querySelector('[data-preview="' + theme + '"]');
    if (!preview) {
      return;
    }
    fieldset.addEventListener("input", function () {
      update(theme, fieldset, preview);
    });
    fieldset.addEventListener("change", function () {
      update(theme, fieldset, preview);
    });
    update(theme, fieldset, preview);
  });
  if (dark) {
    dark.addEventListener("change", markDefault);
    markDefault();
  }
})();
