// mailmon's one script: live board updates (server-sent events), the
// "Test now" button, confirmations and form niceties. Every page works
// without it. Server text is only ever set with textContent.
(function () {
  "use strict";
  var csrf = document.body.getAttribute("data-csrf") || "";

  // Live updates of every element with data-id (board rows, the monitor
  // page's current state).
  function live() {
    var els = document.querySelectorAll("[data-id]");
    if (!els.length || !window.EventSource || !csrf) return;
    var ids = [];
    els.forEach(function (el) { ids.push(el.getAttribute("data-id")); });
    var badge = document.getElementById("live");
    var es = new EventSource("/events?ids=" + encodeURIComponent(ids.join(",")));
    es.addEventListener("open", function () {
      if (badge) { badge.textContent = "● live"; badge.setAttribute("data-live", "on"); }
      document.body.setAttribute("data-live", "on");
    });
    es.addEventListener("error", function () {
      if (badge) { badge.textContent = "live updates paused"; badge.setAttribute("data-live", "off"); }
    });
    es.addEventListener("logout", function () { es.close(); window.location.href = "/login"; });
    es.addEventListener("state", function (msg) {
      var ev;
      try { ev = JSON.parse(msg.data); } catch (e) { return; }
      document.querySelectorAll('[data-id="' + String(Number(ev.id)) + '"]').forEach(function (el) {
        apply(el, ev);
        if (el.getAttribute("data-member")) domainHead(el.getAttribute("data-member"));
      });
    });
  }

  function apply(el, ev) {
    var st = el.querySelector(".c-state .state");
    if (st && el.classList.contains("row")) count(st.getAttribute("data-state"), ev.state);
    if (st) {
      st.className = "state st-" + ev.state;
      st.setAttribute("data-state", ev.state);
      st.querySelector(".icon").textContent = ev.icon;
      st.querySelector(".label").textContent = ev.label;
    }
    if (el.classList.contains("row")) el.className = "row st-" + ev.state;
    var rtt = el.querySelector(".c-rtt");
    // A failed test's time is its timeout, not the server's speed.
    if (rtt) rtt.textContent = (ev.result === "down" ? "" : ev.rtt) || "–";
    var beats = el.querySelector(".beats");
    if (beats && ev.result) {
      var bar = document.createElement("span");
      bar.className = "beat b-" + ev.result;
      bar.title = ev.time + " · " + (ev.result === "down" ? "failed" + (ev.code ? ": " + ev.code : "") : (ev.rtt || ""));
      beats.appendChild(bar);
      if (beats.firstElementChild) beats.removeChild(beats.firstElementChild);
    }
    var when = el.querySelector(".c-when");
    if (when) when.textContent = ev.time;
    var err = el.querySelector(".c-err");
    if (err) {
      err.textContent = "";
      if (ev.code) {
        var code = document.createElement("code");
        code.textContent = ev.code;
        err.appendChild(code);
        err.appendChild(document.createTextNode(" " + (ev.message || "")));
      }
    }
  }

  // A domain's heading shows the worst state of its rows.
  var worst = ["down", "lost", "warn", "up", "maintenance", "pending", "disabled"];
  function domainHead(id) {
    var head = document.getElementById(id), best = null, rank = worst.length;
    if (!head) return;
    document.querySelectorAll('tr[data-member="' + id + '"] .c-state .state').forEach(function (st) {
      var r = worst.indexOf(st.getAttribute("data-state"));
      if (r >= 0 && r < rank) { rank = r; best = st; }
    });
    var cur = head.querySelector(".c-state .state");
    if (!best || !cur) return;
    cur.parentNode.replaceChild(best.cloneNode(true), cur);
    head.className = "domain-head st-" + worst[rank];
  }

  // The board's counts follow the rows' changes.
  function count(from, to) {
    if (!from || from === to) return;
    [[from, -1], [to, 1]].forEach(function (d) {
      var n = document.querySelector('#counts a[data-state="' + d[0] + '"] .n');
      if (!n) return;
      var v = Math.max(0, (parseInt(n.textContent, 10) || 0) + d[1]);
      n.textContent = String(v);
      n.parentNode.classList.toggle("some", v > 0);
    });
  }

  // "Test now": post with the CSRF header, show the outcome, reload.
  function testNow() {
    document.querySelectorAll("form.test-now").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var btn = form.querySelector("button");
        var out = document.getElementById("test-result");
        btn.disabled = true;
        if (out) out.textContent = "testing…";
        fetch(form.action, { method: "POST", headers: { "X-CSRF-Token": csrf, "Accept": "application/json" }, credentials: "same-origin" })
          .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
          .then(function (res) {
            if (out) out.textContent = res.status + " in " + res.rtt + (res.code ? " — " + res.code + ": " + res.message : "");
            setTimeout(function () { window.location.reload(); }, 1500);
          })
          .catch(function (err) { if (out) out.textContent = "test failed: " + err.message; btn.disabled = false; });
      });
    });
  }

  // Forms that destroy ask first.
  function confirms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        if (!window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
      });
    });
  }

  // The port's placeholder follows the TLS mode (25/465, 110/995, 143/993).
  function ports() {
    var def = document.getElementById("default-ports");
    if (!def) return;
    var map = {};
    def.getAttribute("data-ports").trim().split(/\s+/).forEach(function (kv) {
      var i = kv.lastIndexOf(":");
      map[kv.slice(0, i)] = kv.slice(i + 1);
    });
    document.querySelectorAll("select.tls-select").forEach(function (sel) {
      var port = document.getElementById("f-" + sel.getAttribute("data-port"));
      if (!port) return;
      var smtp = sel.name.indexOf("smtp.") === 0;
      function upd() {
        var p = smtp ? (sel.value === "implicit" ? "465" : "25") : map[sel.value];
        if (p && p !== "0") port.placeholder = p;
      }
      sel.addEventListener("change", upd);
      upd();
    });
  }

  // The alert form shows the fields of the chosen kind.
  function alertKind() {
    var kind = document.getElementById("alert-kind");
    if (!kind) return;
    function upd() {
      document.querySelectorAll("fieldset[data-kind]").forEach(function (fs) {
        fs.hidden = fs.getAttribute("data-kind") !== kind.value;
      });
    }
    kind.addEventListener("change", upd);
    upd();
  }

  // The board's device groups fold; the folded ones are remembered.
  function groupsFold() {
    var key = "mailmon.folded";
    var folded = {};
    try { folded = JSON.parse(window.localStorage.getItem(key) || "{}") || {}; } catch (e) { folded = {}; }
    document.querySelectorAll("button.group-button").forEach(function (btn) {
      var rows = document.getElementById(btn.getAttribute("aria-controls"));
      if (!rows) return;
      function set(open) {
        btn.setAttribute("aria-expanded", open ? "true" : "false");
        rows.hidden = !open;
      }
      var id = btn.getAttribute("data-group");
      set(!folded[id]);
      btn.addEventListener("click", function () {
        var open = btn.getAttribute("aria-expanded") !== "true";
        set(open);
        if (open) delete folded[id]; else folded[id] = 1;
        try { window.localStorage.setItem(key, JSON.stringify(folded)); } catch (e) { /* private mode */ }
      });
    });
  }

  // A domain's health monitors fold under its heading (folded at first:
  // the heading tells their worst state and findings); the button opens
  // them.
  function domainsFold() {
    document.querySelectorAll("button.domain-button").forEach(function (btn) {
      var rows = btn.getAttribute("aria-controls").split(" ").map(function (id) { return document.getElementById(id); });
      function set(open) {
        btn.setAttribute("aria-expanded", open ? "true" : "false");
        rows.forEach(function (r) { if (r) r.hidden = !open; });
      }
      set(false);
      btn.addEventListener("click", function () { set(btn.getAttribute("aria-expanded") !== "true"); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    live(); testNow(); confirms(); ports(); alertKind(); groupsFold(); domainsFold();
  });
})();
