// segments.js — the visual criteria builder of segments and personas
// (SPEC §6.1–6.3, the criteria JSON of SPEC §12.1).
//
// The page holds the criteria as JSON in a textarea (name="criteria"), the
// form field that is posted: without JavaScript that textarea is the
// editor. With it, this script turns the JSON into a tree of groups and
// conditions, keeps the textarea in sync with every change, asks the
// server for the live count (debounced) and offers a JSON view for power
// users. The vocabulary (fields, operators, events, lists…) and every
// label come from the page (#builder-data), in the page's language.
//
// A page may hold several builders (the conditions of a score): each is
// an element holding its parts, found by data-part (on the segment and
// persona pages, by their ids), started with window.envoiBuilder.mount(el),
// which returns {criteria(), count(), set(tree)}. #criteria-builder starts by
// itself. The vocabulary is the builder's own <script
// type="application/json">, else the page's #builder-data.
function envoiMountBuilder(root) {
  "use strict";

  if (!root) return null;
  if (root._builder) return root._builder;
  var dataEl = root.querySelector('script[type="application/json"]') || document.getElementById("builder-data");
  if (!dataEl) return null;

  // part finds one of the builder's elements: data-part="name", else the
  // id the segment and persona pages give it.
  function part(name, id) {
    return root.querySelector('[data-part="' + name + '"]') || root.querySelector("#" + id);
  }

  if (!dataEl._vocabulary) dataEl._vocabulary = JSON.parse(dataEl.textContent);
  var data = dataEl._vocabulary;
  var L = data.labels || {};
  var textarea = part("json-text", "criteria-json");
  var visual = part("visual", "builder-visual");
  var jsonBox = part("json", "builder-json");
  var modeBtn = part("mode", "builder-mode");
  var jsonError = part("json-error", "json-error");
  var countValue = part("count-value", "live-count-value");
  var countError = part("count-error", "live-count-error");
  var countURL = root.getAttribute("data-count-url");
  if (!textarea || !visual || !jsonBox || !modeBtn || !jsonError) return null;
  var readonly = !!data.readonly;
  var french = data.lang === "fr";

  var fields = {};
  (data.fields || []).forEach(function (f) { fields[f.key] = f; });
  var events = {};
  (data.events || []).forEach(function (e) { events[e.type] = e; });
  // Filters of an event type the builder does not know by name (a custom
  // type such as order.shipped).
  var customFilters = ["url", "min_amount", "min_count", "within_days", "from", "to"];
  var filterOrder = ["campaign", "form", "url", "min_count", "within_days", "from", "to", "min_amount"];

  var tree = null;    // the root group
  var jsonMode = false;
  var seq = 0;        // numbers the elements' ids
  var byPath = {};    // criteria path → element, for located errors

  // ---- The model -----------------------------------------------------------
  // A group is {group: "all"|"any", not, items}; a condition is
  // {not, kind, …} with its values as typed (strings), so that "12," or an
  // unfinished date survive until the person is done.

  function isObject(x) { return x !== null && typeof x === "object" && !Array.isArray(x); }

  function toModel(n) {
    if (!isObject(n)) throw new Error(L.tree_error);
    var keys = Object.keys(n);
    if (keys.length === 1 && keys[0] === "not") {
      var m = toModel(n.not);
      m.not = !m.not;
      return m;
    }
    if (Array.isArray(n.all)) return { group: "all", not: false, items: n.all.map(toModel) };
    if (Array.isArray(n.any)) return { group: "any", not: false, items: n.any.map(toModel) };
    return toCondition(n);
  }

  function text(v) {
    if (v === undefined || v === null) return "";
    if (typeof v === "number") return french ? String(v).replace(".", ",") : String(v);
    return String(v);
  }

  function toCondition(n) {
    var c = { not: false };
    if ("field" in n) {
      c.kind = "field";
      c.field = String(n.field);
      c.op = n.op || "";
      c.value = fromValue(n.value);
    } else if ("score" in n) {
      c.kind = "score";
      c.score = text(n.score);
      c.op = n.op || "";
      c.value = fromValue(n.value);
    } else if ("event" in n) {
      c.kind = "event";
      c.event = String(n.event);
      c.filters = {};
      filterOrder.forEach(function (k) { if (k in n) c.filters[k] = text(n[k]); });
    } else {
      var kinds = ["list", "segment", "persona", "email_status", "sms_status"];
      for (var i = 0; i < kinds.length; i++) {
        if (kinds[i] in n) {
          c.kind = kinds[i];
          c.ref = text(n[kinds[i]]);
          return c;
        }
      }
      throw new Error(L.tree_error);
    }
    return c;
  }

  // fromValue keeps a value as the inputs show it: a string, or a list of
  // strings (between, in, not_in).
  function fromValue(v) {
    if (Array.isArray(v)) return v.map(text);
    if (typeof v === "boolean") return v ? "true" : "false";
    return text(v);
  }

  function newCondition() {
    var first = (data.fields || [])[0];
    return { not: false, kind: "field", field: first ? first.key : "", op: first ? first.ops[0] : "", value: "" };
  }

  // ---- From the model to criteria JSON ---------------------------------------

  function opShape(type, op) {
    var ops = data.operators[type] || [];
    for (var i = 0; i < ops.length; i++) if (ops[i].op === op) return ops[i].value;
    return "one";
  }

  // number reads "1 234,5" or "12.50" as a JSON number when it is one
  // (exactly: at most 15 digits), else leaves the text for the server to
  // explain.
  function number(s) {
    var t = String(s).trim();
    var n = t.replace(/[\s\u00a0\u202f]/g, "");
    if (n.indexOf(",") >= 0 && n.indexOf(".") < 0 && n.split(",").length === 2) n = n.replace(",", ".");
    if (/^-?\d+(\.\d+)?$/.test(n) && n.replace(/[^0-9]/g, "").length <= 15) return Number(n);
    return t;
  }

  function whole(s) {
    var t = String(s).trim();
    return /^\d+$/.test(t) ? Number(t) : t;
  }

  function typed(type, s) {
    if (type === "number" || type === "score") return number(s);
    if (type === "boolean") return s === "true";
    return String(s).trim();
  }

  function conditionJSON(c) {
    var out = {};
    if (c.kind === "field" || c.kind === "score") {
      var type = "score";
      if (c.kind === "field") {
        out.field = c.field;
        type = fields[c.field] ? fields[c.field].type : "text";
      } else {
        out.score = whole(c.score);
      }
      out.op = c.op;
      var shape = opShape(type, c.op);
      var v = c.value;
      if (shape === "one" && v !== "" && !Array.isArray(v)) out.value = typed(type, v);
      if (shape === "days" && v !== "" && !Array.isArray(v)) out.value = whole(v);
      if (shape === "two") {
        var pair = Array.isArray(v) ? v : [v, ""];
        out.value = [typed(type, pair[0] || ""), typed(type, pair[1] || "")];
      }
      if (shape === "list") {
        var list = Array.isArray(v) ? v : String(v).split("\n");
        out.value = list.map(function (x) { return String(x).trim(); })
          .filter(function (x) { return x !== ""; })
          .map(function (x) { return typed(type, x); });
      }
      return out;
    }
    if (c.kind === "event") {
      out.event = c.event;
      allowedFilters(c.event).forEach(function (k) {
        var s = (c.filters[k] || "").trim();
        if (s === "") return;
        if (k === "url" || k === "from" || k === "to") out[k] = s;
        else if (k === "min_amount") out[k] = number(s);
        else out[k] = whole(s);
      });
      return out;
    }
    out[c.kind] = (c.kind === "email_status" || c.kind === "sms_status") ? c.ref : whole(c.ref);
    return out;
  }

  function allowedFilters(type) {
    return events[type] ? events[type].filters : customFilters;
  }

  // toJSON returns the criteria of a node and records where each node is
  // (its path, as the server names it in errors: "all[2].any[0]").
  function toJSON(m, path, paths) {
    var n;
    var inner = path;
    if (m.not) inner = join(path, "not");
    if (m.group) {
      n = {};
      n[m.group] = m.items.map(function (it, i) { return toJSON(it, join(inner, m.group + "[" + i + "]"), paths); });
    } else {
      n = conditionJSON(m);
    }
    if (paths) paths.push([path, m]);
    return m.not ? { not: n } : n;
  }

  function join(path, key) { return path ? path + "." + key : key; }

  function criteriaText() {
    return JSON.stringify(toJSON(tree, "", null), null, 2);
  }

  // ---- Rendering -------------------------------------------------------------

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) return;
        if (k === "text") e.textContent = v;
        else if (k === "on") Object.keys(v).forEach(function (ev) { e.addEventListener(ev, v[ev]); });
        else if (v === true) e.setAttribute(k, "");
        else e.setAttribute(k, v);
      });
    }
    (kids || []).forEach(function (k) { if (k) e.appendChild(typeof k === "string" ? document.createTextNode(k) : k); });
    if (readonly && (tag === "input" || tag === "select" || tag === "textarea")) e.disabled = true;
    return e;
  }

  function nextID(what) { seq++; return "crit-" + what + "-" + seq; }

  // labelled wraps a control in a label (visible or for screen readers).
  function labelled(text, control, visible, cls) {
    return el("label", { "class": "crit-control" + (cls ? " " + cls : "") }, [
      el("span", { "class": visible ? "crit-label" : "sr-only", text: text }), control]);
  }

  function select(options, value, onchange, placeholder) {
    var s = el("select", { on: { change: function () { onchange(s.value); } } });
    if (placeholder !== undefined) s.appendChild(el("option", { value: "", text: placeholder }));
    options.forEach(function (o) {
      if (o.group) {
        var g = el("optgroup", { label: o.group });
        o.options.forEach(function (x) { g.appendChild(el("option", { value: x.value, text: x.label })); });
        s.appendChild(g);
      } else {
        s.appendChild(el("option", { value: o.value, text: o.label }));
      }
    });
    s.value = value;
    if (s.value !== value && placeholder !== undefined) s.value = "";
    return s;
  }

  function changed() {
    textarea.value = criteriaText();
    scheduleCount();
  }

  // rerender draws the tree again after a change of shape, keeping the
  // focus on the same control when it still exists.
  function rerender(focusKey) {
    var active = document.activeElement;
    var key = focusKey || (active && active.getAttribute && active.getAttribute("data-key"));
    seq = 0;
    visual.textContent = "";
    visual.appendChild(renderGroup(tree, null, "g"));
    changed();
    if (key) {
      var again = visual.querySelector('[data-key="' + key + '"]');
      if (again) again.focus();
    }
  }

  function renderGroup(g, parent, key) {
    var isRoot = parent === null;
    var box = el("div", { "class": "crit-group" + (isRoot ? " crit-root" : "") + (g.not ? " crit-negated" : ""), role: "group",
      "aria-label": isRoot ? L.match : L.group, "data-key": key + "-box" });
    box._model = g;
    var head = el("div", { "class": "crit-group-head" });
    var mode = select([{ value: "all", label: L.all }, { value: "any", label: L.any }], g.group, function (v) {
      g.group = v;
      rerender();
    });
    mode.setAttribute("data-key", key + "-mode");
    mode.classList.add("crit-mode");
    head.appendChild(labelled(isRoot ? L.match : L.group, mode, true));
    if (!isRoot) {
      head.appendChild(notToggle(g, key));
      if (!readonly) head.appendChild(el("button", { type: "button", "class": "small crit-remove", "data-key": key + "-remove",
        text: L.remove_group, on: { click: function () { remove(parent, g, parentKey(key)); } } }));
    }
    box.appendChild(head);

    if (g.items.length === 0) {
      box.appendChild(el("p", { "class": "crit-empty muted small", text: g.group === "all" ? L.empty_all : L.empty_any }));
    } else {
      var list = el("ol", { "class": "crit-items" });
      g.items.forEach(function (it, i) {
        var li = el("li", { "class": "crit-item", "data-join": i > 0 ? (g.group === "all" ? L.and : L.or) : null });
        li.appendChild(it.group ? renderGroup(it, g, key + "-" + i) : renderCondition(it, g, key + "-" + i));
        list.appendChild(li);
      });
      box.appendChild(list);
    }
    if (!readonly) {
      box.appendChild(el("div", { "class": "crit-add" }, [
        el("button", { type: "button", "class": "small crit-add-condition", "data-key": key + "-addc", text: "+ " + L.add_condition,
          on: { click: function () { g.items.push(newCondition()); rerender(key + "-" + (g.items.length - 1) + "-what"); } } }),
        el("button", { type: "button", "class": "small crit-add-group", "data-key": key + "-addg", text: "+ " + L.add_group,
          on: { click: function () {
            g.items.push({ group: g.group === "all" ? "any" : "all", not: false, items: [newCondition()] });
            rerender(key + "-" + (g.items.length - 1) + "-0-what");
          } } })]));
    }
    return box;
  }

  // remove takes a condition or group out of its parent group, and puts
  // the focus on that group's "add a condition" button.
  function remove(parent, m, groupKey) {
    var i = parent.items.indexOf(m);
    if (i >= 0) parent.items.splice(i, 1);
    rerender(groupKey + "-addc");
  }

  function parentKey(key) { return key.slice(0, key.lastIndexOf("-")); }

  function notToggle(m, key) {
    var box = el("input", { type: "checkbox", "data-key": key + "-not", on: { change: function () { m.not = box.checked; rerender(); } } });
    box.checked = !!m.not;
    return el("label", { "class": "crit-not", title: L.not_help }, [box, el("span", { text: L.not }),
      el("span", { "class": "sr-only", text: " — " + L.not_help })]);
  }

  // pickerValue is what the criterion picker shows for a condition.
  function pickerValue(c) {
    if (c.kind === "field") return "f:" + c.field;
    if (c.kind === "event") return events[c.event] ? "e:" + c.event : "e:*";
    return c.kind;
  }

  function pickerOptions(c) {
    var out = [];
    (data.groups || []).forEach(function (g) {
      out.push({ group: g.label, options: g.fields.map(function (k) { return { value: "f:" + k, label: fields[k].label }; }) });
    });
    if (c.kind === "field" && !fields[c.field]) {
      out.push({ value: "f:" + c.field, label: c.field }); // an unknown field: the server names the error
    }
    var other = [{ value: "list", label: L.list }, { value: "email_status", label: L.email_status },
      { value: "sms_status", label: L.sms_status }, { value: "segment", label: L.segment }, { value: "persona", label: L.persona }];
    if (c.kind === "score" || (data.scores || []).length > 0) other.push({ value: "score", label: L.score });
    out.push({ group: L.kind_other, options: other });
    var beh = (data.events || []).map(function (e) { return { value: "e:" + e.type, label: e.label }; });
    beh.push({ value: "e:*", label: L.custom_event });
    out.push({ group: L.kind_behaviour, options: beh });
    return out;
  }

  // pick turns a condition into another kind of criterion, keeping the
  // operator and value when the new field has the same type as the old.
  function pick(c, v) {
    var old = { type: c.kind === "field" && fields[c.field] ? fields[c.field].type : null, op: c.op, value: c.value };
    var keepNot = c.not;
    Object.keys(c).forEach(function (k) { delete c[k]; });
    c.not = keepNot;
    if (v.indexOf("f:") === 0) {
      var f = fields[v.slice(2)];
      c.kind = "field";
      c.field = f.key;
      c.op = f.ops[0];
      c.value = "";
      if (old.type === f.type && f.ops.indexOf(old.op) >= 0) {
        c.op = old.op;
        c.value = old.value;
      }
    } else if (v.indexOf("e:") === 0) {
      c.kind = "event";
      c.event = v === "e:*" ? "" : v.slice(2);
      c.filters = {};
    } else if (v === "score") {
      // A score compares as a number: "at least" first.
      var firstScore = (data.scores || [])[0];
      var scoreOps = (data.operators.score || []).map(function (o) { return o.op; });
      c.kind = "score";
      c.score = firstScore ? firstScore.value : "";
      c.op = scoreOps.indexOf("gte") >= 0 ? "gte" : (scoreOps[0] || "");
      c.value = "";
    } else {
      c.kind = v;
      c.ref = "";
    }
  }

  function renderCondition(c, parent, key) {
    var box = el("div", { "class": "crit-condition" + (c.not ? " crit-negated" : ""), role: "group", "aria-label": L.condition, "data-key": key + "-box" });
    box._model = c;
    var row = el("div", { "class": "crit-row" });
    row.appendChild(notToggle(c, key));
    var what = select(pickerOptions(c), pickerValue(c), function (v) {
      pick(c, v);
      rerender(key + "-what");
    });
    what.setAttribute("data-key", key + "-what");
    what.classList.add("crit-what");
    row.appendChild(labelled(L.criterion, what, false, "crit-what-label"));

    if (c.kind === "field" || c.kind === "score") {
      fieldControls(c, key).forEach(function (x) { row.appendChild(x); });
    } else if (c.kind === "event") {
      eventControls(c, key).forEach(function (x) { row.appendChild(x); });
    } else {
      row.appendChild(refControl(c, key));
    }
    if (!readonly) row.appendChild(el("button", { type: "button", "class": "small crit-remove", "data-key": key + "-remove",
      "aria-label": L.remove, title: L.remove, text: "×", on: { click: function () { remove(parent, c, parentKey(key)); } } }));
    box.appendChild(row);
    return box;
  }

  function refControl(c, key) {
    var opts = {
      list: data.lists, segment: data.segments, persona: data.personas,
      email_status: data.email_statuses, sms_status: data.sms_statuses
    }[c.kind] || [];
    if (opts.length === 0) return el("span", { "class": "muted small crit-none", text: L.none_available });
    var s = select(opts, c.ref, function (v) { c.ref = v; changed(); }, L.choose);
    s.setAttribute("data-key", key + "-ref");
    return labelled(L[c.kind], s, false, "crit-value");
  }

  function fieldControls(c, key) {
    var out = [];
    var type = "score";
    var ops = data.operators.score || [];
    if (c.kind === "score") {
      // The account's scores by name; a score the list lacks (deleted, or
      // the one being edited) keeps its id so that the server names it.
      var scores = (data.scores || []).slice();
      if (c.score && !scores.some(function (o) { return o.value === c.score; })) scores.push({ value: c.score, label: "#" + c.score });
      var pickScore = select(scores, c.score, function (v) { c.score = v; changed(); }, L.choose);
      pickScore.setAttribute("data-key", key + "-score");
      out.push(labelled(L.score, pickScore, false, "crit-value"));
    } else {
      var f = fields[c.field];
      type = f ? f.type : "text";
      var all = data.operators[type] || [];
      ops = f ? all.filter(function (o) { return f.ops.indexOf(o.op) >= 0; }) : all;
    }
    var opSel = select(ops.map(function (o) { return { value: o.op, label: o.label }; }), c.op, function (v) {
      var before = opShape(type, c.op);
      c.op = v;
      if (opShape(type, v) !== before) c.value = "";
      rerender(key + "-op");
    });
    opSel.setAttribute("data-key", key + "-op");
    out.push(labelled(L.operator, opSel, false, "crit-op"));
    var shape = opShape(type, c.op);
    var f2 = fields[c.field] || { type: type, choices: [] };
    if (shape === "one") out.push(labelled(L.value, valueInput(f2, c.value, function (v) { c.value = v; changed(); }, key + "-v"), false, "crit-value"));
    if (shape === "days") {
      var d = input("number", Array.isArray(c.value) ? "" : c.value, function (v) { c.value = v; changed(); }, key + "-v");
      d.min = "0";
      d.step = "1";
      out.push(el("span", { "class": "crit-days" }, [labelled(L.value, d, false, "crit-short"), el("span", { text: L.days })]));
    }
    if (shape === "two") {
      var pair = Array.isArray(c.value) ? c.value.slice(0, 2) : [c.value || "", ""];
      while (pair.length < 2) pair.push("");
      c.value = pair;
      out.push(el("span", { "class": "crit-between" }, [
        labelled(L.low, valueInput(f2, pair[0], function (v) { pair[0] = v; changed(); }, key + "-lo"), false, "crit-value"),
        el("span", { "aria-hidden": "true", text: L.high }),
        labelled(L.high, valueInput(f2, pair[1], function (v) { pair[1] = v; changed(); }, key + "-hi"), false, "crit-value")]));
    }
    if (shape === "list") out.push(listInput(f2, c, key));
    return out;
  }

  function input(type, value, oninput, key) {
    var i = el("input", { type: type, "data-key": key, on: { input: function () { oninput(i.value); } } });
    i.value = value || "";
    return i;
  }

  // valueInput is the input of one value of a field's type.
  function valueInput(f, value, onchange, key) {
    switch (f.type) {
      case "number":
      case "score":
        var n = input("text", value, onchange, key);
        n.inputMode = "decimal";
        n.autocomplete = "off";
        return n;
      case "date":
        return input("date", value, onchange, key);
      case "boolean":
        var b = select([{ value: "true", label: L.yes }, { value: "false", label: L.no }], value, onchange, L.choose);
        b.setAttribute("data-key", key);
        return b;
      case "choice":
      case "multi_choice":
        var s = select((f.choices || []).map(function (x) { return { value: x, label: x }; }), value, onchange, L.choose);
        s.setAttribute("data-key", key);
        return s;
    }
    var t = input("text", value, onchange, key);
    t.autocomplete = "off";
    return t;
  }

  // listInput is the input of a list of values: ticks for choices, one
  // value per line otherwise.
  function listInput(f, c, key) {
    var values = Array.isArray(c.value) ? c.value : (c.value ? [c.value] : []);
    c.value = values;
    if (f.type === "choice" || f.type === "multi_choice") {
      var fs = el("fieldset", { "class": "crit-choices" }, [el("legend", { "class": "sr-only", text: L.value })]);
      (f.choices || []).forEach(function (x, i) {
        var box = el("input", { type: "checkbox", value: x, "data-key": key + "-c" + i, on: { change: function () {
          var at = values.indexOf(x);
          if (box.checked && at < 0) values.push(x);
          if (!box.checked && at >= 0) values.splice(at, 1);
          changed();
        } } });
        box.checked = values.indexOf(x) >= 0;
        fs.appendChild(el("label", { "class": "checkbox" }, [box, el("span", { text: x })]));
      });
      return fs;
    }
    var t = el("textarea", { rows: "3", "data-key": key + "-list", on: { input: function () {
      c.value = t.value.split("\n");
      values = c.value;
      changed();
    } } });
    t.value = values.join("\n");
    return labelled(L.value + " (" + L.one_per_line + ")", t, false, "crit-value");
  }

  function eventControls(c, key) {
    var out = [];
    if (!events[c.event]) {
      var typ = input("text", c.event, function (v) { c.event = v.trim(); changed(); }, key + "-type");
      typ.placeholder = "order.shipped";
      typ.autocomplete = "off";
      out.push(labelled(L.event_type, typ, false, "crit-value"));
    }
    var fl = el("div", { "class": "crit-filters", role: "group", "aria-label": L.filters });
    allowedFilters(c.event).forEach(function (k) {
      var type = { from: "date", to: "date", url: "text", min_amount: "text" }[k] || "number";
      var i = input(type, c.filters[k] || "", function (v) { c.filters[k] = v; changed(); }, key + "-" + k);
      if (type === "number") { i.min = k === "within_days" ? "0" : "1"; i.step = "1"; }
      if (k === "min_amount") i.inputMode = "decimal";
      fl.appendChild(labelled(L[k], i, true, "crit-filter crit-filter-" + k));
    });
    out.push(fl);
    return out;
  }

  // ---- The live count ----------------------------------------------------------

  var timer = null;
  var asked = 0;

  function scheduleCount() {
    if (!countURL || !countValue || !countError) return;
    clearTimeout(timer);
    timer = setTimeout(count, 400);
  }

  function currentCriteria() {
    if (!jsonMode) return toJSON(tree, "", null);
    return JSON.parse(textarea.value); // the caller shows a syntax error
  }

  function count() {
    var criteria;
    try {
      criteria = currentCriteria();
    } catch (e) {
      showJSONError(e);
      return;
    }
    var n = ++asked;
    countValue.textContent = L.counting;
    root.setAttribute("aria-busy", "true");
    fetch(countURL, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ criteria: criteria })
    }).then(function (r) {
      return r.json().catch(function () { return { error: L.count_failed }; });
    }).then(function (res) {
      if (n !== asked) return; // a newer count is on its way
      root.removeAttribute("aria-busy");
      showCount(res);
    }, function () {
      if (n !== asked) return;
      root.removeAttribute("aria-busy");
      showCount({ error: L.count_failed });
    });
  }

  function showCount(res) {
    clearInvalid();
    if (res && typeof res.count === "number") {
      countValue.textContent = res.text || String(res.count);
      countValue.setAttribute("data-count", String(res.count));
      countError.hidden = true;
      countError.textContent = "";
      return;
    }
    countValue.textContent = "—";
    countValue.removeAttribute("data-count");
    countError.textContent = (res && res.error) || L.count_failed;
    countError.hidden = false;
    if (res && res.path && !jsonMode) markInvalid(res.path);
  }

  function clearInvalid() {
    Array.prototype.forEach.call(visual.querySelectorAll(".crit-invalid"), function (e) {
      e.classList.remove("crit-invalid");
      e.removeAttribute("aria-describedby");
    });
  }

  // markInvalid outlines the condition or group the server's error is
  // about: the deepest one whose path starts the error's path.
  function markInvalid(path, describedBy) {
    var paths = [];
    toJSON(tree, "", paths);
    var best = null;
    var bestLen = -1;
    paths.forEach(function (p) {
      var at = p[0] === "" ? "criteria" : p[0];
      if ((path === at || path.indexOf(at + ".") === 0) && at.length > bestLen) {
        best = p[1];
        bestLen = at.length;
      }
    });
    if (!best) return;
    var boxes = visual.querySelectorAll(".crit-group, .crit-condition");
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i]._model === best) {
        boxes[i].classList.add("crit-invalid");
        boxes[i].setAttribute("aria-describedby", describedBy || countError.id);
      }
    }
  }

  // ---- The JSON view -------------------------------------------------------------

  function showJSONError(e) {
    jsonError.textContent = L.json_invalid + " " + e.message;
    jsonError.hidden = false;
    textarea.setAttribute("aria-invalid", "true");
    if (countValue) countValue.textContent = "—";
  }

  function hideJSONError() {
    jsonError.hidden = true;
    jsonError.textContent = "";
    textarea.removeAttribute("aria-invalid");
  }

  function setMode(json) {
    jsonMode = json;
    visual.hidden = json;
    jsonBox.hidden = !json;
    modeBtn.setAttribute("aria-pressed", json ? "true" : "false");
    modeBtn.textContent = json ? L.visual_view : L.json_view;
  }

  // fromText reads the textarea into the tree; false (with the error
  // shown) when it is not JSON or not a tree the builder can draw.
  function fromText() {
    try {
      var m = toModel(JSON.parse(textarea.value));
      if (!m.group || m.not) m = { group: "all", not: false, items: [m] };
      tree = m;
      hideJSONError();
      return true;
    } catch (e) {
      showJSONError(e);
      return false;
    }
  }

  modeBtn.addEventListener("click", function () {
    if (!jsonMode) {
      textarea.value = criteriaText();
      hideJSONError();
      setMode(true);
      textarea.focus();
      return;
    }
    if (fromText()) {
      setMode(false);
      rerender();
      modeBtn.focus();
    }
  });

  textarea.addEventListener("input", function () {
    if (!jsonMode) return;
    try {
      JSON.parse(textarea.value);
      hideJSONError();
      scheduleCount();
    } catch (e) {
      showJSONError(e);
    }
  });

  // The form posts the textarea: in the visual view, make sure it holds
  // the tree as drawn.
  var form = textarea.form;
  if (form) form.addEventListener("submit", function () { if (!jsonMode) textarea.value = criteriaText(); });

  // ---- Start -------------------------------------------------------------------

  modeBtn.hidden = false;
  root.classList.add("builder-ready");
  if (fromText()) {
    setMode(false);
    seq = 0;
    visual.appendChild(renderGroup(tree, null, "g"));
    textarea.value = criteriaText();
    // A refused form shows its error; point at the condition it names:
    // where the page says (data-invalid-path; data-invalid-ref is the
    // error's element), or where the live count finds it.
    var formError = document.getElementById("form-error");
    if (root.getAttribute("data-invalid-path")) markInvalid(root.getAttribute("data-invalid-path"), root.getAttribute("data-invalid-ref"));
    else if (formError && formError.textContent) scheduleCount();
  } else {
    setMode(true);
  }

  root._builder = {
    // criteria is the tree as drawn (or as typed in the JSON view); null
    // when the JSON view holds no valid JSON.
    criteria: function () {
      try {
        return currentCriteria();
      } catch (e) {
        return null;
      }
    },
    // count asks for the live count of the tree shown.
    count: scheduleCount,
    // set replaces the tree and draws it.
    set: function (n) {
      textarea.value = JSON.stringify(n, null, 2);
      if (fromText()) {
        setMode(false);
        rerender();
      }
    }
  };
  return root._builder;
}

window.envoiBuilder = { mount: envoiMountBuilder };
envoiMountBuilder(document.getElementById("criteria-builder"));
