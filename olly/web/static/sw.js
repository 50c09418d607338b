// Olly's service worker: the offline shell only. It caches the portals' own static assets and an
// offline page; it never stores a page, an API answer or anything else that may hold personal data.
const SHELL = "olly-shell-v1";
const ASSETS = [
  "/offline",
  "/static/olly.css",
  "/static/app.js",
  "/static/vendor/htmx-2.0.11.min.js",
  "/static/manifest.webmanifest",
  "/static/icons/icon-192.png",
  "/static/icons/icon-512.png",
];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) { return cache.addAll(ASSETS); }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k !== SHELL; }).map(function (k) { return caches.delete(k); }));
    })
  );
  self.clients.claim();
});

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    // Static assets: from the shell cache when present, else the network (not added to the cache).
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
    return;
  }
  if (request.mode === "navigate") {
    // Pages always come from the network; only when it is unreachable does the offline page show.
    event.respondWith(fetch(request).catch(function () { return caches.match("/offline"); }));
  }
});
