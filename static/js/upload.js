// Files in the composer: chosen with the paperclip, dropped on the room or pasted. They
// wait in a list under the field (each can be taken out), then go with the text in one
// multipart POST to the room (the same service as a form without JavaScript), by
// XMLHttpRequest for its upload progress: one bar per file, and a Cancel that stops the
// upload and keeps the draft. The message itself arrives through the socket, like any.
(function () {
  "use strict";

  var pending = []; // File objects waiting to be sent
  var request = null; // the upload under way

  function form() {
    return document.getElementById("composer");
  }

  function sizeText(bytes) {
    var units = [["GB", 1073741824], ["MB", 1048576], ["KB", 1024]];
    for (var i = 0; i < units.length; i++) {
      if (bytes >= units[i][1]) {
        var value = bytes / units[i][1];
        return (value < 10 ? value.toFixed(1) : Math.round(value)) + " " + units[i][0];
      }
    }
    return bytes + (bytes === 1 ? " byte" : " bytes");
  }

  function add(files) {
    if (!form() || request) return;
    for (var i = 0; i < files.length; i++) pending.push(files[i]);
    render();
  }

  function render() {
    var list = document.getElementById("composer-uploads");
    if (!list) return;
    list.replaceChildren();
    pending.forEach(function (file, index) {
      var item = document.createElement("li");
      item.className = "upload";
      var name = document.createElement("span");
      name.className = "upload-name";
      name.textContent = file.name || "pasted image";
      var size = document.createElement("span");
      size.className = "upload-size";
      size.textContent = sizeText(file.size);
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", "Upload of " + name.textContent);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link-button upload-remove";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove " + name.textContent);
      remove.addEventListener("click", function () {
        pending.splice(index, 1);
        render();
        form().elements.body.focus();
      });
      item.append(name, size, bar, remove);
      list.append(item);
    });
    if (pending.length) {
      var cancel = document.createElement("li");
      cancel.className = "upload-cancel";
      cancel.hidden = true;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = "Cancel upload";
      button.addEventListener("click", function () {
        if (request) request.abort();
      });
      cancel.append(button);
      list.append(cancel);
    }
    list.hidden = !pending.length;
  }

  function newClientId() {
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }

  function showError(text) {
    var box = document.getElementById("composer-errors");
    if (!box) return;
    box.replaceChildren();
    if (!text) return;
    var line = document.createElement("p");
    line.className = "error";
    line.textContent = text;
    box.append(line);
  }

  function progress(loaded) {
    // The files go in order: each bar shows how much of its own bytes have left.
    var bars = document.querySelectorAll("#composer-uploads progress");
    var offset = 0;
    pending.forEach(function (file, index) {
      var done = Math.min(Math.max(loaded - offset, 0), file.size);
      if (bars[index]) bars[index].value = file.size ? (100 * done) / file.size : 100;
      offset += file.size;
    });
  }

  function finish(sent) {
    var composer = form();
    request = null;
    composer.classList.remove("uploading");
    var cancel = document.querySelector("#composer-uploads .upload-cancel");
    if (cancel) cancel.hidden = true;
    if (sent) {
      pending = [];
      composer.elements.body.value = "";
      composer.elements.body.dispatchEvent(new Event("input", { bubbles: true })); // the counter
      composer.dispatchEvent(new Event("composer:sent", { bubbles: true })); // conversation.js drops the reply
    }
    render();
    composer.elements.body.focus({ preventScroll: true });
  }

  function send(composer) {
    var data = new FormData();
    data.append("body", composer.elements.body.value);
    data.append("client_id", composer.elements.client_id.value);
    data.append("reply_to", composer.elements.reply_to.value);
    pending.forEach(function (file) {
      data.append("file", file, file.name || "pasted-image.png");
    });
    request = new XMLHttpRequest();
    request.open("POST", composer.action);
    request.setRequestHeader("X-CSRFToken", composer.elements.csrfmiddlewaretoken.value);
    request.setRequestHeader("HX-Request", "true");
    request.upload.addEventListener("progress", function (event) {
      progress(event.loaded);
    });
    request.addEventListener("load", function () {
      var answer = request.status === 200 ? request.responseText : "";
      if (request.status === 204) {
        showError("");
        composer.elements.client_id.value = newClientId(); // the next message is a new one
        finish(true);
      } else if (answer) {
        var parsed = new DOMParser().parseFromString(answer, "text/html").getElementById("composer-errors");
        showError(parsed ? parsed.textContent.trim() : "The files were not sent.");
        finish(false);
      } else {
        showError(request.status === 413 ? "These files are too large to send." : "The files were not sent. Try again.");
        finish(false);
      }
    });
    request.addEventListener("error", function () {
      showError("The upload failed: check your connection and try again. Your message is still here.");
      finish(false);
    });
    request.addEventListener("abort", function () {
      showError("Upload cancelled. Your message and files are still here.");
      finish(false);
    });
    composer.classList.add("uploading");
    var cancel = document.querySelector("#composer-uploads .upload-cancel");
    if (cancel) cancel.hidden = false;
    request.send(data);
  }

  // Before htmx sends the form over the socket (its listener is on the form: this one,
  // capturing on the document, runs first): with files, the upload takes the send.
  document.addEventListener(
    "submit",
    function (event) {
      var composer = event.target;
      if (composer.id !== "composer" || !pending.length) return;
      event.preventDefault();
      event.stopPropagation();
      if (!request) send(composer);
    },
    true
  );

  // Enter in an empty composer sends the files alone (ui.js sends only text).
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (field.id !== "composer-body" || event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    if (!field.value.trim() && pending.length) field.form.requestSubmit();
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.id !== "composer-files") return;
    add(input.files);
    input.value = ""; // the list holds them now; the same file may be chosen again
  });

  document.addEventListener("paste", function (event) {
    if (event.target.id !== "composer-body" || !event.clipboardData) return;
    var files = event.clipboardData.files;
    if (files && files.length) {
      event.preventDefault();
      add(files);
    }
  });

  // Drag and drop anywhere on a page with a composer (not only on the room: a file let go
  // on the sidebar would otherwise replace the page, draft and all); the room shows it.
  function dropRoom(event) {
    var hasFiles = event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") !== -1;
    return hasFiles && form() ? document.getElementById("room") : null;
  }
  document.addEventListener("dragover", function (event) {
    var room = dropRoom(event);
    if (!room) return;
    event.preventDefault();
    room.classList.add("dropping");
  });
  document.addEventListener("dragleave", function (event) {
    var room = document.getElementById("room");
    if (room && !event.relatedTarget) room.classList.remove("dropping"); // left the window
  });
  document.addEventListener("drop", function (event) {
    var room = dropRoom(event);
    if (!room) return;
    event.preventDefault();
    room.classList.remove("dropping");
    add(event.dataTransfer.files);
  });

  // A picture opens full size in a dialog; Esc (the dialog's own) or a click closes it.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-lightbox]");
    var box = document.getElementById("lightbox");
    if (!link || !box || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    var image = box.querySelector("img");
    image.src = link.href;
    image.alt = link.querySelector("img").alt;
    box.querySelector(".lightbox-download").href = link.href;
    box.showModal();
  });
  document.addEventListener("click", function (event) {
    var box = document.getElementById("lightbox");
    if (box && box.open && (event.target === box || event.target.closest(".lightbox-close"))) box.close();
  });
})();
