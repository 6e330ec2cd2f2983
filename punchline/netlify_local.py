"""Serve a built site folder the way Netlify applies netlify.toml to it: every [[headers]] rule and the
folder's _headers file on each matching response, and the [[redirects]] rules for paths no file serves
(the 404 page with status 404). A small local stand-in, so the browser tests see the Content-Security-
Policy as a header; the official netlify-cli would need hundreds of MB from npm for the same check.

`python -m punchline.netlify_local FOLDER --port N [--config netlify.toml]`
"""

import argparse
import functools
import http.server
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _pattern(path: str) -> re.Pattern:
    """Netlify's path patterns: * matches the rest (the splat), :name one segment."""
    parts = re.split(r"(\*|:[A-Za-z_]+)", path)
    regex = "".join(".*" if p == "*" else "[^/]+" if p.startswith(":") else re.escape(p) for p in parts)
    return re.compile(regex + r"/?\Z")


def parse_headers_file(text: str) -> list[tuple[str, dict]]:
    """Netlify's _headers format: a path line, then indented `Name: value` lines."""
    rules: list[tuple[str, dict]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            rules.append((line.strip(), {}))
        elif rules and ":" in line:
            name, value = line.split(":", 1)
            rules[-1][1][name.strip()] = value.strip()
    return rules


class Rules:
    def __init__(self, folder: Path, config: Path):
        settings = tomllib.loads(config.read_text(encoding="utf-8"))
        headers_file = folder / "_headers"
        self.headers = [(_pattern(h["for"]), h.get("values", {})) for h in settings.get("headers", [])]
        if headers_file.is_file():
            self.headers += [(_pattern(p), v) for p, v in parse_headers_file(headers_file.read_text(encoding="utf-8"))]
        self.redirects = [(_pattern(r["from"]), r["to"], int(r.get("status", 301)))
                          for r in settings.get("redirects", [])]

    def headers_for(self, path: str) -> dict:
        found: dict = {}
        for pattern, values in self.headers:
            if pattern.match(path):
                found.update(values)
        return found

    def redirect_for(self, path: str) -> tuple[str, int] | None:
        return next(((to, status) for pattern, to, status in self.redirects if pattern.match(path)), None)


class Handler(http.server.SimpleHTTPRequestHandler):
    rules: Rules

    def send_head(self):
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if not Path(self.translate_path(path)).exists() or path.endswith("/_headers"):
            redirect = self.rules.redirect_for(path)
            if redirect and redirect[1] in (200, 404):  # a rewrite or a custom not-found page: serve `to`
                to, status = redirect
                target = Path(self.translate_path(to))
                if target.is_file():
                    body = target.read_bytes()
                    self.send_response(status)
                    self.send_header("Content-Type", self.guess_type(str(target)))
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(body)
                    return None
            elif redirect:
                self.send_response(redirect[1])
                self.send_header("Location", redirect[0])
                self.end_headers()
                return None
        return super().send_head()

    def end_headers(self):
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        for name, value in self.rules.headers_for(path).items():
            self.send_header(name, value)
        super().end_headers()


def serve(folder: Path, port: int, config: Path = REPO / "netlify.toml", host: str = "127.0.0.1") -> None:
    handler = type("NetlifyHandler", (Handler,), {"rules": Rules(folder, config)})
    server = http.server.ThreadingHTTPServer((host, port), functools.partial(handler, directory=str(folder)))
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="the built site (the publish folder)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--config", type=Path, default=REPO / "netlify.toml", help="netlify.toml to apply")
    args = parser.parse_args()
    serve(args.folder, args.port, args.config)


if __name__ == "__main__":
    main()
