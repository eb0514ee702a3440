"""`/openapi.json` built from the routes, and `/docs`, a page that renders it without a CDN."""

from __future__ import annotations

import re
from typing import Any

from .http import Route

_PARAM = re.compile(r"\{(\w+)\}")


def document(routes: list[Route], version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {"summary": route.summary or route.template, "responses": _responses(route)}
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
            for name in _PARAM.findall(route.template)
        ]
        for name, description in route.doc.get("params", {}).items():
            parameters.append({"name": name, "in": "query", "required": False, "description": description,
                               "schema": {"type": "string"}})
        if parameters:
            operation["parameters"] = parameters
        if "body" in route.doc:
            operation["requestBody"] = {"required": True,
                                        "content": {"application/json": {"schema": route.doc["body"]}}}
        paths.setdefault(route.template, {})[route.method.lower()] = operation
    return {"openapi": "3.1.0", "info": {"title": "atelier", "version": version}, "paths": paths}


def _responses(route: Route) -> dict[str, Any]:
    ok = {"POST": ("201", "Created (plain text)"), "PUT": ("204", "No Content")}.get(route.method, ("200", "OK"))
    responses: dict[str, Any] = {ok[0]: {"description": ok[1]},
                                 "422": {"description": "Invalid input (plain-text message)"},
                                 "503": {"description": "Database unavailable"}}
    if "{" in route.template:
        responses["404"] = {"description": "Unknown id"}
    return responses


DOCS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>atelier API</title>
<style>body{font:14px/1.5 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}
h1{font-size:1.6em}.op{border:1px solid #ddd;border-radius:6px;margin:.6em 0;padding:.5em .8em}
.m{display:inline-block;min-width:4em;font-weight:bold}.GET{color:#0a6}.POST{color:#06c}.PUT{color:#b60}
code{background:#f4f4f4;padding:0 .3em}small{color:#666}</style></head>
<body><h1>atelier API</h1><p>Machine-readable: <a href="/openapi.json"><code>/openapi.json</code></a></p>
<div id="ops">loading…</div>
<script>
fetch('/openapi.json').then(r => r.json()).then(spec => {
  const out = [];
  for (const [path, ops] of Object.entries(spec.paths)) for (const [m, op] of Object.entries(ops)) {
    const params = (op.parameters || []).map(p => `<code>${p.name}</code> <small>(${p.in})</small>`).join(', ');
    const codes = Object.keys(op.responses).join(' ');
    out.push(`<div class="op"><span class="m ${m.toUpperCase()}">${m.toUpperCase()}</span> <code>${path}</code>
      — ${op.summary}<br><small>parameters: ${params || 'none'}; responses: ${codes}</small></div>`);
  }
  document.getElementById('ops').innerHTML = out.join('');
});
</script></body></html>
"""
