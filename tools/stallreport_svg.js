// The flame graph's script: stallreport_svg.c writes it at the end of every SVG (the build
// makes it a C string, cmake/TextToC.cmake).  Zoom, search, details; on its own or inlined.
(function () {
	'use strict';
	var NS = 'http://www.w3.org/2000/svg';
	var scripts = document.getElementsByTagNameNS(NS, 'script');
	var me = document.currentScript || scripts[scripts.length - 1];
	var svg = (me && me.ownerSVGElement) || document.getElementById('flamegraph');
	var standalone = document.documentElement === svg;
	var pad = 10, charWidth = 7.25, minWidth = 0.1;
	var full = +svg.getAttribute('width') - 2 * pad;
	var nanos = svg.getAttribute('data-unit') === 'nanoseconds';
	var countType = svg.getAttribute('data-count-type') || '';
	var frames = [], root = null, hidden = null;

	function get(id) {
		return svg.querySelector('#fg-' + id);
	}

	function formatValue(v) {
		var a = Math.abs(v);

		if (!nanos)
			return Math.round(v) + (countType ? ' ' + countType : '');
		if (a >= 1e9)
			return (v / 1e9).toFixed(2) + ' s';
		if (a >= 1e6)
			return (v / 1e6).toFixed(1) + ' ms';
		if (a >= 1e3)
			return (v / 1e3).toFixed(1) + ' \u00b5s';
		return Math.round(v) + ' ns';
	}

	// The frame a node of the document belongs to, if any
	function frameOf(node) {
		for (; node && node !== svg; node = node.parentNode)
			if (node.fgFrame)
				return node.fgFrame;
		return null;
	}

	// The name if it fits in w pixels, else its first 3 or more characters and '..', else
	// nothing (the writer does the same)
	function label(f, w) {
		var fit = Math.floor((w - 6) / charWidth), s = '';

		if (f.name.length <= fit)
			s = f.name;
		else if (fit >= 5)
			s = f.name.substring(0, fit - 2) + '..';
		if (!f.text) {
			if (!s)
				return;
			f.text = document.createElementNS(NS, 'text');
			f.text.setAttribute('y', +f.rect.getAttribute('y') + 11.5);
			f.g.appendChild(f.text);
		}
		f.text.setAttribute('x', +f.rect.getAttribute('x') + 3);
		f.text.textContent = s;
	}

	function show(f, x, w, dim) {
		f.g.style.display = '';
		f.g.classList.toggle('dim', dim);
		f.rect.setAttribute('x', x.toFixed(2));
		f.rect.setAttribute('width', w.toFixed(3));
		label(f, w);
	}

	// Draws the frames within [vx, vx + vw) in value units, from depth zd up, across the
	// full width, and zd's ancestors dimmed below them
	function layout(vx, vw, zd) {
		var scale = vw > 0 ? full / vw : 0, slack = vw * 1e-9;

		frames.forEach(function (f) {
			var w = f.v * scale;

			if (f.d < zd || f.d === 0) {
				if (f.x <= vx + slack && f.x + f.v >= vx + vw - slack)
					return show(f, pad, full, f.d < zd);
			} else if (f.x >= vx - slack && f.x + f.v <= vx + vw + slack && w >= minWidth) {
				return show(f, pad + (f.x - vx) * scale, w, false);
			}
			f.g.style.display = 'none';
		});
	}

	function reset() {
		layout(0, root.v, 0);
		get('reset').setAttribute('visibility', 'hidden');
		svg.removeAttribute('data-zoom');
	}

	function zoom(f) {
		if (!f || f.d === 0)
			return reset();
		layout(f.x, f.v, f.d);
		get('reset').setAttribute('visibility', 'visible');
		svg.setAttribute('data-zoom', f.name);
	}

	// The frames not drawn: "=name" lines name them in turn (0, 1, ...), and "dx value
	// name" lines (base 36; dx from the x of the line before) place them
	function readHidden() {
		var el = get('hidden'), h = { names: [], list: [] }, x = 0;

		(el ? el.textContent : '').split('\n').forEach(function (line) {
			var p;

			if (line.charAt(0) === '=') {
				h.names.push({ name: line.substring(1), match: false });
			} else if (line) {
				p = line.split(' ');
				x += parseInt(p[0], 36);
				h.list.push({ x: x, v: parseInt(p[1], 36),
					      name: h.names[parseInt(p[2], 36)] });
			}
		});
		return h;
	}

	// The length of the union of ranges [x, end): nested matches count once
	function union(ranges) {
		var sum = 0, end = -Infinity;

		ranges.sort(function (a, b) { return a[0] - b[0]; });
		ranges.forEach(function (r) {
			if (r[1] > end) {
				sum += r[1] - Math.max(r[0], end);
				end = r[1];
			}
		});
		return sum;
	}

	// Highlights the frames whose name contains term or matches it as a regular
	// expression (case-sensitive); '' clears.  Returns the value matched.
	function search(term) {
		var re = null, ranges = [], matched, test, text = '';

		term = term === undefined || term === null ? '' : String(term);
		try {
			re = term ? new RegExp(term) : null;
		} catch (e) {
			re = null;
		}
		test = function (name) {
			return term !== '' && (name.indexOf(term) !== -1 || (re !== null && re.test(name)));
		};
		frames.forEach(function (f) {
			var m = f.d > 0 && test(f.name);

			f.g.classList.toggle('match', m);
			if (m)
				ranges.push([f.x, f.x + f.v]);
		});
		if (term) {
			hidden = hidden || readHidden();
			hidden.names.forEach(function (n) { n.match = test(n.name); });
			hidden.list.forEach(function (h) {
				if (h.name && h.name.match)
					ranges.push([h.x, h.x + h.v]);
			});
		}
		matched = union(ranges);
		if (term)
			text = 'Matched: ' + (root.v > 0 ? 100 * matched / root.v : 0).toFixed(1) +
				'% (' + formatValue(matched) + ')';
		get('matched').textContent = text;
		svg.setAttribute('data-matched-value', matched);
		svg.setAttribute('data-search', term);
		return matched;
	}

	function ask() {
		var term = window.prompt('Search for (a substring or regular expression):',
					 svg.getAttribute('data-search') || '');

		if (term !== null)
			search(term);
	}

	function zoomTo(target) {
		var f = null;

		if (typeof target === 'string')
			frames.forEach(function (c) {
				if (c.name === target && (!f || c.v > f.v))
					f = c;
			});
		else
			f = frameOf(target);
		if (f)
			zoom(f);
		return !!f;
	}

	function typing(e) {
		var t = e.target && e.target.tagName ? e.target.tagName.toLowerCase() : '';

		return t === 'input' || t === 'textarea' || (e.target && e.target.isContentEditable);
	}

	function onKey(e) {
		if (typing(e))
			return;
		if ((e.key === 'f' && (e.ctrlKey || e.metaKey) && standalone) || e.key === '/') {
			e.preventDefault();
			ask();
		} else if (e.key === 'Escape') {
			search('');
		}
	}

	// file.svg?s=term&z=frame searches and zooms when it opens
	function fromUrl() {
		var q = {};

		if (!standalone || !window.location || !window.location.search)
			return;
		window.location.search.substring(1).split('&').forEach(function (kv) {
			var i = kv.indexOf('=');

			try {
				if (i > 0)
					q[kv.substring(0, i)] =
						decodeURIComponent(kv.substring(i + 1).replace(/\+/g, ' '));
			} catch (e) {
				return;
			}
		});
		if (q.s)
			search(q.s);
		if (q.z)
			zoomTo(q.z);
	}

	Array.prototype.forEach.call(svg.querySelectorAll('g.f'), function (g) {
		var f = {
			g: g, name: g.getAttribute('data-name'), v: +g.getAttribute('data-value'),
			x: +g.getAttribute('data-x'), d: +g.getAttribute('data-d'),
			rect: g.querySelector('rect'), text: g.querySelector('text'),
			title: g.querySelector('title').textContent
		};

		g.fgFrame = f;
		frames.push(f);
		if (f.d === 0)
			root = f;
	});
	get('frames').addEventListener('click', function (e) {
		var f = frameOf(e.target);

		if (f)
			zoom(f);
	});
	get('frames').addEventListener('mouseover', function (e) {
		var f = frameOf(e.target);

		get('details').textContent = f ? f.title : ' ';
	});
	get('frames').addEventListener('mouseout', function () {
		get('details').textContent = ' ';
	});
	get('reset').addEventListener('click', reset);
	get('search').addEventListener('click', ask);
	get('matched').addEventListener('click', function () { search(''); });
	document.addEventListener('keydown', onKey);
	window.flamegraphSearch = search;
	window.flamegraphZoom = zoomTo;
	window.flamegraphReset = reset;
	reset();
	fromUrl();
	svg.setAttribute('data-ready', '1');
}());
