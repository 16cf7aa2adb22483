// envoi live updates (SPEC §3.2), without a framework and without inline
// script (CSP script-src 'self').
//
// A page opts in on its <main>:
//   data-live="user,history"   the object types it shows ("*": any). When a
//                              change to one of them arrives, the page fetches
//                              itself again and swaps in the new <main>, unless
//                              the user is editing: then it shows "Modified by
//                              X — Reload" instead.
//   data-presence="user:42"    the object it shows: tells the server every
//                              10 s, and shows who else is viewing it.
// A page rendered after a refused save (a version conflict, a form error)
// is never swapped: mark its notice with data-conflict; any button with
// data-reload reloads the page with a GET (never re-posting a form).
(function () {
  "use strict";

  var main = document.querySelector("main");
  if (!main || !window.EventSource || !window.fetch) {
    return;
  }

  var presenceEl = document.getElementById("live-presence");
  var noticeEl = document.getElementById("live-notice");
  var noticeText = noticeEl && noticeEl.querySelector(".live-notice-text");

  // ---- What the page shows ------------------------------------------------

  function types() {
    return (main.getAttribute("data-live") || "").split(",")
      .map(function (s) { return s.trim(); })
      .filter(function (s) { return s !== ""; });
  }

  function watched() {
    return (main.getAttribute("data-presence") || "").trim();
  }

  function shows(type) {
    var ts = types();
    return ts.indexOf("*") >= 0 || ts.indexOf(type) >= 0;
  }

  // ---- Reload buttons -------------------------------------------------------

  // A GET of the page's own address: after a refused POST, reload() would
  // offer to post the form again.
  function reloadPage() {
    window.location.assign(window.location.href);
  }

  document.addEventListener("click", function (e) {
    var target = e.target instanceof Element ? e.target.closest("[data-reload]") : null;
    if (target) {
      e.preventDefault();
      reloadPage();
    }
  });

  // ---- Is the user busy with the page? --------------------------------------

  var dirty = false;
  var submitting = false;

  function markDirty(e) {
    if (e.target instanceof Element && main.contains(e.target) && e.target.closest("form")) {
      dirty = true;
    }
  }
  document.addEventListener("input", markDirty, true);
  document.addEventListener("change", markDirty, true);
  document.addEventListener("submit", function () { submitting = true; }, true);
  // Coming back through the back/forward cache: the page is as it was left.
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) {
      submitting = false;
    }
  });

  function busy() {
    if (dirty || submitting) {
      return true;
    }
    var a = document.activeElement;
    if (a && a !== document.body && main.contains(a) &&
        a.matches("input:not([type=button]):not([type=submit]):not([type=reset]), textarea, select, [contenteditable]")) {
      return true;
    }
    // A conflict or an error the user has to read stays on screen.
    return main.querySelector("[data-conflict], .flash-error, dialog[open]") !== null;
  }

  // ---- Notices ---------------------------------------------------------------

  function notice(message) {
    if (!noticeEl || !noticeText) {
      return;
    }
    noticeText.textContent = message || noticeText.getAttribute("data-default") || "";
    noticeEl.hidden = false;
  }

  function showPresence(data) {
    if (!presenceEl || data.object !== watched()) {
      return;
    }
    presenceEl.textContent = data.message || "";
    presenceEl.hidden = !data.message;
  }

  // ---- Refreshing <main> ------------------------------------------------------

  var fetching = false;
  var again = false;
  var pendingMessage = "";
  var timer = 0;

  // Several changes in a burst make one refresh.
  function scheduleRefresh(message) {
    pendingMessage = message || pendingMessage;
    if (busy()) {
      notice(pendingMessage);
      return;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 150);
  }

  function refresh() {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    var here = window.location.href;
    fetch(here, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (resp) {
        // A redirect (to the login page) or an error (rights taken away):
        // let the user decide.
        if (!resp.ok || resp.redirected) {
          throw new Error("status " + resp.status);
        }
        return resp.text();
      })
      .then(function (html) {
        if (busy() || window.location.href !== here) {
          notice(pendingMessage);
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
        if (!fresh || !fresh.hasAttribute("data-live")) {
          throw new Error("no live <main> in the page");
        }
        swap(fresh);
      })
      .catch(function () {
        notice(pendingMessage);
      })
      .then(function () {
        fetching = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  // swap puts the fresh page's content in <main>, keeping the live status
  // area (and what it shows), the scroll position and the page's title.
  function swap(fresh) {
    var x = window.scrollX;
    var y = window.scrollY;
    var keep = document.getElementById("live-status");
    var nodes = [];
    Array.prototype.forEach.call(fresh.childNodes, function (n) {
      if (!(n instanceof Element && n.id === "live-status")) {
        nodes.push(document.importNode(n, true));
      }
    });
    var before = watched();
    main.replaceChildren.apply(main, keep ? [keep].concat(nodes) : nodes);
    ["data-live", "data-presence"].forEach(function (name) {
      main.setAttribute(name, fresh.getAttribute(name) || "");
    });
    var title = fresh.ownerDocument.querySelector("title");
    if (title) {
      document.title = title.textContent;
    }
    window.scrollTo(x, y);
    pendingMessage = "";
    if (noticeEl) {
      noticeEl.hidden = true;
    }
    if (watched() !== before) {
      // The page now shows another object: follow its viewers instead.
      startPresence();
      if (source && !stopped) {
        source.close();
        connect();
      }
    }
    document.dispatchEvent(new CustomEvent("envoi:refreshed"));
  }

  // ---- Presence ----------------------------------------------------------------

  var presenceTimer = 0;
  var presenceSent = "";

  function sendPresence(object, leave) {
    var body = new URLSearchParams({ object: object });
    if (leave) {
      body.set("leave", "1");
      if (navigator.sendBeacon) {
        navigator.sendBeacon("/live/presence", body);
        return;
      }
    }
    fetch("/live/presence", { method: "POST", body: body, credentials: "same-origin", keepalive: !!leave })
      .catch(function () { /* the next beat tries again */ });
  }

  function startPresence() {
    window.clearInterval(presenceTimer);
    if (presenceSent && presenceSent !== watched()) {
      sendPresence(presenceSent, true);
    }
    presenceSent = watched();
    if (presenceEl) {
      presenceEl.hidden = true;
    }
    if (!presenceSent) {
      return;
    }
    sendPresence(presenceSent, false);
    presenceTimer = window.setInterval(function () { sendPresence(presenceSent, false); }, 10000);
  }

  window.addEventListener("pagehide", function () {
    if (presenceSent) {
      sendPresence(presenceSent, true);
    }
  });
  // Back from the back/forward cache: the stream may have been closed and
  // the page is as old as when it was left.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) {
      return;
    }
    if (presenceSent) {
      sendPresence(presenceSent, false);
    }
    if (source && source.readyState === EventSource.CLOSED && !stopped) {
      connect();
    }
    if (types().length) {
      scheduleRefresh("");
    }
  });

  // ---- The stream ------------------------------------------------------------------

  var source = null;
  var lastId = "";
  var backoff = 1000;
  var stopped = false;

  // <html data-live-state="open|connecting|closed">: for styling and tests.
  function state(s) {
    document.documentElement.setAttribute("data-live-state", s);
  }

  function connect() {
    if (stopped) {
      return;
    }
    var url = "/live";
    var q = [];
    if (watched()) {
      q.push("object=" + encodeURIComponent(watched()));
    }
    if (lastId) {
      q.push("last=" + encodeURIComponent(lastId));
    }
    if (q.length) {
      url += "?" + q.join("&");
    }
    state("connecting");
    source = new EventSource(url);
    source.addEventListener("open", function () {
      backoff = 1000;
      state("open");
    });
    source.addEventListener("change", function (e) {
      lastId = e.lastEventId || lastId;
      var data = parse(e.data);
      if (data && data.object && shows(data.object.type)) {
        scheduleRefresh(data.message);
      }
    });
    source.addEventListener("reset", function (e) {
      lastId = e.lastEventId || lastId;
      var data = parse(e.data);
      if (types().length) {
        scheduleRefresh(data && data.message);
      }
    });
    source.addEventListener("presence", function (e) {
      var data = parse(e.data);
      if (data) {
        showPresence(data);
      }
    });
    source.addEventListener("end", function (e) {
      // Signed out, or moved to another account: do not reconnect.
      stopped = true;
      source.close();
      state("closed");
      var data = parse(e.data);
      if (data && data.message) {
        notice(data.message);
      }
    });
    source.addEventListener("error", function () {
      // The browser reconnects by itself (sending Last-Event-ID) unless
      // the server answered with an error; then retry with a growing delay.
      state(source.readyState === EventSource.CLOSED ? "closed" : "connecting");
      if (source.readyState === EventSource.CLOSED && !stopped) {
        window.setTimeout(connect, backoff);
        backoff = Math.min(backoff * 2, 60000);
      }
    });
  }

  function parse(s) {
    try {
      return JSON.parse(s);
    } catch (err) {
      return null;
    }
  }

  if (types().length === 0 && !watched()) {
    return; // nothing on this page changes live
  }
  startPresence();
  connect();
})();
