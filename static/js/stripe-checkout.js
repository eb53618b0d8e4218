// Step 2 of the hosted checkout with Stripe: Stripe.js's card element inside our page.
// The page's JSON (#stripe-config) gives the publishable key, the intent's kind and client
// secret, where to post the card's payment method, where to go once paid, the card element's colours
// and the messages in the buyer's language.
// - kind "payment" (a PaymentIntent): stripe.createPaymentMethod(card) in the browser, its id
//   posted to confirmUrl (the server confirms the intent with it);
//   "requires_action" (3-D Secure) is handed to stripe.confirmCardPayment(clientSecret), where
//   Stripe.js shows the bank's challenge;
// - kind "setup" (a trial's SetupIntent: the card is saved, nothing charged):
//   stripe.confirmCardSetup(clientSecret, {payment_method: {card}}).
// A decline shows beside the card field and the buyer may try another card; a success goes to
// returnUrl, our checkout page, which shows the order paid.
(function () {
  "use strict";

  var form = document.querySelector("[data-stripe-pay]");
  var configNode = document.getElementById("stripe-config");
  if (!form || !configNode) return;
  var config = JSON.parse(configNode.textContent);
  var messages = config.messages || {};
  var declines = messages.declines || {};
  var errorBox = form.querySelector("[data-stripe-error]");
  var status = form.querySelector("[data-stripe-status]");
  var button = form.querySelector("[data-stripe-submit]");
  var mount = form.querySelector("[data-stripe-card]");
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]");
  var busy = false;

  function showError(message) {
    errorBox.textContent = message || messages.failed;
    errorBox.hidden = false;
    mount.setAttribute("aria-invalid", "true");
    mount.setAttribute("aria-describedby", "stripe-card-help stripe-card-error");
    document.body.dataset.stripeState = "error";
  }

  function clearError() {
    errorBox.textContent = "";
    errorBox.hidden = true;
    mount.removeAttribute("aria-invalid");
    mount.setAttribute("aria-describedby", "stripe-card-help");
  }

  function working(on) {
    busy = on;
    button.disabled = on;
    status.textContent = on ? messages.working : "";
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  function done() {
    document.body.dataset.stripeState = "succeeded";
    window.location.assign(config.returnUrl);
  }

  if (typeof window.Stripe !== "function") {
    showError(messages.network);
    return;
  }
  var stripe = window.Stripe(config.key, { locale: config.locale });
  var elements = stripe.elements({ locale: config.locale });
  // The postcode was asked on step 1; the colours are the store's theme.
  var card = elements.create("card", { hidePostalCode: true, style: config.style });
  card.mount(mount);
  card.on("change", function (event) {
    if (event && event.error) {
      showError(event.error.message);
    } else if (!errorBox.hidden) {
      clearError();
    }
  });
  button.disabled = false;
  document.body.dataset.stripeState = "ready";

  // The 3-D Secure step: Stripe.js shows the challenge; a refused or failed one comes back as an
  // error, or as an intent that needs another payment method.
  function authenticate(clientSecret) {
    return stripe.confirmCardPayment(clientSecret).then(function (result) {
      var intent = result && result.paymentIntent;
      if (intent && (intent.status === "succeeded" || intent.status === "processing")) {
        done();
        return;
      }
      showError(reason(result && result.error));
      working(false);
    });
  }

  // A Stripe.js error in the buyer's words: a failed 3-D Secure step, a known decline, else
  // Stripe.js's own message (in the element's language).
  function reason(error) {
    var code = error && (error.decline_code || error.code);
    if (!error || code === "payment_intent_authentication_failure" ||
        code === "setup_intent_authentication_failure") {
      return messages.authentication_failed;
    }
    return declines[code] || error.message || messages.failed;
  }

  // The card as a PaymentMethod id. A Stripe.js without createPaymentMethod (the fake one the
  // tests load answers nothing) gives the card of a token instead, which Stripe also takes as
  // a payment method.
  function paymentMethod() {
    return Promise.resolve(stripe.createPaymentMethod({
      type: "card",
      card: card,
      billing_details: { email: config.email },
    })).then(function (result) {
      if (result && (result.paymentMethod || result.error)) {
        return { id: result.paymentMethod && result.paymentMethod.id, error: result.error };
      }
      return stripe.createToken(card).then(function (tokenResult) {
        var token = tokenResult && tokenResult.token;
        return { id: token && token.card && token.card.id, error: tokenResult && tokenResult.error };
      });
    });
  }

  function pay() {
    return paymentMethod().then(function (method) {
      if (!method.id) {
        showError((method.error && method.error.message) || messages.incomplete);
        working(false);
        return null;
      }
      return fetch(config.confirmUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRFToken": csrf ? csrf.value : "",
        },
        body: JSON.stringify({ paymentMethod: method.id }),
      }).then(function (response) {
        return response.json().then(function (payload) {
          if (!response.ok) {
            // Our server refused (the API's envelope, in English): say it in the buyer's words.
            throw { refused: response.status === 429 ? messages.too_many : messages.failed };
          }
          return payload;
        });
      }).then(function (answer) {
        if (answer.status === "succeeded") {
          done();
        } else if (answer.status === "requires_action") {
          return authenticate(answer.clientSecret);
        } else {
          showError(answer.message);
          working(false);
        }
        return null;
      });
    });
  }

  function setup() {
    return stripe.confirmCardSetup(config.clientSecret, {
      payment_method: { card: card, billing_details: { email: config.email } },
    }).then(function (result) {
      var intent = result && result.setupIntent;
      if (intent && intent.status === "succeeded") {
        done();
        return;
      }
      showError(reason(result && result.error));
      working(false);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return;
    clearError();
    working(true);
    var step = config.kind === "setup" ? setup() : pay();
    step.catch(function (error) {
      showError((error && error.refused) || messages.network);
      working(false);
    });
  });
})();
