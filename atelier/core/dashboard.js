// The live dashboard: polls /metrics.json (one small request per interval), keeps the last
// two minutes of points and draws them on canvases. Rates and percentiles come from the
// difference between two successive snapshots, so the page costs the server one read of the
// metrics files per interval and nothing per request.
(function () {
  "use strict";
  const params = new URLSearchParams(location.search);
  const INTERVAL = Math.max(250, Number(params.get("interval")) || 1000);
  const KEEP = Math.max(10, Number(params.get("keep")) || 120);
  const COLORS = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777", "#65a30d", "#dc2626"];
  const state = { history: [], polls: 0, errors: 0, prev: null };
  window.atelierDashboard = state; // for tests and the curious

  function percentile(buckets, bounds, total, q) {
    if (total <= 0) return null;
    const rank = q * total;
    let seen = 0;
    for (let i = 0; i < buckets.length; i++) {
      const n = buckets[i];
      if (n > 0 && seen + n >= rank) {
        const lo = i === 0 ? 0 : bounds[i - 1];
        if (i >= bounds.length) return lo * 1000; // +Inf bucket: its lower bound
        const hi = bounds[i];
        return (lo + (hi - lo) * ((rank - seen) / n)) * 1000;
      }
      seen += n;
    }
    return bounds[bounds.length - 1] * 1000;
  }

  function point(snap, prev) {
    const dt = snap.time - prev.time;
    if (!(dt > 0)) return null;
    const bounds = snap.bounds;
    const all = new Array(bounds.length + 1).fill(0);
    const routes = {};
    let n = 0, e4 = 0, e5 = 0;
    for (const [name, r] of Object.entries(snap.routes)) {
      const p = prev.routes[name] || { count: 0, "4xx": 0, "5xx": 0, buckets: all.map(() => 0) };
      const d = r.count - p.count;
      if (d < 0) return null; // the server restarted: start again from this snapshot
      const db = r.buckets.map((v, i) => v - (p.buckets[i] || 0));
      const row = { rps: d / dt, e4: (r["4xx"] - p["4xx"]) / dt, e5: (r["5xx"] - p["5xx"]) / dt, total: r.count,
                    p50: percentile(db, bounds, d, 0.5), p99: percentile(db, bounds, d, 0.99), internal: r.internal };
      routes[name] = row;
      if (!r.internal) {
        n += d; e4 += r["4xx"] - p["4xx"]; e5 += r["5xx"] - p["5xx"];
        db.forEach((v, i) => { all[i] += v; });
      }
    }
    const g = snap.gauges || {};
    return { t: snap.time, rps: n / dt, e4: e4 / dt, e5: e5 / dt, p50: percentile(all, bounds, n, 0.5),
             p99: percentile(all, bounds, n, 0.99), inUse: g.db_pool_in_use || 0, waiting: g.db_pool_waiting || 0,
             pending: g.pending_writes || 0, routes };
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function fmt(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    if (v === 0) return "0";
    if (v >= 100) return Math.round(v).toLocaleString("en");
    if (v >= 10) return v.toFixed(1);
    return v.toFixed(2);
  }

  function chart(id, series, span) {
    const canvas = document.getElementById(id);
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== w * ratio) { canvas.width = w * ratio; canvas.height = h * ratio; }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const left = 46, right = 8, top = 18, bottom = 16;
    const pw = w - left - right, ph = h - top - bottom;
    let max = 0;
    for (const s of series) for (const v of s.values) if (v !== null && v > max) max = v;
    max = niceMax(max);
    ctx.font = "11px system-ui,sans-serif";
    ctx.strokeStyle = "#eceef1"; ctx.fillStyle = "#777"; ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = top + ph - (ph * i) / 4;
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + pw, y); ctx.stroke();
      ctx.textAlign = "right"; ctx.textBaseline = "middle";
      ctx.fillText(fmt((max * i) / 4), left - 4, y);
    }
    ctx.textAlign = "left"; ctx.textBaseline = "top";
    ctx.fillText(`last ${Math.round((span * INTERVAL) / 1000)} s`, left, top + ph + 3);
    let lx = left;
    series.forEach((s) => {
      ctx.strokeStyle = s.color; ctx.lineWidth = 1.6; ctx.beginPath();
      let started = false;
      s.values.forEach((v, i) => {
        if (v === null) { started = false; return; }
        const x = left + (pw * (i + span - s.values.length)) / (span - 1);
        const y = top + ph - (ph * v) / max;
        if (started) ctx.lineTo(x, y); else { ctx.moveTo(x, y); started = true; }
      });
      ctx.stroke();
      ctx.fillStyle = s.color; ctx.fillRect(lx, 4, 10, 3);
      ctx.fillStyle = "#444"; ctx.textBaseline = "middle"; ctx.fillText(s.name, lx + 13, 6);
      lx += 20 + ctx.measureText(s.name).width;
    });
  }

  function draw() {
    const h = state.history;
    const last = h[h.length - 1];
    const col = (k) => h.map((p) => p[k]);
    // The time axis grows with the history up to KEEP points, so a young page is readable too.
    const span = Math.min(KEEP, Math.max(30, h.length));
    // The busiest routes get a line of their own next to the total.
    const busiest = last ? Object.entries(last.routes).filter(([, r]) => !r.internal)
      .sort((a, b) => b[1].rps - a[1].rps).slice(0, 3).map(([name]) => name) : [];
    const rpsSeries = [{ name: "all", color: "#111827", values: col("rps") }];
    busiest.forEach((name, i) => rpsSeries.push({ name: name.replace(/^GET /, ""), color: COLORS[i],
      values: h.map((p) => (p.routes[name] ? p.routes[name].rps : null)) }));
    chart("c-rps", rpsSeries, span);
    chart("c-lat", [{ name: "p50", color: COLORS[0], values: col("p50") },
                    { name: "p99", color: COLORS[7], values: col("p99") }], span);
    chart("c-err", [{ name: "4xx", color: COLORS[2], values: col("e4") },
                    { name: "5xx", color: COLORS[7], values: col("e5") }], span);
    chart("c-pool", [{ name: "in use", color: COLORS[0], values: col("inUse") },
                     { name: "waiting", color: COLORS[7], values: col("waiting") },
                     { name: "pending writes", color: COLORS[3], values: col("pending") }], span);
    if (!last) return;
    document.getElementById("v-rps").textContent = fmt(last.rps);
    document.getElementById("v-lat").textContent = `${fmt(last.p50)} · ${fmt(last.p99)}`;
    document.getElementById("v-err").textContent = `${fmt(last.e4)} · ${fmt(last.e5)}`;
    document.getElementById("v-pool").textContent = `${fmt(last.inUse)} in use · ${fmt(last.waiting)} waiting`;
    const rows = Object.entries(last.routes).sort((a, b) => (a[1].internal - b[1].internal) || (b[1].rps - a[1].rps));
    document.querySelector("#routes tbody").innerHTML = rows.map(([name, r]) =>
      `<tr class="${r.internal ? "internal" : ""}"><td>${name.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</td>` +
      `<td>${fmt(r.rps)}</td><td>${fmt(r.p50)}</td><td>${fmt(r.p99)}</td>` +
      `<td class="${r.e4 > 0 ? "err" : ""}">${fmt(r.e4)}</td><td class="${r.e5 > 0 ? "err" : ""}">${fmt(r.e5)}</td>` +
      `<td>${r.total.toLocaleString("en")}</td></tr>`).join("");
  }

  function status(text, bad) {
    const el = document.getElementById("status");
    el.textContent = text; el.className = bad ? "bad" : "";
  }

  async function poll() {
    try {
      const response = await fetch("/metrics.json", { cache: "no-store" });
      const snap = await response.json();
      state.polls++;
      if (!snap.enabled) {
        document.getElementById("disabled").style.display = "block";
        status("metrics disabled", true);
        return; // nothing will ever come: stop polling
      }
      document.getElementById("procs").textContent = `${snap.processes} API process(es)`;
      if (state.prev) {
        const p = point(snap, state.prev);
        if (p) { state.history.push(p); if (state.history.length > KEEP) state.history.shift(); }
      }
      state.prev = snap;
      status(`updated ${new Date(snap.time * 1000).toLocaleTimeString("en-GB")} · every ${INTERVAL / 1000} s`, false);
      draw();
    } catch (err) {
      state.errors++;
      status(`server unreachable (${err.message || err})`, true);
    }
    setTimeout(poll, INTERVAL);
  }

  window.addEventListener("resize", draw);
  draw();
  poll();
})();
