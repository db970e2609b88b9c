// The flame graph's script (stallreport_svg.c puts it at the end of every SVG it writes):
// click to zoom, search, details of the frame under the pointer.  It works in the SVG opened
// on its own and in the SVG inlined in a page.
(function () {
	'use strict';
	var svg = document.getElementById('flamegraph');
	var width = +svg.getAttribute('width'), pad = 10, charWidth = 7;
	var unit = svg.getAttribute('data-unit');
	var total = +svg.getAttribute('data-total');
	var byId = function (id) { return svg.querySelector('#' + id); };
	var frames = Array.prototype.map.call(svg.querySelectorAll('g.f'), function (g) {
		return {
			g: g, name: g.getAttribute('data-name'), x: +g.getAttribute('data-x'),
			v: +g.getAttribute('data-value'), d: +g.getAttribute('data-d'),
			rect: g.querySelector('rect'), text: g.querySelector('text'),
			title: g.querySelector('title').textContent
		};
	});

	function formatValue(v) {
		if (unit !== 'nanoseconds')
			return Math.round(v) + ' ' + svg.getAttribute('data-count-type');
		if (v >= 1e9)
			return (v / 1e9).toFixed(2) + ' s';
		if (v >= 1e6)
			return (v / 1e6).toFixed(1) + ' ms';
		return Math.floor(v / 1e3) + ' us';
	}

	function label(f, w) {
		var fit = Math.floor((w - 6) / charWidth);
		f.text.textContent = fit < 3 ? '' : f.name.length <= fit ? f.name :
			f.name.substring(0, fit - 2) + '..';
	}

	// Shows the frames within [vx, vx + vw) of value, from depth zd up, and zd's ancestors
	function layout(vx, vw, zd) {
		var scale = (width - 2 * pad) / vw, slack = vw * 1e-9;

		frames.forEach(function (f) {
			var ancestor = f.d < zd && f.x <= vx + slack && f.x + f.v >= vx + vw - slack;
			var inside = f.x >= vx - slack && f.x + f.v <= vx + vw + slack;
			var w = ancestor ? width - 2 * pad : f.v * scale;

			f.g.classList.toggle('dim', ancestor);
			if ((!ancestor && !inside) || w < 0.1) {
				f.g.style.display = 'none';
				return;
			}
			f.g.style.display = '';
			f.rect.setAttribute('x', ancestor ? pad : pad + (f.x - vx) * scale);
			f.rect.setAttribute('width', w);
			f.text.setAttribute('x', +f.rect.getAttribute('x') + 3);
			label(f, w);
		});
	}

	function zoom(f) {
		if (f.d === 0)
			return reset();
		layout(f.x, f.v, f.d);
		byId('reset').setAttribute('visibility', 'visible');
	}

	function reset() {
		layout(0, total, 0);
		byId('reset').setAttribute('visibility', 'hidden');
	}

	// Highlights the frames whose name matches; the total counts nested matches once
	function search(term) {
		var re = null, ranges = [], matched = 0, end = -1;

		try {
			re = term ? new RegExp(term) : null;
		} catch (e) {
			return null;
		}
		frames.forEach(function (f) {
			var m = re !== null && f.d > 0 && re.test(f.name);

			f.g.classList.toggle('match', m);
			if (m)
				ranges.push([f.x, f.x + f.v]);
		});
		ranges.sort(function (a, b) { return a[0] - b[0]; });
		ranges.forEach(function (r) {
			if (r[1] > end) {
				matched += r[1] - Math.max(r[0], end);
				end = r[1];
			}
		});
		svg.setAttribute('data-matched-value', matched);
		byId('matched').textContent = re === null ? '' : 'Matched: ' +
			(total ? 100 * matched / total : 0).toFixed(1) + '% (' + formatValue(matched) + ')';
		return matched;
	}

	function ask() {
		var term = window.prompt('Search (a regular expression):', '');

		if (term !== null)
			search(term);
	}

	frames.forEach(function (f) {
		f.g.addEventListener('click', function () { zoom(f); });
		f.g.addEventListener('mouseover', function () {
			byId('details').textContent = f.title;
		});
	});
	byId('reset').addEventListener('click', reset);
	byId('search').addEventListener('click', ask);
	document.addEventListener('keydown', function (e) {
		if ((e.ctrlKey && e.key === 'f') || e.key === '/') {
			e.preventDefault();
			ask();
		} else if (e.key === 'Escape') {
			search('');
		}
	});
	window.flamegraphSearch = search;
	window.flamegraphZoom = function (name) {
		var f = frames.filter(function (f) { return f.name === name; })[0];

		if (f)
			zoom(f);
		return !!f;
	};
	window.flamegraphReset = reset;
	reset();
}());
