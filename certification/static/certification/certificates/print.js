// The certificate page's print button (a static file: the pages allow no inline script).
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("xq-print");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
});
