// Shared by the k6 scenarios: the same endpoints, mixes and id ranges as `atelier loadtest`
// (atelier/loadtest/mixes.py and discover.py). Settings come from environment variables
// (k6 run -e NAME=value):
//   BASE_URL         default http://127.0.0.1:3000; only loopback unless ALLOW_REMOTE=1
//   MIX              legacy (default), shopper, or one endpoint name (product, styles, ...)
//   IDS              uniform (default) or recent (the last 10% of each range)
//   MAX_ID, MAX_QUESTION_ID, MAX_REVIEW_ID
//                    highest ids, drawn from 1; each one not given is learned from the target in
//                    setup(), as `atelier loadtest` learns it (see learnIds below)
//   MAX_ERROR_RATE   failed requests allowed (default 0.01): above it the run fails (exit 99)
import http from "k6/http";

export const BASE_URL = (__ENV.BASE_URL || "http://127.0.0.1:3000").replace(/\/$/, "");
const hostMatch = BASE_URL.match(/^https?:\/\/(\[[^\]]+\]|[^:/]+)/);
const host = hostMatch ? hostMatch[1].replace(/^\[|\]$/g, "") : "";
const loopback = host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
if (!loopback && __ENV.ALLOW_REMOTE !== "1") {
  throw new Error(`refusing to load-test ${host}: not this machine (set ALLOW_REMOTE=1 if you mean it)`);
}

const RECENT = (__ENV.IDS || "uniform") === "recent";
const SAMPLE = 25; // products read from each end of the catalogue when looking for question and review ids

function getJson(path) {
  const r = http.get(BASE_URL + path, { tags: { endpoint: "setup" }, responseType: "text" });
  if (r.status !== 200) throw new Error(`cannot learn the ids: GET ${path} answered ${r.status}`);
  return JSON.parse(r.body);
}

function productAt(position) {
  const page = getJson(`/products?page=${position}&count=1`);
  return page.length ? page[0].id : null;
}

// The number of products: an exponential then a binary search over pages of one product.
function productCount() {
  if (productAt(1) === null) throw new Error("cannot learn the ids: the target lists no products");
  let low = 1, high = 2;
  while (productAt(high) !== null) { low = high; high *= 2; }
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (productAt(middle) !== null) low = middle; else high = middle;
  }
  return low;
}

function childIds(kind, product) {
  const body = kind === "question" ? getJson(`/qa/questions?product_id=${product}&count=1000`)
    : getJson(`/reviews?product_id=${product}&count=1000&sort=newest`);
  return body.results.map((r) => (kind === "question" ? r.question_id : r.review_id));
}

// The full range [low, high] of each kind of id the mix draws; call it from setup().
export function learnIds() {
  const given = { product: __ENV.MAX_ID, question: __ENV.MAX_QUESTION_ID, review: __ENV.MAX_REVIEW_ID };
  const ranges = {};
  for (const kind of KINDS) if (given[kind]) ranges[kind] = [1, Number(given[kind])];
  if (KINDS.has("page") && given.product) ranges.page = [1, Math.max(1, Math.ceil(Number(given.product) / 5))];
  const missing = [...KINDS].filter((k) => !ranges[k]);
  if (!missing.length) return ranges;
  const count = productCount();
  if (missing.includes("product")) ranges.product = [productAt(1), productAt(count)];
  if (missing.includes("page")) ranges.page = [1, Math.max(1, Math.ceil(count / 5))];
  const top = [], bottom = [];
  for (let p = count; p > Math.max(0, count - SAMPLE); p--) top.push(p);
  for (let p = 1; p <= Math.min(count, SAMPLE); p++) bottom.push(p);
  for (const kind of missing.filter((k) => k === "question" || k === "review")) {
    const seen = [...firstIds(kind, top), ...firstIds(kind, bottom)];
    if (!seen.length) throw new Error(`cannot learn the ids: no ${kind} ids among the first and last ${SAMPLE} products`);
    ranges[kind] = [Math.min(...seen), Math.max(...seen)];
  }
  console.log(`ids: ${JSON.stringify(ranges)} (learned from the target unless given)`);
  return ranges;
}

// The ids listed for the products at `positions`, read in that order until one has some.
function firstIds(kind, positions) {
  for (const position of positions) {
    const ids = childIds(kind, productAt(position));
    if (ids.length) return ids;
  }
  return [];
}

function id(ranges, kind) {
  const [low, high] = ranges[kind];
  const from = RECENT ? high - Math.max(1, Math.floor((high - low + 1) / 10)) + 1 : low;
  return from + Math.floor(Math.random() * (high - from + 1));
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
const KINDS = new Set(Object.keys(weights).map((name) => ENDPOINTS[name][2]).filter((kind) => kind));
const total = Object.values(weights).reduce((a, b) => a + b, 0);
let acc = 0;
const TABLE = Object.entries(weights).map(([name, w]) => { acc += w / total; return [acc, name]; });

// One request of the mix, tagged with its endpoint name (k6 reports per tag); `ranges` from learnIds().
export function request(ranges) {
  const r = Math.random();
  const name = (TABLE.find(([cum]) => r < cum) || TABLE[TABLE.length - 1])[1];
  const [method, path, kind] = ENDPOINTS[name];
  const url = BASE_URL + (kind ? path.replace("{id}", id(ranges, kind)) : path);
  const params = { tags: { endpoint: name } };
  if (method === "GET") {
    if (name === "cart") params.cookies = { atelier_session: `loadtest-${1 + Math.floor(Math.random() * 1000)}` };
    return http.get(url, params);
  }
  const body = name === "interactions" ? INTERACTION : null;
  return http.request(method, url, body, Object.assign(params, JSON_HEADERS));
}

export const MAX_ERROR_RATE = Number(__ENV.MAX_ERROR_RATE || 0.01);
export const THRESHOLDS = {
  http_req_failed: [`rate<=${MAX_ERROR_RATE}`],
  http_req_duration: [`p(99)<${__ENV.P99_MS || 100}`],
};
export const SUMMARY_STATS = ["avg", "min", "med", "p(90)", "p(99)", "max", "count"];
