// `campaign serve`: a cpp-httplib server over a campaign database. Every request opens the database afresh (the
// runner may be writing it meanwhile; WAL lets both proceed), so the page always shows committed state. The page is
// self-contained (inline CSS/JS) and renders every text that comes from the database with textContent, never as
// HTML, so campaign names, parameter labels and error messages cannot inject markup.
#include "tsunagu/campaign/dashboard.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "tsunagu/campaign/report.hpp"
#include "tsunagu/campaign/store.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"

// After the Eigen-using headers: httplib.h pulls in <resolv.h>, whose `_res` macro breaks Eigen's sources. The
// CPPHTTPLIB_* options Debian's libcpp-httplib was compiled with come from pkg-config (src/CMakeLists.txt).
#include <httplib.h>

namespace tsunagu::campaign {
namespace {

/// Where Debian's libjs-chart.js puts the UMD build (v4: chart.umd.js; v3: chart.min.js / chart.js). The ESM builds
/// (chart.esm.js, chart.mjs) cannot be loaded by a plain <script> tag.
const char* const kChartJsCandidates[] = {
    "/usr/share/javascript/chart.js/chart.umd.js",
    "/usr/share/javascript/chart.js/chart.umd.min.js",
    "/usr/share/javascript/chart.js/chart.min.js",
    "/usr/share/javascript/chart.js/chart.js",
};

// The whole page. Data arrive as JSON from /api/status every 2 s; the DOM is built with createElement/textContent.
// Charts use Chart.js when /chart.js loaded, else <img> tags of the server's SVG plots (an SVG loaded through
// <img> cannot run scripts either).
const char* const kPage = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tsunagu campaign</title>
<link rel="icon" href="data:,">
<style>
  :root { --fg: #1d2330; --muted: #6b7280; --line: #e3e6ea; --accent: #1f77b4; --bg: #f6f7f9; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; padding: 14px 22px; background: #fff;
           border-bottom: 1px solid var(--line); }
  header h1 { font-size: 20px; margin: 0; overflow-wrap: anywhere; }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 16px; padding: 16px 22px; }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
  .wide { grid-column: 1 / -1; }
  h2 { font-size: 15px; margin: 0 0 10px; display: flex; align-items: center; gap: 10px; }
  .badge { padding: 2px 10px; border-radius: 999px; font-size: 12px; font-weight: 600; text-transform: uppercase;
           background: #e5e7eb; }
  .badge.running { background: #d1fae5; color: #065f46; }
  .badge.paused { background: #fef3c7; color: #92400e; }
  .badge.stopped { background: #fee2e2; color: #991b1b; }
  .muted { color: var(--muted); }
  .progress { height: 14px; background: #eef0f3; border-radius: 7px; overflow: hidden; }
  #progress-fill { height: 100%; width: 0; background: var(--accent); transition: width .3s; }
  .buttons { display: flex; gap: 8px; align-items: center; margin-top: 10px; flex-wrap: wrap; }
  button { font: inherit; padding: 5px 14px; border: 1px solid #c9ced6; border-radius: 6px; background: #fff; cursor: pointer; }
  button:hover:not(:disabled) { background: #f0f4f8; }
  button:disabled { opacity: .45; cursor: default; }
  #btn-stop { border-color: #f3b4b4; color: #991b1b; }
  #control-message { color: #991b1b; }
  .chart { position: relative; height: 300px; }
  .chart img { width: 100%; height: 100%; object-fit: contain; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 12px; }
  .table-wrap { overflow: auto; max-height: 520px; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { position: sticky; top: 0; background: #fff; }
  td.error { white-space: normal; color: #991b1b; max-width: 420px; overflow-wrap: anywhere; }
  tr.state-done td.state { color: #065f46; }
  tr.state-failed td.state { color: #991b1b; }
  tr.state-running td.state { color: #1d4ed8; font-weight: 600; }
  tr.state-proposed td.state { color: var(--muted); }
  dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0 0; }
  dl.kv dt { color: var(--muted); }
  dl.kv dd { margin: 0; overflow-wrap: anywhere; }
  .big { font-size: 22px; font-weight: 600; }
  #events { list-style: none; margin: 0; padding: 0; max-height: 260px; overflow: auto; }
  #events li { padding: 2px 0; border-bottom: 1px dotted var(--line); overflow-wrap: anywhere; }
  footer { padding: 4px 22px 18px; color: var(--muted); font-size: 12px; }
</style>
</head>
<body>
<header>
  <h1 id="name">loading...</h1>
  <span id="control" class="badge">-</span>
  <span id="conn" class="muted"></span>
</header>
<main>
  <section class="card wide" id="progress-card">
    <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" id="progress"><div id="progress-fill"></div></div>
    <p id="counts" class="muted"></p>
    <div class="buttons">
      <button id="btn-pause" data-action="pause" disabled>Pause</button>
      <button id="btn-resume" data-action="resume" disabled>Resume</button>
      <button id="btn-stop" data-action="stop" disabled>Stop</button>
      <span id="control-message" role="status"></span>
    </div>
  </section>
  <section class="card" id="best-card"><h2 id="best-title">Best result</h2><div id="best" class="muted">no results yet</div></section>
  <section class="card"><h2>Best so far</h2><div id="best-chart" class="chart"></div></section>
  <section class="card wide"><h2>Parameters vs objective <select id="objective-select" hidden></select></h2>
    <div id="param-charts" class="grid"></div></section>
  <section class="card wide"><h2>Experiments <span id="experiment-count" class="muted"></span></h2>
    <div class="table-wrap"><table id="experiments"><thead></thead><tbody></tbody></table></div></section>
  <section class="card wide"><h2>Events</h2><ul id="events"></ul></section>
</main>
<footer id="footer"></footer>
<script src="/chart.js"></script>
<script>
"use strict";
(function () {
  const POLL_MS = 2000;
  const STATES = ["proposed", "running", "done", "failed"];
  const CONTROLS = ["running", "paused", "stopped"];
  const dash = {
    mode: typeof window.Chart === "function" ? "chartjs" : "svg",
    charts: {}, status: null, polls: 0, svgKey: null, objective: null, layout: null
  };
  window.tsunaguDashboard = dash;  // inspection hook (tests, curious users)

  const $ = (id) => document.getElementById(id);
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function fmt(v) {
    if (v === null || v === undefined) return "";
    if (typeof v !== "number") return String(v);
    if (!isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    if (a >= 1e-3 && a < 1e6) return v.toPrecision(6).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
    return v.toExponential(4);
  }
  function fmtTime(t) { return t ? new Date(t * 1000).toLocaleString() : ""; }
  function withUnit(name, unit) { return unit ? name + " [" + unit + "]" : name; }

  // ---- header, progress, controls -------------------------------------------------------------------------
  function showControl(control) {
    const badge = $("control");
    badge.textContent = control;
    badge.className = "badge" + (CONTROLS.includes(control) ? " " + control : "");
    $("btn-pause").disabled = control !== "running";
    $("btn-resume").disabled = control === "running";
    $("btn-stop").disabled = control === "stopped";
  }
  function renderProgress(d) {
    const c = d.counts;
    const final = c.done + c.failed;
    const pct = c.budget > 0 ? Math.min(100, 100 * final / c.budget) : 0;
    $("progress-fill").style.width = pct.toFixed(1) + "%";
    $("progress").setAttribute("aria-valuenow", pct.toFixed(0));
    $("counts").textContent = final + " / " + c.budget + " toward the budget (" + c.done + " done, " + c.failed +
        " failed) \u00b7 " + c.running + " running \u00b7 " + c.queued + " queued \u00b7 " + c.attempts_failed +
        " failed attempts";
  }

  // ---- best result ----------------------------------------------------------------------------------------
  function kv(pairs) {
    const dl = el("dl", null, "kv");
    for (const [k, v] of pairs) { dl.appendChild(el("dt", k)); dl.appendChild(el("dd", v)); }
    return dl;
  }
  function renderBest(d) {
    const box = $("best");
    box.replaceChildren();
    box.className = "";
    if (d.objectives.length === 1) {
      $("best-title").textContent = "Best result";
      if (!d.best) { box.className = "muted"; box.textContent = "no results yet"; return; }
      const o = d.objectives[0];
      box.appendChild(el("div", fmt(d.best.values[o.name]) + (o.unit ? " " + o.unit : ""), "big"));
      box.appendChild(el("div", o.name + " (" + o.direction + ") \u00b7 experiment " + d.best.experiment, "muted"));
      box.appendChild(kv(Object.entries(d.best.parameters).map(([k, v]) => [k, fmt(v)])));
      return;
    }
    $("best-title").textContent = "Pareto front (" + d.pareto.length + ")";
    if (!d.pareto.length) { box.className = "muted"; box.textContent = "no results yet"; return; }
    const last = d.best_so_far[d.best_so_far.length - 1];
    box.appendChild(el("div", "hypervolume " + fmt(last), "muted"));
    const t = el("table"), head = el("tr");
    head.appendChild(el("th", "experiment"));
    for (const o of d.objectives) head.appendChild(el("th", withUnit(o.name, o.unit)));
    for (const p of d.parameters) head.appendChild(el("th", p.name));
    t.appendChild(head);
    for (const r of d.pareto) {
      const tr = el("tr");
      tr.appendChild(el("td", r.experiment));
      for (const o of d.objectives) tr.appendChild(el("td", fmt(r.values[o.name])));
      for (const p of d.parameters) tr.appendChild(el("td", fmt(r.parameters[p.name])));
      t.appendChild(tr);
    }
    box.appendChild(t);
  }

  // ---- charts ---------------------------------------------------------------------------------------------
  // Objectives modelled on a log scale (values spanning decades) are plotted on one, when every value is positive.
  function logObjective(d, o) {
    return !!o && o.log && d.experiments.every((e) => !(o.name in e.values) || e.values[o.name] > 0);
  }
  function plottable(d) { return d.parameters.filter((p) => p.kind !== "fixed"); }
  function xValue(p, v) {  // categorical labels plot at their index
    if (p.kind === "categorical") { const i = p.choices.indexOf(v); return i >= 0 ? i : null; }
    return typeof v === "number" ? v : null;
  }
  function buildLayout(d) {
    // Chart containers depend only on the spec, which never changes during a campaign: build them once.
    dash.layout = true;
    const sel = $("objective-select");
    sel.replaceChildren();
    for (const o of d.objectives) { const opt = el("option", o.name); opt.value = o.name; sel.appendChild(opt); }
    dash.objective = d.objectives.length ? d.objectives[0].name : null;
    sel.hidden = dash.mode !== "chartjs" || d.objectives.length < 2;
    sel.onchange = () => { dash.objective = sel.value; if (dash.status) renderCharts(dash.status); };
    const grid = $("param-charts");
    grid.replaceChildren();
    plottable(d).forEach((p, i) => {
      const box = el("div", null, "chart");
      box.id = "param-chart-" + i;
      box.dataset.parameter = p.name;
      grid.appendChild(box);
    });
    if (!plottable(d).length) grid.appendChild(el("p", "no variable parameters", "muted"));
    if (dash.mode === "chartjs") {
      const best = el("canvas"); best.id = "best-canvas"; $("best-chart").appendChild(best);
      dash.charts.best = new Chart(best, {
        type: "line",
        data: { datasets: [] },
        options: {
          animation: false, maintainAspectRatio: false, parsing: false,
          scales: { x: { type: "linear", title: { display: true, text: "result number" }, ticks: { precision: 0 } },
                    y: { type: logObjective(d, d.objectives[0]) && d.objectives.length === 1 ? "logarithmic" : "linear",
                         title: { display: true, text: d.best_so_far_label } } },
          plugins: { legend: { display: true } }
        }
      });
      plottable(d).forEach((p, i) => {
        const c = el("canvas"); c.id = "param-canvas-" + i; $("param-chart-" + i).appendChild(c);
        const x = { type: p.log ? "logarithmic" : "linear", title: { display: true, text: withUnit(p.name, p.unit) } };
        if (p.kind === "categorical") {
          // one tick per category, labelled with its text (drawn on the canvas, not parsed as HTML)
          Object.assign(x, { min: -0.5, max: p.choices.length - 0.5,
                             afterBuildTicks: (axis) => { axis.ticks = p.choices.map((_, k) => ({ value: k })); },
                             ticks: { callback: (v) => (p.choices[v] !== undefined ? p.choices[v] : "") } });
        }
        dash.charts["param:" + p.name] = new Chart(c, {
          type: "scatter",
          data: { datasets: [] },
          options: { animation: false, maintainAspectRatio: false, parsing: false,
                     scales: { x: x, y: { title: { display: true, text: "" } } },
                     plugins: { title: { display: true, text: p.name } } }
        });
      });
    } else {
      const img = el("img"); img.id = "best-img"; img.alt = "best-so-far plot"; $("best-chart").appendChild(img);
      plottable(d).forEach((p, i) => {
        const im = el("img"); im.alt = p.name + " vs objective"; im.dataset.parameter = p.name;
        $("param-chart-" + i).appendChild(im);
      });
    }
  }
  function renderCharts(d) {
    const byId = new Map(d.experiments.map((e) => [e.id, e]));
    if (dash.mode === "svg") {
      // Reload the server's SVGs only when the results changed (avoids flicker every poll).
      const key = d.counts.done + "-" + d.counts.attempts_failed + "-" + d.best_so_far.length;
      if (key === dash.svgKey) return;
      dash.svgKey = key;
      $("best-img").src = "/plot/best.svg?v=" + encodeURIComponent(key);
      for (const im of $("param-charts").querySelectorAll("img"))
        im.src = "/plot/param/" + encodeURIComponent(im.dataset.parameter) + ".svg?v=" + encodeURIComponent(key);
      return;
    }
    const best = dash.charts.best;
    const trace = d.best_so_far.map((v, i) => ({ x: i + 1, y: v }));
    const sets = [{ label: "best so far", data: trace, borderColor: "#1f77b4", backgroundColor: "#1f77b4",
                    stepped: true, pointRadius: 2 }];
    if (d.objectives.length === 1) {
      const name = d.objectives[0].name;
      sets.push({ label: "observed", data: d.completion_order.map((id, i) => ({ x: i + 1, y: byId.get(id).values[name] })),
                  showLine: false, borderColor: "#9ecae1", backgroundColor: "#9ecae1", pointRadius: 3 });
    }
    best.data.datasets = sets;
    best.update("none");

    const o = d.objectives.find((q) => q.name === dash.objective) || d.objectives[0];
    const done = d.experiments.filter((e) => e.state === "done");
    const failed = d.experiments.filter((e) => e.state === "failed");
    const ys = done.map((e) => e.values[o.name]).filter((v) => typeof v === "number");
    let floor = 0;
    if (ys.length) {
      const lo = Math.min(...ys), hi = Math.max(...ys);
      floor = lo - 0.05 * (hi > lo ? hi - lo : Math.max(Math.abs(lo), 1));
    }
    for (const p of plottable(d)) {
      const ch = dash.charts["param:" + p.name];
      const pts = (list, y) => list.map((e) => ({ x: xValue(p, e.parameters[p.name]), y: y(e), id: e.id }))
                                   .filter((q) => q.x !== null && typeof q.y === "number");
      ch.data.datasets = [
        { label: "done", data: pts(done, (e) => e.values[o.name]), borderColor: "#1f77b4", backgroundColor: "#1f77b4a0", pointRadius: 4 },
        { label: "failed", data: pts(failed, () => floor), borderColor: "#d62728", backgroundColor: "#d62728",
          pointStyle: "crossRot", pointRadius: 6, borderWidth: 2 }
      ];
      ch.options.scales.y.title.text = withUnit(o.name, o.unit);
      ch.options.scales.y.type = logObjective(d, o) ? "logarithmic" : "linear";
      ch.update("none");
    }
  }

  // ---- experiment table and events ------------------------------------------------------------------------
  function renderTable(d) {
    const table = $("experiments");
    const head = el("tr");
    for (const h of ["id", "attempt", "state"]) head.appendChild(el("th", h));
    for (const p of d.parameters) head.appendChild(el("th", withUnit(p.name, p.unit)));
    for (const o of d.objectives) head.appendChild(el("th", withUnit(o.name, o.unit)));
    head.appendChild(el("th", "error"));
    table.tHead.replaceChildren(head);
    const body = document.createDocumentFragment();
    for (const e of d.experiments.slice().reverse()) {  // newest first
      const tr = el("tr", null, STATES.includes(e.state) ? "state-" + e.state : "");
      tr.dataset.id = String(e.id);
      tr.appendChild(el("td", e.id));
      tr.appendChild(el("td", e.attempt));
      tr.appendChild(el("td", e.state, "state"));
      for (const p of d.parameters) tr.appendChild(el("td", fmt(e.parameters[p.name])));
      for (const o of d.objectives) tr.appendChild(el("td", fmt(e.values[o.name])));
      tr.appendChild(el("td", e.error, "error"));
      body.appendChild(tr);
    }
    table.tBodies[0].replaceChildren(body);
    $("experiment-count").textContent = "(" + d.experiments.length + ")";
  }
  function renderEvents(d) {
    const ul = $("events");
    ul.replaceChildren();
    for (const ev of d.events.slice(-50).reverse()) {
      const li = el("li");
      li.appendChild(el("span", fmtTime(ev.time) + (ev.experiment ? " \u00b7 #" + ev.experiment : "") + " \u00b7 ", "muted"));
      li.appendChild(el("span", ev.message));
      ul.appendChild(li);
    }
  }

  function render(d) {
    dash.status = d;
    $("name").textContent = d.name;
    document.title = d.name + " \u2014 tsunagu";
    showControl(d.control);
    renderProgress(d);
    renderBest(d);
    if (!dash.layout) buildLayout(d);
    renderCharts(d);
    renderTable(d);
    renderEvents(d);
    $("footer").textContent = "updated " + new Date().toLocaleTimeString() + " \u00b7 charts: " +
        (dash.mode === "chartjs" ? "Chart.js" : "SVG") + " \u00b7 refresh every " + POLL_MS / 1000 + " s";
  }

  async function poll() {
    try {
      const r = await fetch("/api/status", { cache: "no-store" });
      const d = await r.json();
      if (!r.ok) throw new Error(d.error || "HTTP " + r.status);
      render(d);
      dash.polls++;
      $("conn").textContent = "";
    } catch (err) {
      $("conn").textContent = "connection problem: " + err.message + " (retrying)";
    }
  }
  async function loop() { await poll(); setTimeout(loop, POLL_MS); }

  async function control(action) {
    const msg = $("control-message");
    msg.textContent = "";
    for (const b of document.querySelectorAll(".buttons button")) b.disabled = true;
    try {
      const r = await fetch("/api/control", { method: "POST", headers: { "Content-Type": "application/json" },
                                              body: JSON.stringify({ action: action }) });
      const body = await r.json();
      if (!r.ok) throw new Error(body.error || "HTTP " + r.status);
      showControl(body.control);
      await poll();
    } catch (err) {
      msg.textContent = "could not " + action + ": " + err.message;
      if (dash.status) showControl(dash.status.control);
    }
  }
  for (const b of document.querySelectorAll(".buttons button")) b.addEventListener("click", () => control(b.dataset.action));
  loop();
})();
</script>
</body>
</html>
)HTML";

std::string error_json(const std::string& message) { return nlohmann::json{{"error", message}}.dump(); }

void send_json(httplib::Response& res, const nlohmann::json& body, int status = 200) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(), "application/json");
}

}  // namespace

void ServeOptions::validate() const {
  if (host.empty()) throw InvalidArgument("serve: host must not be empty");
  if (port < 0 || port > 65535)
    throw InvalidArgument("serve: port " + std::to_string(port) + " is outside 0..65535 (0 = any free port)");
}

struct Dashboard::Impl {
  std::filesystem::path db;
  ServeOptions options;
  std::string chart_js;  ///< the Chart.js source served at /chart.js; empty = not installed
  httplib::Server server;
  int port = -1;                        ///< bound port, -1 before bind()
  std::mutex bind_mutex;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> in_run{false};       ///< run() is between its stop check and the end of listening
  std::atomic<bool> listened{false};     ///< listen_after_bind() was entered (it owns the socket from then on)

  void routes();
  /// httplib's stop() does nothing before the server loop runs; wait for the loop (if run() is entering it) so a
  /// stop() racing with run() is never lost.
  void stop_server() {
    while (in_run.load() && !server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (server.is_running()) server.stop();
  }
};

void Dashboard::Impl::routes() {
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(kPage, "text/html; charset=utf-8");
  });

  server.Get("/chart.js", [this](const httplib::Request&, httplib::Response& res) {
    if (chart_js.empty()) {
      send_json(res, nlohmann::json{{"error", "Chart.js is not installed (Debian package libjs-chart.js)"}}, 404);
      return;
    }
    res.set_header("Cache-Control", "max-age=3600");
    res.set_content(chart_js, "application/javascript; charset=utf-8");
  });

  server.Get("/api/status", [this](const httplib::Request&, httplib::Response& res) {
    const auto store = Store::open(db);
    send_json(res, status_json(store));
  });

  server.Get("/plot/best.svg", [this](const httplib::Request&, httplib::Response& res) {
    const auto store = Store::open(db);
    res.set_header("Cache-Control", "no-store");
    res.set_content(best_so_far_svg(store), "image/svg+xml");
  });

  server.Get(R"(/plot/param/(.+)\.svg)", [this](const httplib::Request& req, httplib::Response& res) {
    const auto store = Store::open(db);
    const std::string name = req.matches[1];
    const auto names = store.spec().space.parameter_names();
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      send_json(res, nlohmann::json{{"error", "no parameter '" + name + "'"}}, 404);
      return;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_content(parameter_svg(store, name), "image/svg+xml");
  });

  server.Post("/api/control", [this](const httplib::Request& req, httplib::Response& res) {
    // Requiring a JSON content type makes a cross-site form post impossible (browsers preflight JSON requests from
    // other origins, and this server answers no CORS preflight).
    const auto type = req.get_header_value("Content-Type");
    if (type.rfind("application/json", 0) != 0) {
      send_json(res, nlohmann::json{{"error", "Content-Type must be application/json"}}, 415);
      return;
    }
    const auto body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object()) {
      send_json(res, nlohmann::json{{"error", "body must be a JSON object like {\"action\": \"pause\"}"}}, 400);
      return;
    }
    const auto it = body.find("action");
    const std::string action = it != body.end() && it->is_string() ? it->get<std::string>() : "";
    std::string control;
    if (action == "pause") control = "paused";
    else if (action == "resume") control = "running";
    else if (action == "stop") control = "stopped";
    else {
      send_json(res, nlohmann::json{{"error", "action must be \"pause\", \"resume\" or \"stop\""}}, 400);
      return;
    }
    auto store = Store::open(db);
    store.set_control(control);
    store.log("control: " + control + " (dashboard)");
    send_json(res, nlohmann::json{{"control", store.control()}});
  });

  // A handler that throws (the database became unreadable, ...) answers 500 with the message instead of a bare
  // error page, so the page can show it.
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_json(res, nlohmann::json{{"error", what}}, 500);
  });
  // Unknown routes get a JSON 404 (handlers that already wrote an error body keep theirs).
  server.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    res.set_content(error_json(res.status == 404 ? "no route " + req.method + " " + req.path
                                                 : "HTTP " + std::to_string(res.status)),
                    "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  // httplib's default also sets SO_REUSEPORT, which would let a second `campaign serve` share the port silently
  // (the kernel then splits the requests between the two); SO_REUSEADDR alone still allows a quick restart.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof yes);
  });
  // Browsers keep connections open between polls; a short keep-alive lets stop() finish within about a second.
  server.set_keep_alive_timeout(1);
}

Dashboard::Dashboard(std::filesystem::path db, ServeOptions options) : impl_(std::make_unique<Impl>()) {
  options.validate();
  (void)Store::open(db);  // fail now (IoError / ParseError) rather than on the first request
  impl_->db = std::move(db);
  if (!options.chart_js.empty()) {
    impl_->chart_js = core::read_file(options.chart_js);  // IoError naming the path
  } else {
    for (const char* candidate : kChartJsCandidates) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(candidate, ec)) {
        impl_->chart_js = core::read_file(candidate);
        break;
      }
    }
  }
  impl_->options = std::move(options);
  impl_->routes();
}

Dashboard::~Dashboard() {
  if (!impl_) return;
  stop();
  // httplib closes a bound socket only from its server loop: when bind() was called but run() never was, enter the
  // loop briefly so that the port is released.
  if (impl_->port >= 0 && !impl_->listened.load()) {
    impl_->listened = true;
    impl_->in_run = true;
    std::thread loop([this] { impl_->server.listen_after_bind(); });
    impl_->stop_server();
    impl_->in_run = false;
    loop.join();
  }
}

int Dashboard::bind() {
  std::lock_guard<std::mutex> lock(impl_->bind_mutex);
  if (impl_->port >= 0) return impl_->port;
  const auto& o = impl_->options;
  int port = -1;
  if (o.port == 0) {
    port = impl_->server.bind_to_any_port(o.host);
  } else if (impl_->server.bind_to_port(o.host, o.port)) {
    port = o.port;
  }
  if (port < 0)
    throw IoError("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                  " (address in use, not an address of this machine, or not permitted)");
  impl_->port = port;
  return port;
}

int Dashboard::port() const noexcept { return impl_->port; }

void Dashboard::run() {
  bind();
  impl_->in_run = true;
  if (impl_->stop_requested.load() || impl_->listened.exchange(true)) {
    impl_->in_run = false;
    return;
  }
  impl_->server.listen_after_bind();
  impl_->in_run = false;
}

void Dashboard::stop() {
  impl_->stop_requested = true;
  impl_->stop_server();
}

}  // namespace tsunagu::campaign
