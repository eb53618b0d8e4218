// The dashboard's GraphQL explorer: mounts the vendored GraphiQL (static/vendor/graphiql/) on
// #graphiql with a fetcher that posts to this store's dashboard endpoint, authenticated by the
// session cookie and the CSRF token (the browser holds no API key to sign with).
(function () {
  "use strict";

  var root = document.getElementById("graphiql");
  if (!root) {
    return;
  }
  if (!window.React || !window.ReactDOM || !window.GraphiQL) {
    root.textContent = root.dataset.failed || "";
    return;
  }
  // Style through the CSSOM (allowed by the page's Content-Security-Policy, which refuses
  // inline style attributes and elements): GraphiQL fills its container.
  root.style.height = "calc(100vh - 14rem)";
  root.style.minHeight = "32rem";

  // The one <style> element GraphiQL adds itself (its dialogs' scroll lock) carries this
  // response's nonce, which the page's policy allows (see static/vendor/graphiql/README.md).
  window.GraphiQLStyleNonce = root.dataset.styleNonce;

  var endpoint = root.dataset.endpoint;
  var csrfToken = root.dataset.csrfToken;

  function fetcher(params) {
    return fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken,
      },
      body: JSON.stringify({
        query: params.query,
        variables: params.variables || null,
        operationName: params.operationName || null,
      }),
    }).then(function (response) {
      return response.text().then(function (text) {
        try {
          return JSON.parse(text);
        } catch (error) {
          return { errors: [{ message: "HTTP " + response.status }] };
        }
      });
    });
  }

  var element = window.React.createElement(window.GraphiQL, {
    fetcher: fetcher,
    defaultQuery: root.dataset.defaultQuery,
    defaultEditorToolsVisibility: true,
    shouldPersistHeaders: false,
  });
  window.ReactDOM.createRoot(root).render(element);
})();
