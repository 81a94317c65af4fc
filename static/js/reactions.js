// Reactions beyond HTML: the React menu beside a message (quick reactions, and More… for
// the vendored emoji picker, loaded on first use), ":shortcode" completion in the composer,
// and live bars kept right (dropped when the page does not show their message, followed
// by the thread panel's copy). The chips themselves are plain htmx buttons
// (messages_app/partials/reactions.html).
const menu = document.getElementById("react-menu");
let opener = null; // the React link the menu is open for
let database = null;

function react(emoji) {
  // The bar of the message the link is in: the list's, or the thread panel's copy.
  const bar = opener.closest(".message").querySelector(".reactions");
  htmx.ajax("POST", opener.getAttribute("href"), { target: bar, swap: "outerHTML", values: { emoji: emoji } });
  closeMenu();
}

function closeMenu() {
  if (!menu.matches(":popover-open")) return;
  menu.hidePopover();
  if (opener && opener.isConnected) opener.focus({ preventScroll: true });
}

async function emojiDatabase() {
  if (!database) {
    const { default: Database } = await import(menu.dataset.database);
    database = new Database({ dataSource: menu.dataset.emojiData });
  }
  return database;
}

async function showPicker(button) {
  const slot = menu.querySelector(".react-picker");
  if (!slot.firstChild) {
    await import(menu.dataset.picker); // defines <emoji-picker>
    const picker = document.createElement("emoji-picker"); // created by script: CSP-safe styles
    picker.dataSource = menu.dataset.emojiData;
    const theme = document.documentElement.dataset.theme; // the reader's choice, else the system's
    if (theme === "dark" || theme === "light") picker.classList.add(theme);
    picker.addEventListener("emoji-click", (event) => react(event.detail.unicode));
    slot.append(picker);
  }
  button.setAttribute("aria-expanded", "true");
  slot.hidden = false;
  place();
  slot.firstChild.shadowRoot.querySelector("input")?.focus();
}

function openMenu(link) {
  opener = link;
  menu.querySelector(".react-picker").hidden = true;
  menu.querySelector(".react-more").setAttribute("aria-expanded", "false");
  menu.showPopover();
  place();
  menu.querySelector(".quick-reaction").focus();
}

// Below the React link, or above it when there is no room below; inside the viewport.
function place() {
  const box = opener.getBoundingClientRect();
  const left = Math.max(8, Math.min(box.right - menu.offsetWidth, window.innerWidth - menu.offsetWidth - 8));
  const below = box.bottom + menu.offsetHeight + 8 < window.innerHeight;
  const top = below ? box.bottom + 4 : Math.max(8, box.top - menu.offsetHeight - 4);
  menu.style.left = left + "px"; // CSSOM: allowed by the Content Security Policy
  menu.style.top = top + "px";
}

if (menu) {
  document.addEventListener("click", (event) => {
    const link = event.target.closest(".react-button");
    if (link) {
      event.preventDefault();
      openMenu(link);
    } else if (event.target.closest(".quick-reaction") && menu.contains(event.target)) {
      react(event.target.closest(".quick-reaction").dataset.emoji);
    } else if (event.target.closest(".react-more")) {
      showPicker(event.target.closest(".react-more"));
    }
  });
  // Escape closes the menu from anywhere in it, the picker's search field included (which
  // would otherwise only clear itself); the focus goes back to the message's React link.
  menu.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    event.preventDefault();
    closeMenu();
  });
}

// A live bar lands on the list's message; when only the open thread panel shows it, there
// (under the list's id for the swap); when neither, the frame is dropped (no target).
document.addEventListener("htmx:wsBeforeMessage", (event) => {
  const bar = /^<div id="reactions-(\d+)"/.exec(event.detail.message);
  if (!bar || document.getElementById("reactions-" + bar[1])) return;
  const inThread = document.getElementById("thread-reactions-" + bar[1]);
  if (inThread) inThread.id = "reactions-" + bar[1];
  else event.preventDefault();
});

// The thread panel's bars keep ids of their own (thread-reactions-<id>) whatever put them
// there (conversation.js copies messages in from the list, a chip's answer replaces one),
// and follow the list's bar of the same message.
function threadBarsFollow(frame) {
  document.querySelectorAll(".thread-panel .reactions:not([id^='thread-'])").forEach((bar) => {
    bar.id = "thread-" + bar.id;
  });
  const bar = frame && /^<div id="reactions-(\d+)"/.exec(frame);
  const live = bar && document.getElementById("reactions-" + bar[1]);
  const shown = bar && document.getElementById("thread-reactions-" + bar[1]);
  if (!live || !shown) return;
  const copy = live.cloneNode(true);
  copy.id = shown.id;
  shown.replaceWith(copy);
  htmx.process(copy);
}
document.addEventListener("htmx:wsAfterMessage", (event) => threadBarsFollow(event.detail.message));
document.addEventListener("htmx:afterSwap", () => threadBarsFollow());

// ":smi" in the composer offers emoji whose shortcodes start so; Enter or Tab inserts one.
const suggestions = document.getElementById("emoji-suggestions");
let chosen = 0;

function field() {
  return document.getElementById("composer-body");
}

function shortcodeBeforeCaret(text) {
  return /(?:^|\s):([a-z0-9_+-]{2,})$/i.exec(text.slice(0, field().selectionStart));
}

function closeSuggestions() {
  suggestions.hidden = true;
  suggestions.replaceChildren();
  field()?.removeAttribute("aria-activedescendant");
}

function highlight(index) {
  const options = suggestions.children;
  chosen = (index + options.length) % options.length;
  Array.from(options).forEach((option, i) => option.setAttribute("aria-selected", String(i === chosen)));
  field().setAttribute("aria-activedescendant", options[chosen].id);
}

let asked = 0; // the latest keystroke's lookup: an earlier one answering late is ignored

async function suggest() {
  const mine = ++asked;
  const match = shortcodeBeforeCaret(field().value);
  if (!match) return closeSuggestions();
  const prefix = match[1].toLowerCase();
  const found = (await (await emojiDatabase()).getEmojiBySearchQuery(prefix))
    .filter((emoji) => emoji.shortcodes && emoji.shortcodes.some((code) => code.startsWith(prefix)))
    .slice(0, 8);
  if (mine !== asked) return;
  if (!found.length) return closeSuggestions();
  suggestions.replaceChildren(
    ...found.map((emoji, i) => {
      const option = document.createElement("li");
      option.id = "emoji-suggestion-" + i;
      option.setAttribute("role", "option");
      option.dataset.emoji = emoji.unicode;
      const glyph = document.createElement("span");
      glyph.className = "emoji";
      glyph.textContent = emoji.unicode;
      option.append(glyph, " :" + emoji.shortcodes.find((code) => code.startsWith(prefix)) + ":");
      return option;
    })
  );
  suggestions.hidden = false;
  highlight(0);
}

function insert(emoji) {
  const text = field().value;
  const caret = field().selectionStart;
  const start = text.slice(0, caret).lastIndexOf(":");
  field().value = text.slice(0, start) + emoji + text.slice(caret);
  field().selectionStart = field().selectionEnd = start + emoji.length;
  closeSuggestions();
  field().focus();
}

if (suggestions && field()) {
  field().setAttribute("aria-autocomplete", "list");
  field().setAttribute("aria-controls", "emoji-suggestions");
  field().addEventListener("input", () => suggest().catch(closeSuggestions));
  field().addEventListener("blur", () => setTimeout(closeSuggestions, 200));
  // Before ui.js's Enter-to-send: while the list shows, Enter and Tab pick from it.
  window.addEventListener(
    "keydown",
    (event) => {
      if (suggestions.hidden || event.target !== field()) return;
      const keys = { ArrowDown: () => highlight(chosen + 1), ArrowUp: () => highlight(chosen - 1), Escape: closeSuggestions };
      keys.Enter = keys.Tab = () => insert(suggestions.children[chosen].dataset.emoji);
      if (!keys[event.key]) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      keys[event.key]();
    },
    true
  );
  suggestions.addEventListener("mousedown", (event) => {
    const option = event.target.closest("[role=option]");
    if (!option) return;
    event.preventDefault();
    insert(option.dataset.emoji);
  });
}
