// The hosted checkout's one script. The page works without it; with it:
// 1. an authenticated link's #token=<buyer session token> (the SDK's checkout.authenticated.create)
//    is sent once, so the buyer identity is bound to this session, then dropped from the address bar;
// 2. step 1 shows only the fields the chosen country needs;
// 3. the order summary's tax and total follow the country, state, postcode and VAT number;
//    the tax ID's label and example follow the country; a field's error clears as it is corrected;
// 4. "processing your payment" asks in the background whether the payment has been settled and
//    moves on once it has, instead of reloading itself every few seconds (a timed refresh, the
//    fallback without script, interrupts screen readers and keyboard users).
(function () {
  "use strict";

  var root = document.querySelector("[data-checkout]");

  function bindToken() {
    var match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
    if (!match || !root) return;
    var token = decodeURIComponent(match[1]);
    history.replaceState(null, "", window.location.pathname + window.location.search);
    fetch(root.dataset.bindUrl, {
      method: "POST",
      headers: {
        Authorization: "Bearer " + token,
        "X-Environment": root.dataset.environment,
        "Content-Type": "application/json",
      },
      body: "{}",
      credentials: "omit",
    }).then(function (response) {
      document.body.dataset.buyerBound = response.ok ? "true" : "false";
      if (!response.ok) return null;
      return response.json();
    }).then(function (payload) {
      var email = payload && payload.data && payload.data.buyerEmail;
      var input = document.getElementById("id_email");
      if (email && input) {
        input.value = email;
        input.readOnly = true;
      }
    }, function () {
      document.body.dataset.buyerBound = "false";
    });
  }

  function list(value) {
    return (value || "").split(",").filter(Boolean);
  }

  function setupDetails(form) {
    var eu = list(form.dataset.eu);
    var postcode = list(form.dataset.postcode);
    var stateCountries = list(form.dataset.state);
    var country = form.querySelector("[name=country]");
    var state = form.querySelector("[name=state]");
    var business = form.querySelector("[name=is_business]");
    var summary = document.querySelector("[data-summary]");
    var timer = null;
    var latest = 0;
    var taxLabels = {};
    try {
      taxLabels = JSON.parse(form.dataset.taxLabels || "{}");
    } catch (e) { /* the server-rendered label stays */ }

    // The tax ID is called what the buyer's country calls it (USt-IdNr., N° TVA …), with an
    // example of its format as the placeholder.
    function taxLabel() {
      var input = form.querySelector("[name=tax_id]");
      var label = input && form.querySelector('label[for="' + input.id + '"]');
      if (!label) return;
      var entry = taxLabels[country.value];
      label.textContent = entry ? entry[0] : form.dataset.taxLabelDefault;
      if (entry && entry[1]) {
        input.placeholder = entry[1];
      } else {
        input.removeAttribute("placeholder");
      }
    }

    // A field being corrected drops the server's error for it (and its aria-invalid); the
    // server checks it again on submit.
    function clearError(input) {
      if (!input || !input.id) return;
      var errorId = input.id + "_error";
      var error = document.getElementById(errorId);
      if (error) error.remove();
      var next = input.nextElementSibling;
      if (next && next.hasAttribute("data-live-error")) next.remove();
      input.removeAttribute("aria-invalid");
      input.removeAttribute("data-live-invalid");
      var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
        return id && id !== errorId;
      });
      if (described.length) {
        input.setAttribute("aria-describedby", described.join(" "));
      } else {
        input.removeAttribute("aria-describedby");
      }
      var field = input.closest(".checkout-field");
      if (field) field.classList.remove("checkout-field--error");
    }

    function show(rule, visible) {
      form.querySelectorAll('[data-show-for="' + rule + '"]').forEach(function (el) {
        el.hidden = !visible;
      });
    }

    function layout() {
      var code = country.value;
      taxLabel();
      show("state", stateCountries.indexOf(code) >= 0);
      show("eu", eu.indexOf(code) >= 0);
      show("business", business && business.checked);
      if (state) {
        state.querySelectorAll("optgroup").forEach(function (group) {
          var mine = group.dataset.country === code;
          group.hidden = !mine;
          group.disabled = !mine;
        });
        var selected = state.options[state.selectedIndex];
        if (selected && selected.dataset.country && selected.dataset.country !== code) {
          state.value = "";
        }
      }
    }

    function text(field, value) {
      if (!summary) return;
      var el = summary.querySelector('[data-field="' + field + '"]');
      if (el && value != null) el.textContent = value;
    }

    function fieldError(name, message) {
      form.querySelectorAll("[data-live-error]").forEach(function (el) { el.remove(); });
      form.querySelectorAll("[aria-invalid][data-live-invalid]").forEach(function (el) {
        el.removeAttribute("aria-invalid");
        el.removeAttribute("data-live-invalid");
      });
      if (!message) return;
      var input = form.querySelector('[name="' + name + '"]');
      // The server already shows this message on the field (a rejected submit): not twice.
      var shown = input && input.id && document.getElementById(input.id + "_error");
      if (shown && shown.textContent.trim() === message) return;
      var p = document.createElement("p");
      p.className = "checkout-error";
      p.setAttribute("data-live-error", "");
      p.setAttribute("role", "status");
      p.textContent = message;
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("data-live-invalid", "");
        input.insertAdjacentElement("afterend", p);
      } else {
        form.insertAdjacentElement("afterbegin", p);
      }
    }

    function refresh() {
      if (!country.value) return;
      var params = new URLSearchParams();
      ["country", "state", "postcode", "tax_id"].forEach(function (name) {
        var input = form.querySelector('[name="' + name + '"]');
        if (input && !input.closest("[hidden]")) params.set(name, input.value);
      });
      if (business && business.checked) params.set("is_business", "on");
      params.set("lang", form.dataset.language);
      var ticket = ++latest;
      if (summary) summary.setAttribute("aria-busy", "true");
      fetch(form.dataset.summaryUrl + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (payload) {
          if (ticket !== latest) return;  // an older answer arriving late
          var s = payload.summary;
          if (s) {
            text("subtotal", s.subtotal);
            text("tax_label", s.tax_label);
            text("total", s.total);
            text("due_today", s.due_today);
            if (s.billing) text("recurring", s.billing.recurring);
            if (s.pending) {
              text("tax", "—");
            } else {
              text("tax", s.tax);
            }
            var note = summary && summary.querySelector('[data-field="note"]');
            if (note) note.hidden = !s.reverse_charge;
          }
          var error = payload.error;
          fieldError(error && error.field, error && error.message);
        })
        .catch(function () { /* the server checks everything again on submit */ })
        .then(function () {
          if (ticket === latest && summary) summary.removeAttribute("aria-busy");
        });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 350);
    }

    form.addEventListener("change", function (event) {
      if (event.target.matches("select")) clearError(event.target);
      if (event.target === country || event.target === business) layout();
      later();
    });
    // Submitting leaves the page: a refresh still waiting (the blur's "change") is not sent.
    form.addEventListener("submit", function () {
      window.clearTimeout(timer);
    });
    form.addEventListener("input", function (event) {
      clearError(event.target);
      var name = event.target.name;
      if (name === "postcode" || name === "tax_id") later();
    });
    layout();
    if (country.value) refresh();
  }

  function watchProcessing(section) {
    var url = section.dataset.refreshUrl;
    var tries = 0;
    function check() {
      tries += 1;
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          if (html.indexOf("data-processing") === -1) {
            window.location.replace(url);
          } else if (tries < 150) {
            window.setTimeout(check, 2000);
          }
        }, function () {
          if (tries < 150) window.setTimeout(check, 2000);
        });
    }
    window.setTimeout(check, 2000);
  }

  bindToken();
  var processing = document.querySelector("[data-processing]");
  if (processing) watchProcessing(processing);
  var details = document.querySelector("[data-details]");
  if (details) setupDetails(details);
})();
