/* Developers → Create API key.
 * The browser makes an RSA-2048 key pair with WebCrypto, sends only the public key (SPKI PEM)
 * with the form, and, once the server has saved it, offers the private key (PKCS#8 PEM) for
 * download once. Without JavaScript or WebCrypto the form still works with an uploaded PEM. */
(function () {
  "use strict";

  var form = document.getElementById("api-key-form");
  var subtle = window.crypto && window.crypto.subtle;
  if (!form || !subtle || !window.isSecureContext || !window.fetch) {
    return;
  }
  var jsOnly = form.querySelector(".js-only");
  var button = document.getElementById("generate-key");
  var status = document.getElementById("generate-status");
  var errorBox = document.getElementById("api-key-errors");
  var result = document.getElementById("key-result");
  var resultMessage = document.getElementById("key-result-message");
  var download = document.getElementById("download-key");
  var done = document.getElementById("key-saved");
  var text = form.dataset;
  var busy = false;

  jsOnly.hidden = false;

  function toPem(buffer, label) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i += 1) {
      binary += String.fromCharCode(bytes[i]);
    }
    var body = window.btoa(binary).match(/.{1,64}/g).join("\n");
    return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
  }

  function slug(value) {
    var cleaned = value.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
    return cleaned.slice(0, 40) || "key";
  }

  function labelFor(field) {
    var input = form.elements[field];
    var label = input && input.id ? form.querySelector('label[for="' + input.id + '"]') : null;
    return label ? label.textContent.trim() : "";
  }

  function clearErrors() {
    errorBox.hidden = true;
    errorBox.textContent = "";
  }

  function showErrors(errors) {
    clearErrors();
    var first = null;
    Object.keys(errors).forEach(function (field) {
      (errors[field] || []).forEach(function (error) {
        var line = document.createElement("p");
        var label = field === "__all__" ? "" : labelFor(field);
        line.textContent = (label ? label + ": " : "") + (error.message || error);
        errorBox.appendChild(line);
      });
      if (!first && field !== "__all__" && form.elements[field]) {
        first = form.elements[field];
      }
    });
    errorBox.hidden = false;
    if (first && first.type !== "textarea") {
      first.focus();
    }
  }

  function offerDownload(pem, name, environment) {
    var blob = new Blob([pem], { type: "application/x-pem-file" });
    var url = URL.createObjectURL(blob);
    download.href = url;
    download.setAttribute("download", "pancake-" + slug(name) + "-" + environment + ".pem");
    window.addEventListener("pagehide", function () {
      URL.revokeObjectURL(url);
    });
    form.hidden = true;
    result.hidden = false;
    download.click();
    result.focus();
  }

  async function generateAndCreate() {
    if (busy) {
      return;
    }
    clearErrors();
    var name = form.elements.name.value.trim();
    if (!name) {
      showErrors({ name: [{ message: text.msgName }] });
      return;
    }
    var environment = form.elements.environment.value;
    busy = true;
    button.disabled = true;
    status.textContent = text.msgGenerating;
    try {
      var pair = await subtle.generateKey(
        {
          name: "RSASSA-PKCS1-v1_5",
          modulusLength: 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: "SHA-256",
        },
        true,
        ["sign", "verify"]
      );
      var spki = await subtle.exportKey("spki", pair.publicKey);
      var pkcs8 = await subtle.exportKey("pkcs8", pair.privateKey);
      var data = new FormData(form);
      data.set("public_key", toPem(spki, "PUBLIC KEY"));
      status.textContent = text.msgSaving;
      var response = await fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "X-CSRFToken": form.elements.csrfmiddlewaretoken.value,
        },
      });
      var payload = await response.json().catch(function () {
        return {};
      });
      if (!response.ok) {
        status.textContent = "";
        showErrors(payload.errors || { __all__: [{ message: text.msgFailed }] });
        return;
      }
      status.textContent = "";
      resultMessage.textContent = payload.message || "";
      if (payload.key) {
        // A real navigation (not just a fragment jump), so the list shows the new key.
        var url = new URL(done.href, window.location.href);
        url.search = "?new=" + encodeURIComponent(payload.key.id);
        done.href = url.toString();
      }
      offerDownload(toPem(pkcs8, "PRIVATE KEY"), name, environment);
    } catch (error) {
      status.textContent = "";
      showErrors({ __all__: [{ message: text.msgFailed }] });
    } finally {
      busy = false;
      button.disabled = false;
    }
  }

  button.addEventListener("click", generateAndCreate);
  form.addEventListener("submit", function (event) {
    // Enter in a field, or the upload button with no key pasted: generate one instead.
    if (!form.elements.public_key.value.trim()) {
      event.preventDefault();
      generateAndCreate();
    }
  });
})();
