// A Cosmos DB SQL-API server on loopback for the Cosmos projection suites:
// npm @vercel/cosmosdb-server (an independent, in-memory implementation)
// behind a small bridge for the places where it differs from the real
// service. Test-only: the product has no knowledge of it, and each bridged
// divergence below is one function that says what the real service does.
//
//   node server.mjs --cert CERT.pem --key KEY.pem [--port 0]
//
// Prints `listening https://127.0.0.1:PORT/` on stdout once it accepts
// connections, and with COSMOS_BRIDGE_LOG=1 one line per request on stderr.
//
// Not bridged (the client is configured instead, see tests/src/cosmos.rs):
// the server speaks HTTP/1.1 only and parses JSON bodies only, so the SDK
// runs with AZURE_COSMOS_CONNECTION_POOL_IS_HTTP2_ALLOWED=false and
// AZURE_COSMOS_BINARY_ENCODING_ENABLED=false; its bundled certificate is
// expired and names no host, so it is given one made for 127.0.0.1.
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import cosmos from "@vercel/cosmosdb-server";

const { values: args } = parseArgs({
  options: {
    cert: { type: "string" },
    key: { type: "string" },
    port: { type: "string", default: "0" },
  },
});
if (!args.cert || !args.key) {
  console.error("usage: node server.mjs --cert CERT.pem --key KEY.pem [--port N]");
  process.exit(2);
}
const log = process.env.COSMOS_BRIDGE_LOG === "1";

/** Partition key paths per `db/coll`, recorded as containers are created. */
const partitionPaths = new Map();

const docPath = /^\/dbs\/([^/]+)\/colls\/([^/]+)\/docs\/([^/]+)$/;
const docsPath = /^\/dbs\/([^/]+)\/colls\/([^/]+)\/docs$/;
const collsPath = /^\/dbs\/([^/]+)\/colls$/;
const pkRangesPath = /^\/dbs\/([^/]+)\/colls\/([^/]+)\/pkranges$/;

// Divergence 1: the real service returns partition-key-range ids as strings
// ("0"); this server returns numbers, which the SDK refuses to decode.
function stringRangeIds(body) {
  for (const range of body.PartitionKeyRanges ?? []) {
    range.id = String(range.id);
    range.parents = (range.parents ?? []).map(String);
  }
  return body;
}

// Divergence 2: reading a missing item is 404 NotFound on the real service;
// this server throws reading a field of the missing document and answers
// 500 with the TypeError's message.
function missingItemIsNotFound(res, body) {
  if (res.statusCode === 500 && /^Cannot read properties of undefined/.test(body.message ?? "")) {
    res.statusCode = 404;
    return { code: "NotFound", message: "Entity with the specified id does not exist in the system." };
  }
  return body;
}

// Divergence 3: a query sent with a partition key header is scoped to that
// partition by the real service; this server ignores the header (and
// refuses the query unless every key path is in its WHERE clause). The
// bridge adds the header's components to the WHERE clause as parameters.
// Shapes it cannot scope safely are refused, so a new query fails loudly
// here rather than passing unscoped.
function scopeQuery(body, paths, key) {
  const shape = /^\s*SELECT\s+(.+?)\s+FROM\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+WHERE\s+(.+?))?\s*$/is;
  const match = shape.exec(body.query);
  if (!match || /\b(ORDER\s+BY|GROUP\s+BY|OFFSET|JOIN)\b/i.test(body.query)) {
    throw new Error(`bridge: cannot scope this query to a partition: ${body.query}`);
  }
  const [, projection, alias, where] = match;
  const conditions = key.map((_, i) => `${alias}.${paths[i].slice(1)} = @bridgePk${i}`);
  if (where) conditions.push(`(${where})`);
  return {
    ...body,
    query: `SELECT ${projection} FROM ${alias} WHERE ${conditions.join(" AND ")}`,
    parameters: [
      ...(body.parameters ?? []),
      ...key.map((value, i) => ({ name: `@bridgePk${i}`, value })),
    ],
  };
}

// Divergence 4: a query sent for a partition key range (the SDK's
// cross-partition fan-out, and a prefix of a hierarchical key, which it sends
// as the range header plus an effective-partition-key sub-range) is answered
// over that range by the real service; this server refuses it unless it is
// flagged cross-partition. It has one range ("0", the whole key space), so
// the bridge flags the query cross-partition: the answer spans the container
// and an effective-partition-key sub-range is not applied. Every query the
// store sends this way also filters on the tenant in its WHERE clause, so
// the answer is the same; computing the hash of a key prefix is not bridged.

/** The request with `body` as its content, for the server's handler. */
function withBody(req, body) {
  const text = JSON.stringify(body);
  const replaced = Readable.from([Buffer.from(text)]);
  replaced.headers = { ...req.headers, "content-length": String(Buffer.byteLength(text)) };
  replaced.method = req.method;
  replaced.url = req.url;
  replaced.socket = req.socket;
  return replaced;
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString() || "{}");
}

/** Rewrites the JSON body the server's handler ends the response with. */
function rewriteResponse(res, rewrite) {
  const end = res.end.bind(res);
  res.end = (chunk, ...rest) => {
    if (typeof chunk !== "string" || chunk === "") return end(chunk, ...rest);
    return end(JSON.stringify(rewrite(JSON.parse(chunk))), ...rest);
  };
}

async function bridge(req, res, handle) {
  const path = req.url.split("?")[0];
  const isQuery = req.headers["x-ms-documentdb-isquery"] === "true" ||
    (req.headers["content-type"] ?? "").startsWith("application/query+json");
  if (log) {
    const h = req.headers;
    console.error(`${req.method} ${req.url} pk=${h["x-ms-documentdb-partitionkey"] ?? "-"} range=${h["x-ms-documentdb-partitionkeyrangeid"] ?? "-"} epk=${h["x-ms-start-epk"] ?? ""}..${h["x-ms-end-epk"] ?? ""}`);
  }
  if (req.method === "GET" && pkRangesPath.test(path)) {
    rewriteResponse(res, stringRangeIds);
  }
  if (docPath.test(path)) {
    rewriteResponse(res, (body) => missingItemIsNotFound(res, body));
  }
  const colls = collsPath.exec(path);
  if (req.method === "POST" && colls && !isQuery) {
    const body = await readJson(req);
    partitionPaths.set(`${colls[1]}/${body.id}`, body.partitionKey?.paths ?? ["/id"]);
    return handle(withBody(req, body), res);
  }
  const docs = docsPath.exec(path);
  const header = req.headers["x-ms-documentdb-partitionkey"];
  if (req.method === "POST" && docs && isQuery && header && header !== "[{}]") {
    const key = JSON.parse(header);
    const paths = partitionPaths.get(`${docs[1]}/${docs[2]}`);
    let body = await readJson(req);
    try {
      if (!paths) throw new Error(`bridge: no partition key paths recorded for ${docs[1]}/${docs[2]}`);
      body = scopeQuery(body, paths, key);
    } catch (err) {
      res.statusCode = 400;
      res.setHeader("content-type", "application/json");
      return res.end(JSON.stringify({ code: "BadRequest", message: err.message }));
    }
    const scoped = withBody(req, body);
    scoped.headers["x-ms-documentdb-query-enablecrosspartition"] = "true";
    return handle(scoped, res);
  }
  if (req.method === "POST" && docs && isQuery && req.headers["x-ms-documentdb-partitionkeyrangeid"]) {
    req.headers["x-ms-documentdb-query-enablecrosspartition"] = "true";
  }
  return handle(req, res);
}

const server = cosmos.createHttpsServer({
  cert: readFileSync(args.cert),
  key: readFileSync(args.key),
});
const [handle] = server.listeners("request");
server.removeAllListeners("request");
server.on("request", (req, res) => {
  bridge(req, res, handle).catch((err) => {
    console.error(err);
    if (!res.headersSent) {
      res.statusCode = 500;
      res.end(JSON.stringify({ message: `bridge: ${err.message}` }));
    }
  });
});
server.listen(Number(args.port), "127.0.0.1", () => {
  console.log(`listening https://127.0.0.1:${server.address().port}/`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
