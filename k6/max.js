// Closed loop: VUS connections, each sending its next request as soon as it has an answer.
//   k6 run -e VUS=64 -e DURATION=10s -e MIX=product k6/max.js
import { learnIds, MAX_ERROR_RATE, request, SUMMARY_STATS } from "./lib.js";

export const options = {
  scenarios: {
    max: { executor: "constant-vus", vus: Number(__ENV.VUS || 64), duration: __ENV.DURATION || "10s" },
  },
  thresholds: { http_req_failed: [`rate<=${MAX_ERROR_RATE}`] }, // more errors: the run fails (exit 99)
  summaryTrendStats: SUMMARY_STATS,
  discardResponseBodies: true,
};

export function setup() {
  return learnIds();
}

export default function (ranges) {
  request(ranges);
}
