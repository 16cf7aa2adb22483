// scores.js — the lead scoring pages (SPEC §5).
//
// On a score's page: each condition of the form holds a criteria builder
// (segments.js, window.envoiBuilder); this script starts them, shows the
// number the chosen mode uses (the value, or the coefficient of a field's
// value) with the mode's explanation, steers the criterion when the mode
// changes (a per-event condition needs an event criterion, a field-value
// condition a criterion on a custom Number field), and adds and removes
// conditions in the page. Without JavaScript the form still works: both
// numbers show, the criteria are JSON, and "add" and "remove" are buttons
// the server answers.
//
// On the score list: while a calculation is queued or running, its state
// and progress bar follow it every second (GET /contacts/scores/runs/{id});
// when it ends the list reloads to show when each score was computed.
(function () {
  "use strict";

  // ---- The conditions of the score form --------------------------------------

  var vocabulary = null;

  function vocab() {
    if (vocabulary === null) {
      var el = document.getElementById("builder-data");
      try {
        vocabulary = el ? JSON.parse(el.textContent) : {};
      } catch (e) {
        vocabulary = {};
      }
    }
    return vocabulary;
  }

  // single is the criterion itself when the tree is a group of one, as
  // the server reads it.
  function single(n) {
    if (n && typeof n === "object" && Object.keys(n).length === 1) {
      var items = Array.isArray(n.all) ? n.all : (Array.isArray(n.any) ? n.any : null);
      if (items && items.length === 1) return items[0];
    }
    return n;
  }

  function numberFields() {
    return (vocab().fields || []).filter(function (f) { return f.kind === "custom" && f.type === "number"; });
  }

  function fits(mode, n) {
    n = single(n);
    if (!n || typeof n !== "object") return false;
    if (mode === "per_event") return typeof n.event === "string" && n.event !== "";
    if (mode === "field_value") {
      return numberFields().some(function (f) { return f.key === n.field; });
    }
    return true;
  }

  // show puts up the number and the explanation of the chosen mode.
  function show(li) {
    var mode = li.querySelector(".cond-mode").value;
    li.querySelector(".cond-value").hidden = mode === "field_value";
    li.querySelector(".cond-coef").hidden = mode !== "field_value";
    var help = li.querySelector(".cond-help");
    if (help) help.textContent = help.getAttribute("data-help-" + mode) || "";
  }

  // steer gives the condition a criterion its new mode accepts, when it
  // has none: the first event type, or "the first Number field is not
  // empty". Without a custom Number field the explanation says so.
  function steer(li, builder) {
    var mode = li.querySelector(".cond-mode").value;
    if (!builder || fits(mode, builder.criteria())) return;
    if (mode === "per_event") {
      var ev = (vocab().events || [])[0];
      if (ev) builder.set({ event: ev.type });
    } else if (mode === "field_value") {
      var f = numberFields()[0];
      if (f) builder.set({ field: f.key, op: "not_empty" });
      else {
        var help = li.querySelector(".cond-help");
        if (help) help.textContent = help.getAttribute("data-help-field_value") + " " + (li.closest("form").getAttribute("data-no-number-field") || "");
      }
    }
  }

  function setup(li) {
    if (li._scoreReady) return;
    li._scoreReady = true;
    var root = li.querySelector("[data-builder]");
    var builder = window.envoiBuilder && root ? window.envoiBuilder.mount(root) : null;
    if (builder) builder.count();
    show(li);
    li.querySelector(".cond-mode").addEventListener("change", function () {
      show(li);
      steer(li, builder);
    });
  }

  function conditions() {
    var list = document.getElementById("condition-list");
    return list ? Array.prototype.slice.call(list.querySelectorAll(":scope > .score-condition")) : [];
  }

  function renumber() {
    conditions().forEach(function (li, i) {
      var n = li.querySelector(".cond-number");
      if (n) n.textContent = String(i + 1);
    });
  }

  var added = 0;

  function addCondition() {
    var tpl = document.getElementById("condition-template");
    var list = document.getElementById("condition-list");
    if (!tpl || !list) return false;
    added++;
    list.insertAdjacentHTML("beforeend", tpl.innerHTML.replace(/__N__/g, "new" + added));
    var li = list.lastElementChild;
    setup(li);
    renumber();
    li.querySelector(".cond-mode").focus();
    return true;
  }

  function removeCondition(li) {
    var add = document.getElementById("add-condition");
    li.remove();
    renumber();
    if (add) add.focus();
  }

  document.addEventListener("click", function (e) {
    var target = e.target instanceof Element ? e.target : null;
    if (!target) return;
    if (target.closest("#add-condition")) {
      if (addCondition()) e.preventDefault();
      return;
    }
    var remove = target.closest(".cond-remove");
    if (remove) {
      var li = remove.closest(".score-condition");
      if (li) {
        e.preventDefault();
        removeCondition(li);
      }
    }
  });

  function start() {
    conditions().forEach(setup);
  }

  // ---- The calculation's progress on the list ------------------------------------

  function busy() {
    var a = document.activeElement;
    return !!(a && a !== document.body && a.matches("input, textarea, select"));
  }

  function update(el, s) {
    if (el.getAttribute("data-run") !== String(s.id)) return; // the page changed meanwhile
    el.setAttribute("data-state", s.state);
    var state = document.getElementById("score-run-state");
    var detail = document.getElementById("score-run-detail");
    var progress = document.getElementById("score-run-progress");
    var percent = document.getElementById("score-run-percent");
    if (state) {
      state.textContent = s.label;
      state.className = "status status-" + s.state;
    }
    if (detail) detail.textContent = s.detail;
    if (progress) {
      progress.value = s.percent;
      progress.textContent = s.percent_text;
    }
    if (percent) percent.textContent = s.percent_text;
    if (s.active) return;
    el.removeAttribute("data-active");
    // The list shows when each score was computed: load it again, unless
    // the person is typing (then offer to).
    if (!busy()) {
      el.setAttribute("data-reloading", "");
      window.location.assign("/contacts/scores");
      return;
    }
    var finished = document.getElementById("score-run-finished");
    if (finished) finished.hidden = false;
  }

  function poll() {
    var el = document.getElementById("score-run");
    if (!el || !el.hasAttribute("data-active") || !window.fetch) {
      window.setTimeout(poll, 1000);
      return;
    }
    fetch(el.getAttribute("data-url"), { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s) update(el, s); }, function () { /* the next tick tries again */ })
      .then(function () { window.setTimeout(poll, 1000); });
  }

  start();
  // live.js swaps the page's content when someone changes a score: start
  // the new conditions' builders.
  document.addEventListener("envoi:refreshed", start);
  if (document.getElementById("score-calculation")) poll();
})();
