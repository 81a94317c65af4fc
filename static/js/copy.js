// Copy buttons: <button data-copy="<field id>"> copies that field's value (the webhooks page).
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  var field = button && document.getElementById(button.dataset.copy);
  if (!field) return;
  field.select();
  var copied = function () { button.textContent = "Copied"; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(copied, function () {});
  } else if (document.execCommand("copy")) {
    copied();
  }
});
