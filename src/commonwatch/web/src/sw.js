// The responder app's service worker: the app opens without a network (its shell and files are
// kept), while everything under /api/ always goes to the network and is never cached.

const CACHE = "cw-responder-1";
const SHELL = ["/responder", "/manifest.webmanifest", "/app/icon-192.png", "/app/icon-512.png", "/app/icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) cache.put("/responder", response.clone());
    return response;
  } catch {
    return (await cache.match("/responder")) || Response.error();
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (event.request.mode === "navigate") event.respondWith(networkFirst(event.request));
  else if (url.pathname.startsWith("/app/") || url.pathname === "/manifest.webmanifest") event.respondWith(cacheFirst(event.request));
});
