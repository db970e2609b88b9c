# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A flame graph (stallreport --format svg) in headless Chromium, for tests to assert on.

inspect(svg_path, search=None, click=None)
    Inlines the SVG in a page whose script, once the flame graph's own script has run, reads
    what Chromium laid out, runs the flame graph's search (window.flamegraphSearch) and clicks
    a frame, and writes it all as JSON into the page, which Chromium dumps.
standalone(svg_path, search=None, zoom=None)
    Opens the SVG on its own (as an engineer would), searching and zooming from its URL
    (file.svg?s=TERM&z=NAME), and reads the frames' attributes from the DOM Chromium dumps.
screenshot(svg_path, png_path, size=(1200, 800), search=None, zoom=None)
    A PNG of the SVG opened on its own.

Each starts Chromium with a throwaway profile (removed afterwards), waits at most `timeout`
seconds, then kills it and raises subprocess.TimeoutExpired."""
import html
import json
import os
import re
import signal
import subprocess
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TIMEOUT = 120
SVG_NS = "{http://www.w3.org/2000/svg}"

# Before the SVG: catches the errors of its script
CATCH = """<script>
window.fgErrors = [];
window.addEventListener('error', function (e) {
    window.fgErrors.push(String(e.message) + ' (line ' + e.lineno + ')');
});
</script>"""

# After the SVG: measures, searches, clicks, and writes the JSON into <pre id="fg-result">
DRIVER = """<pre id="fg-result"></pre>
<script>
window.addEventListener('load', function () {
    var SEARCH = @SEARCH@, CLICK = @CLICK@, svg = document.getElementById('flamegraph');
    var r = {errors: window.fgErrors};

    function attr(el, name) {
        var v = el ? el.getAttribute(name) : null;
        return v === null ? null : +v;
    }
    function text(el) {
        return el ? el.textContent : null;
    }
    function groups() {
        return Array.prototype.slice.call(svg.querySelectorAll('g.f'));
    }
    function shown(g) {
        return getComputedStyle(g).display !== 'none';
    }
    function frame(g) {
        var rect = g.querySelector('rect'), t = g.querySelector('text');
        return {name: g.getAttribute('data-name'), value: attr(g, 'data-value'),
                count: attr(g, 'data-count'), base: attr(g, 'data-base'),
                start: attr(g, 'data-x'), depth: attr(g, 'data-d'),
                x: attr(rect, 'x'), width: attr(rect, 'width'), y: attr(rect, 'y'),
                rendered: rect.getBoundingClientRect().width,
                label: t ? t.textContent : '',
                label_width: t && shown(g) ? t.getBoundingClientRect().width : 0,
                title: text(g.querySelector('title')),
                fill: getComputedStyle(rect).fill,
                dimmed: g.classList.contains('dim'), match: g.classList.contains('match')};
    }
    function frames() {
        return groups().filter(shown).map(frame);
    }
    function root(list) {
        return list.filter(function (f) { return f.depth === 0; })[0] || null;
    }
    function widest(name) {
        var best = null;
        groups().filter(shown).forEach(function (g) {
            if (g.getAttribute('data-name') === name &&
                (!best || attr(g, 'data-value') > attr(best, 'data-value')))
                best = g;
        });
        return best;
    }

    try {
        r.ready = svg.getAttribute('data-ready') === '1';
        r.api = typeof window.flamegraphSearch === 'function' &&
            typeof window.flamegraphZoom === 'function' &&
            typeof window.flamegraphReset === 'function';
        r.title = text(svg.querySelector('.title'));
        r.subtitle = text(svg.querySelector('.sub'));
        r.svg_width = attr(svg, 'width');
        r.svg_height = attr(svg, 'height');
        r.unit = svg.getAttribute('data-unit');
        r.total = attr(svg, 'data-total');
        r.legend = Array.prototype.map.call(svg.querySelectorAll(':scope > text'), text);
        r.frames = frames();
        r.root = root(r.frames);
        if (SEARCH !== null) {
            var value = window.flamegraphSearch(SEARCH);
            var shownText = text(svg.querySelector('#fg-matched'));
            var pct = /([0-9.]+)%/.exec(shownText || '');
            r.search = {term: SEARCH, returned: value,
                        highlighted: frames().filter(function (f) { return f.match; }),
                        matched_value: attr(svg, 'data-matched-value'),
                        matched_text: shownText,
                        matched_percent: pct ? +pct[1] : null};
            window.flamegraphSearch('');
        }
        if (CLICK !== null) {
            var g = widest(CLICK);
            r.click = {name: CLICK, found: !!g};
            if (g) {
                var rect = g.querySelector('rect');
                rect.dispatchEvent(new MouseEvent('click', {bubbles: true}));
                r.click.frames = frames();
                r.click.root = root(r.click.frames);
                r.click.clicked = frame(g);
                r.click.dimmed = r.click.frames.filter(function (f) { return f.dimmed; })
                    .map(function (f) { return f.name; });
                r.click.reset_visible =
                    svg.querySelector('#fg-reset').getAttribute('visibility') === 'visible';
                r.click.zoom = svg.getAttribute('data-zoom');
                rect.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
                r.click.details = text(svg.querySelector('#fg-details'));
                window.flamegraphReset();
                r.click.after_reset = root(frames());
                r.click.after_reset_count = frames().length;
            }
        }
    } catch (e) {
        r.errors.push('driver: ' + e);
    }
    document.getElementById('fg-result').textContent = JSON.stringify(r);
});
</script>"""


def _chromium(args, timeout):
    """Runs headless Chromium with a throwaway profile; its whole process group is killed if
    it outlives timeout"""
    with tempfile.TemporaryDirectory(prefix="stallkit-chromium-") as profile:
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
               "--disable-extensions", "--disable-background-networking", "--mute-audio",
               f"--user-data-dir={profile}", *args]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             errors="replace", start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            raise
        finally:
            # what the browser left running in its group (crash handlers, zygotes)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return p.returncode, out, err


def _file_url(path, query=None):
    url = "file://" + urllib.parse.quote(os.path.abspath(path))
    if query:
        url += "?" + urllib.parse.urlencode(query)
    return url


def inspect(svg_path, search=None, click=None, timeout=TIMEOUT):
    """What Chromium shows of the flame graph inlined in a page:

    {'errors': [script errors], 'ready': the SVG's script ran, 'api': flamegraphSearch,
     flamegraphZoom, flamegraphReset defined, 'title', 'subtitle', 'svg_width', 'svg_height',
     'unit', 'total', 'legend': [texts],
     'frames': [visible frame], 'root': the "all" frame,
     'search': {'term', 'returned', 'highlighted': [frame], 'matched_value',
                'matched_text' ("Matched: 12.3% (45.6 ms)"), 'matched_percent'},   (if search)
     'click': {'name', 'found', 'frames': [visible frame], 'root', 'clicked': frame,
               'dimmed': [names], 'reset_visible', 'zoom', 'details': the line shown on
               hovering it, 'after_reset': root frame, 'after_reset_count'}}    (if click)

    A frame: {'name', 'value', 'count', 'base' (diff, else None), 'start' (data-x, value
    units), 'depth' (0: root), 'x', 'width', 'y' (the rect's attributes), 'rendered' (its
    getBoundingClientRect().width), 'label', 'label_width' (rendered), 'title' (tooltip),
    'fill' (computed), 'dimmed', 'match'}.  search: the term for window.flamegraphSearch; click: a frame name, whose widest
    box is clicked."""
    with open(svg_path, encoding="utf-8") as f:
        svg = re.sub(r"^\s*<\?xml[^>]*\?>", "", f.read())
    driver = DRIVER.replace("@SEARCH@", json.dumps(search)).replace("@CLICK@",
                                                                    json.dumps(click))
    page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\">" + CATCH +
            "</head><body style=\"margin:0\">\n" + svg + driver + "</body></html>")
    with tempfile.TemporaryDirectory(prefix="stallkit-flamegraph-") as tmp:
        path = os.path.join(tmp, "page.html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
        rc, out, err = _chromium(["--virtual-time-budget=30000", "--dump-dom",
                                  _file_url(path)], timeout)
    found = re.search(r'<pre id="fg-result">(.*?)</pre>', out, re.S)
    if not found or not found.group(1):
        raise AssertionError(f"chromium (exit {rc}) did not run the page: {err[-2000:]}")
    return json.loads(html.unescape(found.group(1)))


def standalone(svg_path, search=None, zoom=None, timeout=TIMEOUT):
    """The SVG opened on its own, file.svg?s=search&z=zoom: {'ready' (its script ran),
    'matched_value', 'matched_text', 'zoom', 'reset_visible', 'frames': [{'name', 'value',
    'depth', 'x', 'width', 'shown', 'dimmed', 'match'}]} from the DOM Chromium dumps"""
    query = {k: v for k, v in (("s", search), ("z", zoom)) if v is not None}
    rc, out, err = _chromium(["--virtual-time-budget=30000", "--dump-dom",
                              _file_url(svg_path, query)], timeout)
    start = out.find("<svg")
    if start < 0:
        raise AssertionError(f"chromium (exit {rc}) dumped no SVG: {err[-2000:]}")
    root = ET.fromstring(out[start:out.rindex("</svg>") + len("</svg>")])

    def byid(name):
        return next((e for e in root.iter() if e.get("id") == name), None)

    frames = []
    for g in root.iter(SVG_NS + "g"):
        if "f" not in (g.get("class") or "").split():
            continue
        rect = g.find(SVG_NS + "rect")
        classes = (g.get("class") or "").split()
        frames.append({"name": g.get("data-name"), "value": int(g.get("data-value")),
                       "depth": int(g.get("data-d")), "x": float(rect.get("x")),
                       "width": float(rect.get("width")),
                       "shown": "display: none" not in (g.get("style") or ""),
                       "dimmed": "dim" in classes, "match": "match" in classes})
    matched = root.get("data-matched-value")
    reset = byid("fg-reset")
    return {"ready": root.get("data-ready") == "1",
            "matched_value": float(matched) if matched is not None else None,
            "matched_text": "".join(byid("fg-matched").itertext()),
            "zoom": root.get("data-zoom"),
            "reset_visible": reset is not None and reset.get("visibility") == "visible",
            "frames": frames}


def screenshot(svg_path, png_path, size=(1200, 800), search=None, zoom=None,
               timeout=TIMEOUT):
    """A PNG of the SVG opened on its own (after searching and zooming, if asked)"""
    query = {k: v for k, v in (("s", search), ("z", zoom)) if v is not None}
    png_path = os.path.abspath(png_path)
    if os.path.exists(png_path):
        os.unlink(png_path)
    rc, _, err = _chromium([f"--screenshot={png_path}", f"--window-size={size[0]},{size[1]}",
                            "--hide-scrollbars", "--virtual-time-budget=10000",
                            _file_url(svg_path, query)], timeout)
    if not os.path.exists(png_path):
        raise AssertionError(f"chromium (exit {rc}) took no screenshot: {err[-2000:]}")
