// The dashboard header: the store and language pickers act as soon as one is changed (their
// "Open" / "Change language" buttons stay for browsers without JavaScript), and the bell's
// unread count is refreshed every minute while the page is visible.
(function () {
  "use strict";

  document.querySelectorAll("form.js-autosubmit").forEach(function (form) {
    var button = form.querySelector(".js-autosubmit-button");
    if (button) {
      button.hidden = true;
    }
    var select = form.querySelector("select");
    if (select) {
      select.addEventListener("change", function () {
        if (form.requestSubmit) {
          form.requestSubmit();
        } else {
          form.submit();
        }
      });
    }
  });

  var bell = document.getElementById("notification-bell");
  var count = document.getElementById("notification-count");
  if (!bell || !count || !window.fetch) {
    return;
  }
  var url = bell.getAttribute("data-count-url");
  function refresh() {
    if (document.hidden) {
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (body) {
          count.textContent = body.label;
          count.classList.toggle("is-zero", body.unread === 0);
        }
      })
      .catch(function () {});
  }
  window.setInterval(refresh, 60000);
  document.addEventListener("visibilitychange", refresh);
})();
