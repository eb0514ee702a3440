// Shared by the k6 scenarios: the same endpoints, mixes and id ranges as `atelier loadtest`
// (atelier/loadtest/mixes.py). Settings come from environment variables (k6 run -e NAME=value):
//   BASE_URL      default http://127.0.0.1:3000; only loopback unless ALLOW_REMOTE=1
//   MIX           legacy (default), shopper, or one endpoint name (product, styles, ...)
//   IDS           uniform (default) or recent (the last 10% of ids)
//   MAX_ID        highest product id, default 1000011 (question and review ids scale with it)
import http from "k6/http";

export const BASE_URL = (__ENV.BASE_URL || "http://127.0.0.1:3000").replace(/\/$/, "");
const hostMatch = BASE_URL.match(/^https?:\/\/(\[[^\]]+\]|[^:/]+)/);
const host = hostMatch ? hostMatch[1].replace(/^\[|\]$/g, "") : "";
const loopback = host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
if (!loopback && __ENV.ALLOW_REMOTE !== "1") {
  throw new Error(`refusing to load-test ${host}: not this machine (set ALLOW_REMOTE=1 if you mean it)`);
}

const MAX_ID = Number(__ENV.MAX_ID || 1000011);
const FULL_PRODUCTS = 1000011;
const TOPS = {
  product: MAX_ID,
  page: Math.max(1, Math.ceil(MAX_ID / 5)),
  question: Math.max(1, Math.round((MAX_ID * 3518963) / FULL_PRODUCTS)),
  review: Math.max(1, Math.round((MAX_ID * 5774952) / FULL_PRODUCTS)),
};
const RECENT = (__ENV.IDS || "uniform") === "recent";

function id(kind) {
  const top = TOPS[kind];
  const low = RECENT ? Math.max(1, top - Math.floor(top / 10) + 1) : 1;
  return low + Math.floor(Math.random() * (top - low + 1));
}

const INTERACTION = JSON.stringify({ element: "img", widget: "related-products", time: "2021-03-17T12:00:00.000Z" });
const JSON_HEADERS = { headers: { "Content-Type": "application/json" } };

// name -> [method, path with {id}, id kind]
const ENDPOINTS = {
  products: ["GET", "/products?page={id}&count=5", "page"],
  product: ["GET", "/products/{id}", "product"],
  styles: ["GET", "/products/{id}/styles", "product"],
  related: ["GET", "/products/{id}/related", "product"],
  reviews: ["GET", "/reviews?product_id={id}", "product"],
  "reviews-meta": ["GET", "/reviews/meta?product_id={id}", "product"],
  questions: ["GET", "/qa/questions?product_id={id}", "product"],
  answers: ["GET", "/qa/questions/{id}/answers", "question"],
  cart: ["GET", "/cart", ""],
  interactions: ["POST", "/interactions", ""],
  helpful: ["PUT", "/reviews/{id}/helpful", "review"],
  health: ["GET", "/health", ""],
};

const MIXES = {
  legacy: { products: 1, product: 1, styles: 1, related: 1, reviews: 1, "reviews-meta": 1, questions: 1, answers: 1 },
  shopper: { products: 5, product: 18, styles: 18, related: 10, reviews: 12, "reviews-meta": 12, questions: 10,
             answers: 6, cart: 3, interactions: 5, helpful: 1 },
};

const mixName = __ENV.MIX || "legacy";
const weights = MIXES[mixName] || (ENDPOINTS[mixName] ? { [mixName]: 1 } : null);
if (!weights) throw new Error(`unknown MIX ${mixName}`);
const total = Object.values(weights).reduce((a, b) => a + b, 0);
let acc = 0;
const TABLE = Object.entries(weights).map(([name, w]) => { acc += w / total; return [acc, name]; });

// One request of the mix, tagged with its endpoint name (k6 reports per tag).
export function request() {
  const r = Math.random();
  const name = (TABLE.find(([cum]) => r < cum) || TABLE[TABLE.length - 1])[1];
  const [method, path, kind] = ENDPOINTS[name];
  const url = BASE_URL + (kind ? path.replace("{id}", id(kind)) : path);
  const params = { tags: { endpoint: name } };
  if (method === "GET") {
    if (name === "cart") params.cookies = { atelier_session: `loadtest-${1 + Math.floor(Math.random() * 1000)}` };
    return http.get(url, params);
  }
  const body = name === "interactions" ? INTERACTION : null;
  return http.request(method, url, body, Object.assign(params, JSON_HEADERS));
}

export const THRESHOLDS = {
  http_req_failed: [`rate<${__ENV.MAX_ERROR_RATE || 0.01}`],
  http_req_duration: [`p(99)<${__ENV.P99_MS || 100}`],
};
export const SUMMARY_STATS = ["avg", "min", "med", "p(90)", "p(99)", "max", "count"];
