/*
 * Beacon Analytics tracker: the readable source of beacon_app/static/script.js
 * (`npm run build` in tracker/ regenerates the served file; a test checks it is current).
 *
 * It speaks Plausible's event protocol, so the two scripts are interchangeable:
 * a JSON body sent as text/plain (a "simple" CORS request: no preflight round trip)
 *   {n: name, u: url, d: domain(s), r: referrer|null, p: {props}, $: {amount, currency},
 *    h: 1 (hash routing), i: false (not interactive), w: window width (pageviews)}
 * and engagement events {n: "engagement", u, d, sd: max scroll depth %, e: engaged ms}.
 * One addition: `wd: true` when the browser says it is automated, so the beacon can
 * count the drop instead of the hit silently vanishing.
 *
 * Nothing is stored in the browser. localStorage is only read, for the opt-out flag.
 * Every entry point catches its own errors: a tracker must never break the page it is on.
 */
try {
  (function () {
    var w = window, doc = document, loc = location, nav = navigator;
    var el = doc.currentScript;
    if (!el || w.beacon && w.beacon.l) return; // no script element, or loaded twice

    function attr(name) {
      var v = el.getAttribute('data-' + name);
      // Plausible's file-types and event-* attributes carry no data- prefix.
      return v == null ? el.getAttribute(name) : v;
    }
    // Plausible names its variants script.hash.outbound-links.js and so on; the same file
    // names served here turn on the same features. A data- attribute always wins.
    var exts = el.src.split('?')[0].match(/\/(?:script|plausible)\.([\w.-]+)\.js$/);
    exts = exts && exts[1].split('.');
    function flag(name, ext, dflt) {
      var v = attr(name);
      return v != null ? v != 'false' : exts ? exts.indexOf(ext) >= 0 : dflt;
    }

    var api = attr('api') || new URL(el.src).origin + '/api/event';
    var domain = attr('domain') || loc.hostname.replace(/^www\./, '');
    var hash = flag('hash', 'hash');
    var automated = !!(nav.webdriver || w.Cypress);
    var local = /^localhost$|^127(\.[0-9]+){0,2}\.[0-9]+$|^\[::1?\]$/.test(loc.hostname) ||
      loc.protocol == 'file:';
    if (flag('include-localhost', 'local')) local = false;

    function optedOut() {
      try {
        var s = w.localStorage;
        return s.beacon_ignore == 'true' || s.plausible_ignore == 'true';
      } catch (e) {
        return false; // storage blocked (privacy settings): nobody could have set the flag
      }
    }

    function send(payload, options, unloading) {
      if (hash) payload.h = 1;
      if (automated) payload.wd = true;
      var body = JSON.stringify(payload), cb = options && options.callback;
      // sendBeacon survives the page being closed; fetch keepalive is the fallback.
      if (unloading && nav.sendBeacon && nav.sendBeacon(api, body)) return;
      if (w.fetch) {
        fetch(api, {method: 'POST', headers: {'Content-Type': 'text/plain'}, keepalive: true,
          body: body}).then(function (r) { cb && cb({status: r.status}); },
          function (e) { cb && cb({error: e}); });
      }
    }

    /* ---- engagement: visible time and deepest scroll of the current page ---------------- */
    var engUrl, engProps, engIgnored = true, engSentPx = -1, engStart = 0, engMs = 0;
    var listening, docHeight, maxPx;

    function height() {
      return Math.max(doc.documentElement.scrollHeight, doc.body ? doc.body.scrollHeight : 0);
    }
    function depthPx() {
      var view = w.innerHeight || doc.documentElement.clientHeight;
      return docHeight <= view ? docHeight : (w.scrollY || 0) + view;
    }
    function engagedMs() {
      return engMs + (engStart ? Date.now() - engStart : 0);
    }
    function engage() {
      // Browsers fire 'scroll' on the next frame: a visitor who scrolls and leaves at once
      // would lose the last stretch, so read the position now as well.
      measure();
      var ms = engagedMs();
      // Only when there is news: a deeper scroll than last sent, or 3 s more engaged time.
      if (engIgnored || (engSentPx >= maxPx && ms < 3000)) return;
      engSentPx = maxPx;
      var p = {n: 'engagement', u: engUrl, d: domain,
        sd: docHeight ? Math.round(maxPx / docHeight * 100) : 0, e: ms};
      if (engProps) p.p = engProps;
      engStart = engMs = 0;
      send(p, 0, 1);
    }
    function onVisibility(ev) {
      try {
        // pagehide may come while the page still counts as visible: it ends the view anyway.
        if (ev.type != 'pagehide' && doc.visibilityState == 'visible') {
          if (!engStart) engStart = Date.now();
        } else {
          engMs = engagedMs();
          engStart = 0;
          engage();
        }
      } catch (e) { /* never into the page */ }
    }
    function measure() {
      try {
        docHeight = height();
        var px = depthPx();
        if (px > maxPx) maxPx = px;
      } catch (e) { /* never into the page */ }
    }
    docHeight = height();
    maxPx = depthPx();
    doc.addEventListener('scroll', measure);
    w.addEventListener('load', measure); // images and late content change the height

    /* ---- the event API: window.plausible(name, options) and its alias window.beacon ------ */
    function track(name, options) {
      try {
        options = options || {};
        var pageview = name == 'pageview';
        if (pageview && listening) {
          // A SPA navigation: first close the engagement of the page being left.
          engage();
          docHeight = height();
          maxPx = depthPx();
        }
        if (local || optedOut()) {
          if (pageview) engIgnored = true;
          options.callback && options.callback();
          return;
        }
        var p = {n: name, u: options.u || options.url || loc.href, d: domain,
          r: doc.referrer || null};
        if (options.props) p.p = options.props;
        if (options.revenue) p.$ = options.revenue;
        if (options.interactive === false) p.i = false;
        // The window's width: the beacon stores only its class (mobile ... desktop).
        if (pageview) p.w = w.innerWidth;
        if (EXTRAS && pageview) {
          // Plausible's pageview props: <script event-author="..."> attributes.
          var names = el.getAttributeNames(), i, k;
          for (i = 0; i < names.length; i++) {
            k = names[i].match(/^(?:data-)?event-(.+)/);
            if (k) {
              p.p = p.p || {};
              p.p[k[1]] = p.p[k[1]] || el.getAttribute(names[i]);
            }
          }
        }
        if (pageview) {
          engIgnored = false;
          engUrl = p.u;
          engProps = p.p;
          engSentPx = -1;
          engMs = 0;
          engStart = Date.now();
          if (!listening) {
            listening = 1;
            doc.addEventListener('visibilitychange', onVisibility);
            w.addEventListener('pagehide', onVisibility);
          }
        }
        send(p, options);
      } catch (e) { /* never into the page */ }
    }

    // Calls made before the script loaded, queued by the snippet's stub (which may
    // define both names as one function: then its queue is replayed once).
    var queue = (w.plausible && w.plausible.q || [])
      .concat(w.beacon != w.plausible && w.beacon && w.beacon.q || []);
    track.l = 1;
    w.plausible = w.beacon = track;
    for (var qi = 0; qi < queue.length; qi++) track.apply(null, queue[qi]);

    /* ---- automatic pageviews, including single-page-app navigation ---------------------- */
    var lastPath;
    function page(spa) {
      // pushState or replaceState to the same path is not a new page (Plausible's rule);
      // with hash routing every hashchange is.
      if (spa && !hash && lastPath == loc.pathname) return;
      lastPath = loc.pathname;
      track('pageview');
    }
    if (!flag('manual', 'manual')) {
      var his = w.history;
      if (hash) {
        w.addEventListener('hashchange', function () { page(1); });
      } else if (his.pushState) {
        ['pushState', 'replaceState'].forEach(function (m) {
          var orig = his[m];
          his[m] = function () {
            var out = orig.apply(this, arguments); // the page's own errors stay the page's
            try { page(1); } catch (e) { /* never into the page */ }
            return out;
          };
        });
        w.addEventListener('popstate', function () { page(1); });
      }
      if (doc.visibilityState == 'prerender' || doc.visibilityState == 'hidden') {
        // A prerendered or background tab counts once somebody actually looks at it.
        doc.addEventListener('visibilitychange', function () {
          if (!lastPath && doc.visibilityState == 'visible') page();
        });
      } else {
        page();
      }
      w.addEventListener('pageshow', function (ev) {
        if (ev.persisted) page(); // restored from the back/forward cache: a new view
      });
    }

    // EXTRAS is a build-time constant: script.core.js leaves the click and form features out.
    if (EXTRAS) extras();

    /* ---- outbound links, file downloads, tagged elements, form submissions -------------- */
    function extras() {
      var types = 'pdf,xlsx,docx,txt,rtf,csv,exe,key,pps,ppt,pptx,7z,pkg,rar,gz,zip,avi,mov,' +
        'mp4,mpeg,wmv,midi,mp3,wav,wma,dmg';
      types = (attr('file-types') || (attr('add-file-types') ? attr('add-file-types') + ',' : '') +
        types).toLowerCase().split(',');
      var outbound = flag('outbound-links', 'outbound-links', 1);
      var downloads = flag('file-downloads', 'file-downloads', 1);
      var forms = flag('track-forms', 'form-submissions');

      function tagged(node) {
        return node && node.getAttribute && (node.hasAttribute('data-beacon-event') ||
          /plausible-event-name(=|--)./.test(node.getAttribute('class')));
      }
      // Two ways to tag an element:
      //   class="plausible-event-name=Signup plausible-event-plan=pro plausible-revenue-amount=9"
      //   data-beacon-event="Signup" data-beacon-prop-plan="pro" data-beacon-revenue-amount="9"
      function tagOf(node) {
        var out = {n: '', p: {}, $: {}}, m, i, a;
        if (!node || !node.getAttribute) return out;
        var classes = (node.getAttribute('class') || '').split(/\s+/), attrs = node.attributes;
        for (i = 0; i < classes.length; i++) {
          if ((m = classes[i].match(/plausible-event-(.+)(=|--)(.+)/))) {
            if (m[1].toLowerCase() == 'name') out.n = m[3].replace(/\+/g, ' ');
            else out.p[m[1]] = m[3].replace(/\+/g, ' ');
          }
          if ((m = classes[i].match(/plausible-revenue-(.+)(=|--)(.+)/))) out.$[m[1]] = m[3];
        }
        for (i = 0; i < attrs.length; i++) {
          a = attrs[i];
          if (a.name == 'data-beacon-event') out.n = a.value;
          else if ((m = a.name.match(/^data-beacon-(prop|revenue)-(.+)/))) {
            (m[1] == 'prop' ? out.p : out.$)[m[2]] = a.value;
          }
        }
        return out;
      }
      function trackTag(t) {
        var o = {props: t.p};
        if (t.$.amount) o.revenue = t.$;
        track(t.n, o);
      }

      function onClick(ev) {
        try {
          if (ev.type == 'auxclick' && ev.button != 1) return; // middle button only
          var node = ev.target, link = node.closest && node.closest('a'), tag, i, url;
          if (link && (typeof link.href != 'string' || !link.href)) link = 0;
          // The tagged element may be up to three levels above the clicked one.
          for (i = 0; node && i < 4; i++, node = node.parentNode) {
            if (node.tagName == 'FORM') break; // inside a form only the submission counts
            if (tagged(node)) { tag = node; break; }
          }
          if (tag) {
            tag = tagOf(tag);
            if (link) tag.p.url = link.href;
            return trackTag(tag);
          }
          if (!link) return;
          url = link.href.split('?')[0];
          if (outbound && link.host && link.host != loc.host) {
            track('Outbound Link: Click', {props: {url: link.href}});
          } else if (downloads && types.indexOf(url.split('.').pop().toLowerCase()) >= 0) {
            track('File Download', {props: {url: url}});
          }
        } catch (e) { /* never into the page */ }
      }
      doc.addEventListener('click', onClick);
      doc.addEventListener('auxclick', onClick);
      doc.addEventListener('submit', function (ev) {
        try {
          var form = ev.target, t = tagOf(tagged(form) ? form : form.parentNode), i, n = form;
          if (t.n) return trackTag(t);
          for (i = 0; n && i < 4; i++, n = n.parentNode) if (tagged(n)) return;
          if (forms && (form.hasAttribute('novalidate') || form.checkValidity())) {
            track('Form: Submission');
          }
        } catch (e) { /* never into the page */ }
      }, true);
    }
  })();
} catch (e) { /* a tracker must never break the page it is on */ }
