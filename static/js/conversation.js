// Replies and threads (issue 16): a message's Reply quotes it above the composer, a quote
// scrolls to its original (loading older pages first when the page does not show it yet),
// and the open thread panel follows the live log, takes the focus and gives it back. Also: a socket update for a message this page does not show lands out of
// sight instead of failing (htmx logs an out-of-band swap without a target as an error).
(function () {
  "use strict";

  var QUOTE_LENGTH = 120;
  var JUMP_PAGES_MAX = 10; // older pages loaded in place for a quote; further: its ?around= link
  var seeking = null; // {id, href, sentinel}: the original a quote is loading pages for
  var threadOpener = null; // the id of the message whose "N replies" opened the thread

  function replyBox() {
    return document.getElementById("composer-reply");
  }

  function replyTo(article) {
    var box = replyBox();
    if (!box) return;
    var text = (article.querySelector(".body") || article).textContent.trim().replace(/\s+/g, " ");
    box.querySelector(".composer-reply-author").textContent = article.querySelector(".author").textContent;
    box.querySelector(".composer-reply-text").textContent = text.length > QUOTE_LENGTH ? text.slice(0, QUOTE_LENGTH) + "…" : text;
    box.querySelector("[name=reply_to]").value = article.dataset.id;
    box.hidden = false;
    document.getElementById("composer-body").focus();
  }

  function replyDrop() {
    var box = replyBox();
    if (!box || box.hidden) return false;
    box.hidden = true;
    box.querySelector("[name=reply_to]").value = "";
    return true;
  }

  function threadPanel() {
    var panel = document.getElementById("thread");
    return panel && panel.dataset.thread ? panel : null;
  }

  // Closed, the focus goes back to the "N replies" that opened it (a live update may have
  // replaced that link since), else to the composer.
  function threadClose() {
    var panel = threadPanel();
    if (!panel) return;
    var empty = document.createElement("aside");
    empty.id = "thread";
    empty.className = "thread-panel";
    empty.hidden = true;
    panel.replaceWith(empty);
    var opener = threadOpener && document.querySelector("#messages > #message-" + threadOpener + " .thread-link");
    var back = opener || document.getElementById("composer-body");
    if (back) back.focus();
  }

  function flash(original) {
    original.scrollIntoView({ block: "center" });
    original.classList.remove("flash");
    void original.offsetWidth; // restart the animation on a second click
    original.classList.add("flash");
  }

  // Go to a quoted message: at once when the list shows it; when it is older than the
  // list's first, through the sentinel at the top (as scrolling up would), one page at a
  // time (again once htmx has taken in the original or the next sentinel: htmx:load);
  // else, or after too many pages, by its link.
  function seek() {
    var original = document.getElementById("message-" + seeking.id);
    if (original && original.closest("#messages")) {
      seeking = null;
      return flash(original);
    }
    var first = document.querySelector("#messages > .message[data-id]");
    var sentinel = document.querySelector("#messages > .history-before");
    if (sentinel && first && seeking.id < Number(first.dataset.id) && seeking.pages++ < JUMP_PAGES_MAX) {
      seeking.sentinel = sentinel;
      return htmx.trigger(sentinel, "click");
    }
    location.href = seeking.href;
    seeking = null;
  }

  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail.elt;
    if (!seeking || !seeking.sentinel || document.body.contains(seeking.sentinel) || !elt.matches) return;
    if (elt.matches("#messages > .history-before") || elt.id === "message-" + seeking.id) seek();
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (seeking && event.detail.elt === seeking.sentinel && !event.detail.successful) seeking = null;
  });

  // The open thread shows its message and replies as the room's list (or the landing
  // below) has them now: added when new, replaced when edited or deleted.
  function threadFollow() {
    var panel = threadPanel();
    if (!panel || !panel.closest("#room")) return;
    var id = panel.dataset.thread;
    var list = panel.querySelector(".thread-messages");
    var sources = document.querySelectorAll(
      '#messages > .message[data-reply-to="' + id + '"], #messages > #message-' + id + ", #oob-landing > .message"
    );
    sources.forEach(function (source) {
      if (source.id !== "message-" + id && source.dataset.replyTo !== id) return;
      var copy = source.cloneNode(true);
      copy.id = "thread-" + source.id;
      copy.removeAttribute("hx-swap-oob");
      copy.classList.remove("highlighted");
      var shown = document.getElementById(copy.id);
      if (shown) shown.replaceWith(copy);
      else if (source.dataset.replyTo === id) list.appendChild(copy);
      else return;
      htmx.process(copy);
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    if (!target) return;
    var reply = target.closest(".reply-button");
    if (reply && reply.closest("#messages") && replyBox()) {
      event.preventDefault();
      replyTo(reply.closest(".message"));
      return;
    }
    if (reply && reply.closest(".thread-panel") && document.getElementById("thread-body")) {
      event.preventDefault();
      document.getElementById("thread-body").focus();
      return;
    }
    if (target.closest(".composer-reply-cancel")) {
      replyDrop();
      document.getElementById("composer-body").focus();
      return;
    }
    if (target.closest(".thread-close") && target.closest("#room")) {
      event.preventDefault();
      threadClose();
      return;
    }
    var quote = target.closest("[data-quote-of]");
    if (quote && document.getElementById("messages") && !seeking) {
      event.preventDefault();
      seeking = { id: Number(quote.dataset.quoteOf), href: quote.href, pages: 0 };
      seek();
    }
    var opener = target.closest("#messages .thread-link");
    if (opener) threadOpener = opener.closest(".message").dataset.id;
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    if (event.target.id === "composer-body" && replyDrop()) event.preventDefault();
    else if (event.target.closest && event.target.closest("#thread") && threadPanel()) {
      event.preventDefault();
      threadClose();
    }
  });

  // After a send the reply is done; a refusal (composer-errors with a text) brings it back.
  var sentReply = null;
  function replySent() {
    var box = replyBox();
    sentReply = box && !box.hidden ? box.cloneNode(true) : null;
    replyDrop();
  }
  document.addEventListener("composer:sent", replySent);
  document.addEventListener("htmx:wsAfterSend", function (event) {
    if (event.target.id === "composer") replySent();
    if (event.target.matches(".thread-composer")) event.target.elements.body.value = "";
  });

  // An update (an edit, a new reply count) for a message the page does not show, or the
  // quotes of a message that no reply on the page quotes: give it a hidden place to land,
  // and empty that place once the frame is handled.
  function land(stub) {
    var landing = document.getElementById("oob-landing");
    if (!landing) {
      landing = document.createElement("div");
      landing.id = "oob-landing";
      landing.hidden = true;
      document.body.appendChild(landing);
    }
    landing.appendChild(stub);
  }

  function landMissing(html) {
    var updated = /<article id="(message-\d+)"[^>]*hx-swap-oob="true"/g;
    var quotes = /hx-swap-oob="outerHTML:\.reply-quote\[data-quote-of='(\d+)'\]"/g;
    var match, stub;
    while ((match = updated.exec(html))) {
      if (document.getElementById(match[1])) continue;
      stub = document.createElement("div");
      stub.id = match[1];
      land(stub);
    }
    while ((match = quotes.exec(html))) {
      if (document.querySelector('.reply-quote[data-quote-of="' + match[1] + '"]')) continue;
      stub = document.createElement("a");
      stub.className = "reply-quote";
      stub.dataset.quoteOf = match[1];
      land(stub);
    }
  }

  function landingEmpty() {
    var landing = document.getElementById("oob-landing");
    if (landing) landing.replaceChildren();
  }

  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    landMissing(event.detail.message);
  });
  // A catch-up (sync.js) brings the same replacements by HTTP.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.shouldSwap && typeof event.detail.serverResponse === "string") landMissing(event.detail.serverResponse);
  });

  document.addEventListener("htmx:wsAfterMessage", function (event) {
    var refused = event.detail.message.indexOf('id="composer-errors"') !== -1 && document.getElementById("composer-errors");
    if (refused && refused.textContent.trim() && sentReply && replyBox()) replyBox().replaceWith(sentReply);
    if (refused) sentReply = null;
    threadFollow();
    landingEmpty();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    landingEmpty();
    if (event.target.id === "thread" || event.detail.elt.id === "thread") {
      var panel = threadPanel();
      if (panel) (panel.querySelector("#thread-body") || panel.querySelector(".thread-close")).focus();
    }
  });
})();
