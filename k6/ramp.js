// Stepping rates to find the knee: each rate of RATES (requests/s) held for STEP, open loop.
// Read the knee from the per-step figures k6 prints (tagged step=<rate>): the highest rate whose
// step has under 1% failed requests and p99 under the limit.
//   k6 run -e RATES=1000,2000,4000,8000 -e STEP=10s k6/ramp.js
import { learnIds, MAX_ERROR_RATE, request, SUMMARY_STATS } from "./lib.js";

const RATES = (__ENV.RATES || "1000,2000,4000,8000,16000,32000").split(",").map(Number);
const STEP = __ENV.STEP || "10s";
const seconds = Number(STEP.replace(/s$/, ""));
const P99 = Number(__ENV.P99_MS || 100);

const scenarios = {};
const thresholds = {};
RATES.forEach((rate, i) => {
  scenarios[`step_${rate}`] = {
    executor: "constant-arrival-rate",
    rate,
    timeUnit: "1s",
    duration: STEP,
    startTime: `${i * (seconds + 2)}s`, // two quiet seconds between steps for the server to drain
    preAllocatedVUs: Math.max(20, Math.ceil(rate / 50)),
    maxVUs: Math.max(100, Math.ceil(rate / 10)),
    tags: { step: String(rate) },
  };
  // One threshold per step so that the summary lists each step's figures.
  thresholds[`http_req_duration{step:${rate}}`] = [{ threshold: `p(99)<${P99}`, abortOnFail: false }];
  thresholds[`http_req_failed{step:${rate}}`] = [{ threshold: `rate<=${MAX_ERROR_RATE}`, abortOnFail: false }];
});

export const options = { scenarios, thresholds, summaryTrendStats: SUMMARY_STATS, discardResponseBodies: true };

export function setup() {
  return learnIds();
}

export default function (ranges) {
  request(ranges);
}

export function handleSummary(data) {
  const lines = ["offered/s   p50 ms    p99 ms   failed   holds"];
  let knee = null;
  for (const rate of RATES) {
    const d = data.metrics[`http_req_duration{step:${rate}}`];
    const f = data.metrics[`http_req_failed{step:${rate}}`];
    if (!d || !f) continue;
    const p99 = d.values["p(99)"];
    const failed = f.values.rate;
    const holds = p99 < P99 && failed <= MAX_ERROR_RATE;
    if (holds && (knee === null || rate > knee)) knee = rate;
    lines.push(`${String(rate).padStart(9)} ${d.values.med.toFixed(2).padStart(8)} ${p99.toFixed(2).padStart(9)} ` +
               `${(100 * failed).toFixed(2).padStart(7)}%   ${holds ? "yes" : "NO"}`);
  }
  lines.push(`knee: ${knee === null ? "none" : knee + "/s"} (p99 < ${P99} ms, failed <= ${100 * MAX_ERROR_RATE}%)`);
  return { stdout: lines.join("\n") + "\n", "reports/k6-ramp.json": JSON.stringify(data, null, 2) };
}
