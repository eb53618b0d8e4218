/* Products pages: copy purchase links, the name counter, the Markdown preview, price rows and
   the pricing-type switch. Every form also works without this script. */
(function () {
  "use strict";

  /* --- copy links ------------------------------------------------------------------------- */

  function copyText(value) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(value);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = value;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (err) {
        ok = false;
      }
      document.body.removeChild(area);
      if (ok) {
        resolve();
      } else {
        reject(new Error("copy failed"));
      }
    });
  }

  function showFallback(button, link) {
    var selector = button.getAttribute("data-fallback-input");
    var input = selector ? document.querySelector(selector) : null;
    if (!input) {
      input = button.parentNode.querySelector(".copy-fallback");
    }
    if (!input) {
      var label = document.createElement("label");
      label.className = "copy-fallback-label";
      label.textContent = button.getAttribute("data-copy-failed") || "";
      input = document.createElement("input");
      input.type = "text";
      input.readOnly = true;
      input.className = "copy-fallback mono";
      input.value = link;
      label.appendChild(input);
      button.parentNode.insertBefore(label, button.nextSibling);
    }
    input.focus();
    input.select();
  }

  document.querySelectorAll("[data-copy-link]").forEach(function (button) {
    var link = button.getAttribute("data-copy-link");
    var label = button.innerHTML;
    button.hidden = false;
    var fallback = button.parentNode.querySelector(".link-fallback");
    if (fallback) {
      fallback.hidden = true;
    }
    button.addEventListener("click", function () {
      copyText(link).then(
        function () {
          button.textContent = button.getAttribute("data-copied") || "✓";
          window.setTimeout(function () {
            button.innerHTML = label;
          }, 2000);
        },
        function () {
          showFallback(button, link);
        }
      );
    });
  });

  /* --- name counter ----------------------------------------------------------------------- */

  document.querySelectorAll("[data-counter-for]").forEach(function (counter) {
    var input = document.getElementById(counter.getAttribute("data-counter-for"));
    if (!input) {
      return;
    }
    var max = input.getAttribute("data-counter") || input.maxLength;
    function update() {
      counter.textContent = input.value.length + "/" + max;
    }
    input.addEventListener("input", update);
    update();
  });

  var form = document.getElementById("product-form");
  if (!form) {
    return;
  }

  /* --- Markdown preview ------------------------------------------------------------------- */

  var description = form.querySelector('textarea[name="description"]');
  var preview = document.getElementById("description-preview");
  var previewUrl = form.getAttribute("data-preview-url");
  var csrf = form.querySelector('input[name="csrfmiddlewaretoken"]');
  if (description && preview && previewUrl && csrf) {
    var timer = null;
    var sequence = 0;
    var render = function () {
      var mine = ++sequence;
      var body = new FormData();
      body.append("text", description.value);
      fetch(previewUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf.value },
      })
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html === null || mine !== sequence) {
            return;
          }
          if (html.trim()) {
            preview.innerHTML = html; // rendered and sanitised by the server (nh3)
          } else {
            preview.innerHTML = "";
            var empty = document.createElement("p");
            empty.className = "muted";
            empty.textContent = preview.getAttribute("data-empty") || "";
            preview.appendChild(empty);
          }
        })
        .catch(function () {
          /* the preview is a convenience; the saved page is rendered on the server */
        });
    };
    description.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(render, 250);
    });
  }

  /* --- price rows ------------------------------------------------------------------------- */

  var rows = form.querySelector("[data-price-rows]");
  var template = document.getElementById("price-row-template");
  var addButton = form.querySelector("[data-add-price]");

  function priceRows() {
    return Array.prototype.slice.call(rows.querySelectorAll("[data-price-row]"));
  }

  function isBlank(row) {
    var filled = Array.prototype.some.call(
      row.querySelectorAll('select[name$="-currency"], input[type="text"]'),
      function (input) {
        return input.value.trim() !== "";
      }
    );
    return !filled && !row.querySelector(".errorlist");
  }

  function renumber() {
    var legendFormat = rows.getAttribute("data-legend-format") || "__number__";
    var removeFormat = rows.getAttribute("data-remove-format") || "__number__";
    var all = priceRows();
    all.forEach(function (row, index) {
      var number = String(index + 1);
      var legend = row.querySelector("[data-price-legend]");
      if (legend) {
        legend.textContent = legendFormat.replace("__number__", number);
      }
      var removeLabel = row.querySelector("[data-price-remove-label]");
      if (removeLabel) {
        removeLabel.textContent = " " + removeFormat.replace("__number__", number);
      }
      var remove = row.querySelector("[data-remove-price]");
      if (remove) {
        remove.hidden = all.length < 2;
      }
    });
  }

  function wireRow(row) {
    var remove = row.querySelector("[data-remove-price]");
    if (!remove) {
      return;
    }
    remove.addEventListener("click", function () {
      var all = priceRows();
      var index = all.indexOf(row);
      row.parentNode.removeChild(row);
      renumber();
      var rest = priceRows();
      var focus = rest[Math.min(index, rest.length - 1)];
      if (focus) {
        focus.querySelector("select, input").focus();
      } else if (addButton) {
        addButton.focus();
      }
    });
  }

  function addRow() {
    var index = parseInt(rows.getAttribute("data-next-index"), 10) || 0;
    rows.setAttribute("data-next-index", String(index + 1));
    var html = template.innerHTML.split("__prefix__").join(String(index));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.querySelector("[data-price-row]");
    rows.appendChild(row);
    wireRow(row);
    renumber();
    applyKind();
    return row;
  }

  if (rows && template && addButton) {
    // Without this script the page offers blank rows to fill in; with it, one is enough.
    var all = priceRows();
    all.slice(1).forEach(function (row) {
      if (isBlank(row)) {
        row.parentNode.removeChild(row);
      }
    });
    priceRows().forEach(wireRow);
    renumber();
    addButton.hidden = false;
    addButton.addEventListener("click", function () {
      var row = addRow();
      row.querySelector("select").focus();
    });
  }

  /* --- pricing type ----------------------------------------------------------------------- */

  var kindInputs = form.querySelectorAll('input[name="kind"]');

  function applyKind() {
    if (!kindInputs.length) {
      return;
    }
    var checked = form.querySelector('input[name="kind"]:checked');
    var subscription = checked && checked.value === "subscription";
    form.querySelectorAll('[data-kind-only="subscription"]').forEach(function (section) {
      section.hidden = !subscription;
    });
  }

  kindInputs.forEach(function (input) {
    input.addEventListener("change", applyKind);
  });
  applyKind();
})();
