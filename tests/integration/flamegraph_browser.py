# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A flame graph (stallreport --format svg) in headless Chromium: what the page shows, what its
search highlights, what a click zooms to, and a screenshot.

inspect() inlines the SVG in a page whose script drives the flame graph's own functions
(flamegraphSearch, flamegraphZoom, flamegraphReset, as the controls do) and writes what the
browser laid out into the page, which Chromium dumps."""
import html
import json
import os
import re
import subprocess
import tempfile

CHROMIUM = "chromium"

DRIVER = """
<pre id="result"></pre>
<script>
function frames() {
    return Array.prototype.filter.call(document.querySelectorAll('g.f'), function (g) {
        return g.style.display !== 'none';
    }).map(function (g) {
        return {name: g.getAttribute('data-name'), value: +g.getAttribute('data-value'),
                width: +g.querySelector('rect').getAttribute('width'),
                x: +g.querySelector('rect').getAttribute('x'),
                rendered: g.querySelector('rect').getBoundingClientRect().width,
                label: g.querySelector('text').textContent};
    });
}
function root(list) {
    return list.filter(function (f) { return f.name === 'all'; })[0];
}
window.addEventListener('load', function () {
    var r = {frames: frames()};
    r.root = root(r.frames);
    r.title = document.querySelector('.title').textContent;
    if (SEARCH !== null) {
        window.flamegraphSearch(SEARCH);
        r.search = {
            highlighted: Array.prototype.map.call(document.querySelectorAll('g.f.match'),
                function (g) {
                    return {name: g.getAttribute('data-name'),
                            value: +g.getAttribute('data-value')};
                }),
            matched_value: +document.getElementById('flamegraph')
                .getAttribute('data-matched-value'),
            matched_text: document.getElementById('matched').textContent
        };
        window.flamegraphSearch('');
    }
    if (CLICK !== null) {
        var g = Array.prototype.filter.call(document.querySelectorAll('g.f'), function (g) {
            return g.getAttribute('data-name') === CLICK;
        })[0];
        g.dispatchEvent(new MouseEvent('click', {bubbles: true}));
        r.click = {frames: frames(),
                   reset_visible: document.getElementById('reset').getAttribute('visibility')};
        r.click.root = root(r.click.frames);
        window.flamegraphReset();
    }
    document.getElementById('result').textContent = JSON.stringify(r);
});
</script>
"""


def chromium(*args, timeout=120):
    with tempfile.TemporaryDirectory(prefix="stallkit-chromium-") as profile:
        return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                               f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)


def inspect(svg_path, search=None, click=None):
    """What Chromium lays out: {'frames': [{name, value, width, x, rendered, label}], 'root',
    'title', 'search': {highlighted, matched_value, matched_text}, 'click': {frames, root,
    reset_visible}} (search and click when asked for)"""
    with open(svg_path) as f:
        svg = re.sub(r"^<\?xml[^>]*\?>", "", f.read())
    page = ("<!DOCTYPE html><html><body style='margin:0'>" + svg +
            DRIVER.replace("SEARCH", json.dumps(search)).replace("CLICK", json.dumps(click)) +
            "</body></html>")
    with tempfile.TemporaryDirectory(prefix="stallkit-flamegraph-") as tmp:
        path = os.path.join(tmp, "page.html")
        with open(path, "w") as f:
            f.write(page)
        p = chromium("--virtual-time-budget=10000", "--dump-dom", "file://" + path)
    found = re.search(r'<pre id="result">(.*?)</pre>', p.stdout, re.S)
    if not found or not found.group(1):
        raise AssertionError(f"chromium did not run the page: {p.stderr[-2000:]}")
    return json.loads(html.unescape(found.group(1)))


def screenshot(svg_path, png_path, size=(1200, 900)):
    """The SVG as Chromium draws it, opened on its own"""
    p = chromium(f"--screenshot={os.path.abspath(png_path)}",
                 f"--window-size={size[0]},{size[1]}", "file://" + os.path.abspath(svg_path))
    if not os.path.exists(png_path):
        raise AssertionError(f"no screenshot: {p.stderr[-2000:]}")
