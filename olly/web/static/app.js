// Registers the service worker (offline shell only). Kept as a file: the CSP allows no inline script.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  });
}
