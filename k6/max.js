// Closed loop: VUS connections, each sending its next request as soon as it has an answer.
//   k6 run -e VUS=64 -e DURATION=10s -e MIX=product k6/max.js
import { request, SUMMARY_STATS } from "./lib.js";

export const options = {
  scenarios: {
    max: { executor: "constant-vus", vus: Number(__ENV.VUS || 64), duration: __ENV.DURATION || "10s" },
  },
  summaryTrendStats: SUMMARY_STATS,
  discardResponseBodies: true,
};

export default function () {
  request();
}
