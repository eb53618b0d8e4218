// Authenticated checkout links end in #token=<buyer session token> (the SDK's
// checkout.authenticated.create). The fragment never reaches the server by itself: send the
// token once, so the buyer identity is bound to this session, then drop it from the address bar.
(function () {
  "use strict";
  var match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  var token = decodeURIComponent(match[1]);
  var body = document.body;
  history.replaceState(null, "", window.location.pathname + window.location.search);
  fetch(body.dataset.bindUrl, {
    method: "POST",
    headers: {
      Authorization: "Bearer " + token,
      "X-Environment": body.dataset.environment,
      "Content-Type": "application/json",
    },
    body: "{}",
    credentials: "omit",
  }).then(function (response) {
    body.dataset.buyerBound = response.ok ? "true" : "false";
  }, function () {
    body.dataset.buyerBound = "false";
  });
})();
