// The tokens page: the Copy button beside a new token puts it on the clipboard.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  const status = document.querySelector(".token-copy-status");
  try {
    await navigator.clipboard.writeText(field.value);
    status.textContent = "Copied to the clipboard.";
  } catch {
    field.select(); // no clipboard access: selected, for Ctrl+C
    status.textContent = "Press Ctrl+C (⌘C) to copy the selected token.";
  }
});
