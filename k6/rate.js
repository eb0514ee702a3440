// Open loop: RATE requests per second for DURATION, whatever the server's pace (k6's
// constant-arrival-rate; iterations it could not start in time are reported as dropped_iterations).
//   k6 run -e RATE=2000 -e DURATION=10s -e MIX=legacy k6/rate.js
import { learnIds, request, THRESHOLDS, SUMMARY_STATS } from "./lib.js";

const RATE = Number(__ENV.RATE || 1000);

export const options = {
  scenarios: {
    rate: {
      executor: "constant-arrival-rate",
      rate: RATE,
      timeUnit: "1s",
      duration: __ENV.DURATION || "10s",
      preAllocatedVUs: Number(__ENV.VUS || Math.max(20, Math.ceil(RATE / 50))),
      maxVUs: Number(__ENV.MAX_VUS || Math.max(100, Math.ceil(RATE / 10))),
    },
  },
  thresholds: THRESHOLDS,
  summaryTrendStats: SUMMARY_STATS,
  discardResponseBodies: true,
};

export function setup() {
  return learnIds();
}

export default function (ranges) {
  request(ranges);
}
