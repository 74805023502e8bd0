/*
 * Karlstads kommun – chat widget. Embed with one tag:
 *   <script src="https://…/widget/widget.js" data-gateway="https://…" defer></script>
 * Plain JavaScript, no framework, no build step. Server text is only ever set with
 * textContent or attribute values; links are built as <a> elements with checked URLs.
 * See docs/widget.md.
 */
(function () {
  'use strict';
  if (window.KarlstadChat) return;

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var BASE = ((script && script.getAttribute('data-gateway')) || '').replace(/\/+$/, '');
  var ASSETS = script && script.src ? script.src.replace(/widget\.js(\?.*)?$/, '') : BASE + '/widget/';
  var KEY = 'karlstad-chat:' + (BASE || location.origin);
  // Start language: data-lang, else English on English pages. Without either, the browser's
  // languages (navigator.languages) go to the gateway, which starts in the first one it has
  // verified text for (Swedish and English are written by people) and otherwise welcomes in
  // Swedish and English. Until it answers, the widget's own words follow the first of the
  // browser's languages that is Swedish or English.
  var PAGE_LANG = (script && script.getAttribute('data-lang')) ||
    (/^en\b/i.test(document.documentElement.lang || '') ? 'en' : null);
  var BROWSER_LANGS = browserLanguages();
  var START_LANG = PAGE_LANG || firstNative(BROWSER_LANGS) || 'sv';
  var MAX = 2000;
  var OPEN_STATES = { waiting: 1, active: 1, after_hours: 1 };

  // ---- citizen-facing texts (Swedish default, English when the conversation is in English)
  var T = {
    sv: {
      launcher: 'Chatta med oss', launcherNew: 'Nytt svar i chatten',
      region: 'Chatt med Karlstads kommun', title: 'Fråga Karlstads kommun',
      subtitle: 'AI-assistent – inte en människa', close: 'Stäng chatten',
      language: 'Språk · Language', log: 'Konversation',
      input: 'Skriv din fråga', hint: 'Enter skickar. Skift + Enter ger ny rad.', send: 'Skicka',
      you: 'Du', bot: 'AI-assistenten', system: 'Meddelande', staff: 'Kontaktcenter', staffNamed: '{n}, Kontaktcenter',
      source: 'Källa:', mt: 'Maskinöversatt', why: 'Varför fick jag det här svaret?',
      helpful: 'Hjälpte svaret?', yes: 'Ja', no: 'Nej', thanks: 'Tack! Ditt svar är sparat.',
      feedbackFail: 'Ditt svar kunde inte sparas just nu.',
      typing: 'Assistenten skriver …', sending: 'Skickar …', notSent: 'Inte skickat',
      retry: 'Försök igen',
      errUnavailable: 'Assistenten är inte tillgänglig just nu. Din text finns kvar. Försök igen om en stund eller ring Kontaktcenter, 054-540 00 00.',
      errNetwork: 'Det går inte att nå assistenten. Kontrollera din internetanslutning. Din text finns kvar.',
      errRate: 'Du skickar meddelanden väldigt snabbt. Vänta en stund och försök igen. Din text finns kvar.',
      errTooLong: 'Meddelandet är för långt. Skriv högst 2000 tecken.',
      errInvalid: 'Meddelandet kunde inte skickas. Ändra texten och försök igen.',
      errStart: 'Chatten kunde inte startas. Försök igen om en stund eller ring Kontaktcenter, 054-540 00 00.',
      restarted: 'Den förra konversationen finns inte längre. Vi har startat en ny.',
      offline: 'Du är inte ansluten till internet. Vi försöker igen när anslutningen är tillbaka.',
      reconnecting: 'Anslutningen bröts. Vi försöker ansluta igen …',
      queue: 'Du väntar på att få prata med en person på Kontaktcenter.',
      queuePos: 'Du är nummer {n} i kön.',
      active: 'En person på Kontaktcenter svarar dig nu.', activeNamed: '{n} på Kontaktcenter svarar dig nu.',
      closed: 'Samtalet med Kontaktcenter är avslutat. Nu svarar AI-assistenten igen.',
      afterHours: 'Kontaktcenter är stängt just nu. Lämna namn och telefonnummer, så ringer vi upp dig när vi har öppet.',
      cbTitle: 'Bli uppringd', cbName: 'Namn (frivilligt)', cbPhone: 'Telefonnummer',
      cbTime: 'När passar det att vi ringer? (frivilligt)', cbTimeHint: 'Till exempel ”efter kl. 13”.',
      cbSend: 'Ring upp mig', cbDone: 'Tack! Vi ringer upp dig så snart vi kan.',
      cbFail: 'Det gick inte att skicka. Försök igen eller ring Kontaktcenter, 054-540 00 00.',
      cbBadPhone: 'Skriv ett telefonnummer, till exempel 070-123 45 67.',
      cbRequested: 'Vi har tagit emot ditt telefonnummer. Kontaktcenter ringer upp dig när vi har öppet.',
      explainTitle: 'Därför fick du det här svaret', explainFail: 'Förklaringen kan inte visas just nu.',
      fromSource: 'Svaret kommer från', owner: 'Ansvarig på kommunen', author: 'Skrivet av',
      reviewedBy: 'Granskat av', notReviewed: 'Ännu inte granskat av kommunen.',
      dlTitle: 'Underlaget för hela samtalet:', dlText: 'Ladda ner som text', dlJson: 'Ladda ner som JSON',
      dlDone: 'Underlaget är nedladdat.', dlFail: 'Underlaget kunde inte laddas ner just nu. Försök igen om en stund.',
      mtNote: 'Svaret är maskinöversatt från svenska och kan innehålla fel.',
      aiNote: 'Svaret är skrivet av människor och valt av en AI. Det kan vara fel, och det är inget beslut i ditt ärende.',
      langNow: 'Språk: {n}.'
    },
    en: {
      launcher: 'Chat with us', launcherNew: 'New reply in the chat',
      region: 'Chat with Karlstad municipality', title: 'Ask Karlstad municipality',
      subtitle: 'AI assistant – not a human', close: 'Close the chat',
      language: 'Språk · Language', log: 'Conversation',
      input: 'Write your question', hint: 'Enter sends. Shift + Enter adds a new line.', send: 'Send',
      you: 'You', bot: 'The AI assistant', system: 'Notice', staff: 'Contact centre', staffNamed: '{n}, contact centre',
      source: 'Source:', mt: 'Machine translated', why: 'Why did I get this answer?',
      helpful: 'Did the answer help?', yes: 'Yes', no: 'No', thanks: 'Thank you! Your feedback is saved.',
      feedbackFail: 'Your feedback could not be saved right now.',
      typing: 'The assistant is writing …', sending: 'Sending …', notSent: 'Not sent',
      retry: 'Try again',
      errUnavailable: 'The assistant is not available right now. Your text is still here. Try again in a moment or call the contact centre, +46 54 540 00 00.',
      errNetwork: 'The assistant cannot be reached. Check your internet connection. Your text is still here.',
      errRate: 'You are sending messages very fast. Wait a moment and try again. Your text is still here.',
      errTooLong: 'The message is too long. Write at most 2000 characters.',
      errInvalid: 'The message could not be sent. Change the text and try again.',
      errStart: 'The chat could not start. Try again in a moment or call the contact centre, +46 54 540 00 00.',
      restarted: 'The previous conversation no longer exists. We have started a new one.',
      offline: 'You are not connected to the internet. We will try again when the connection is back.',
      reconnecting: 'The connection was lost. Trying to reconnect …',
      queue: 'You are waiting to talk to a person at the contact centre.',
      queuePos: 'You are number {n} in the queue.',
      active: 'A person at the contact centre is answering you now.', activeNamed: '{n} at the contact centre is answering you now.',
      closed: 'The conversation with the contact centre has ended. The AI assistant is answering again.',
      afterHours: 'The contact centre is closed right now. Leave your name and phone number and we will call you when we are open.',
      cbTitle: 'Get a call back', cbName: 'Name (optional)', cbPhone: 'Phone number',
      cbTime: 'When should we call? (optional)', cbTimeHint: 'For example “after 1 pm”.',
      cbSend: 'Call me back', cbDone: 'Thank you! We will call you as soon as we can.',
      cbFail: 'It could not be sent. Try again or call the contact centre, +46 54 540 00 00.',
      cbBadPhone: 'Write a phone number, for example 070-123 45 67.',
      cbRequested: 'We have your phone number. The contact centre will call you when we are open.',
      explainTitle: 'Why you got this answer', explainFail: 'The explanation cannot be shown right now.',
      fromSource: 'The answer comes from', owner: 'Responsible at the municipality', author: 'Written by',
      reviewedBy: 'Reviewed by', notReviewed: 'Not yet reviewed by the municipality.',
      dlTitle: 'The records of the whole conversation:', dlText: 'Download as text', dlJson: 'Download as JSON',
      dlDone: 'The records have been downloaded.', dlFail: 'The records could not be downloaded right now. Try again in a moment.',
      mtNote: 'The answer is machine translated from Swedish and may contain mistakes.',
      aiNote: 'The answer was written by people and chosen by an AI. It may be wrong, and it is not a decision about your case.',
      langNow: 'Language: {n}.'
    }
  };
  // "Machine translated" in the message's own language, where we are sure of the wording.
  var MT = {
    sv: 'Maskinöversatt', en: 'Machine translated', ar: 'ترجمة آلية', fa: 'ترجمه ماشینی',
    uk: 'Машинний переклад', ru: 'Машинный перевод', pl: 'Tłumaczenie maszynowe',
    fi: 'Konekäännös', de: 'Maschinell übersetzt', fr: 'Traduction automatique',
    es: 'Traducción automática', tr: 'Makine çevirisi'
  };
  var RTL = { ar: 1, fa: 1, he: 1, ur: 1, ps: 1, ckb: 1 };

  // ---- state ---------------------------------------------------------------------------
  var saved = load();
  var state = {
    id: saved.id || null, token: saved.token || null, lang: saved.lang || START_LANG,
    explicit: !!(saved.explicit || PAGE_LANG),
    open: !!saved.open, handoff: null, seen: {}, payloads: {}, languages: null,
    busy: false, stream: null, streamFails: 0, pollTimer: null, retryTimer: null, noEvents: false
  };
  var ui = uiLang(state.lang);
  var bindings = [];
  var root, host, els = {};

  function load() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || '{}') || {}; } catch (e) { return {}; }
  }
  function save() {
    try {
      sessionStorage.setItem(KEY, JSON.stringify({
        id: state.id, token: state.token, lang: state.lang, open: state.open, explicit: state.explicit,
        draft: els.input ? els.input.value : saved.draft || ''
      }));
    } catch (e) { /* storage full or disabled: the chat still works for this page */ }
  }
  function uiLang(code) { return code === 'en' ? 'en' : 'sv'; }
  function browserLanguages() {
    var list = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ''];
    return Array.prototype.filter.call(list, function (l) {
      return /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$/.test(String(l));
    }).slice(0, 20);
  }
  // The first browser language the widget's own words exist in (Danish and Norwegian read Swedish).
  function firstNative(list) {
    for (var i = 0; i < list.length; i++) {
      var base = String(list[i]).toLowerCase().split(/[-_]/)[0];
      if (base === 'sv' || base === 'en') return base;
      if (base === 'da' || base === 'no' || base === 'nb') return 'sv';
    }
    return null;
  }
  function t(key, n) { return (T[ui][key] || T.sv[key] || key).replace('{n}', n == null ? '' : n); }

  // ---- DOM helpers: text only, never HTML -----------------------------------------------
  var uid = 0;
  function nextId(p) { uid += 1; return 'kc-' + p + '-' + uid; }
  function h(tag, attrs, kids) {
    var el = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, k) || attrs[k] == null || attrs[k] === false) continue;
        if (k === 'text') el.textContent = attrs[k];
        else if (k === 'on') for (var ev in attrs.on) el.addEventListener(ev, attrs.on[ev]);
        else el.setAttribute(k, attrs[k] === true ? '' : String(attrs[k]));
      }
    }
    (kids || []).forEach(function (c) { if (c) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return el;
  }
  // A chrome element whose text/label follows the UI language.
  function bind(el, key, prop) { bindings.push([el, key, prop || 'text']); setBound(el, key, prop || 'text'); return el; }
  function setBound(el, key, prop) { if (prop === 'text') el.textContent = t(key); else el.setAttribute(prop, t(key)); }
  function icon(path) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24'); svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false'); svg.setAttribute('class', 'kc-icon');
    var p = document.createElementNS(ns, 'path'); p.setAttribute('d', path); svg.appendChild(p);
    return svg;
  }
  var ICON = {
    chat: 'M4 4h16v11H8l-4 4V4z', close: 'M6 6l12 12M18 6L6 18', send: 'M3 20l18-8L3 4v6l12 2-12 2z',
    up: 'M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10c0 1.1.9 2 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z',
    down: 'M22 3h-4v12h4V3zM2 14a2 2 0 0 0 2 2h6.3l-1 4.6v.3c0 .4.2.8.4 1.1l1.1 1 6.6-6.6c.4-.4.6-.9.6-1.4V5c0-1.1-.9-2-2-2H7c-.8 0-1.5.5-1.8 1.2l-3 7.1c-.1.2-.2.5-.2.7v2z'
  };

  // Safe URL: http(s), mailto and tel only; relative URLs resolve against the gateway.
  function safeUrl(raw) {
    try {
      var u = new URL(String(raw), BASE ? BASE + '/' : location.href);
      return /^(https?:|mailto:|tel:)$/.test(u.protocol) ? u.href : null;
    } catch (e) { return null; }
  }
  var LINK = /(https?:\/\/[^\s<>"']+|www\.[a-z0-9-]+\.[^\s<>"']+|[\w.+-]+@[\w-]+\.[\w.-]+|(?:\+46|0)\d{1,3}[- ]\d{2,3}[ \d]{4,8}\d|(?:112|1177|90101|114 ?14|116 ?111)(?!\d))/gi;
  // Sweden's short public numbers (emergency, Självmordslinjen, 1177, the police's 114 14,
  // BRIS): links in what the municipality writes, so a phone can call them with one tap.
  var SHORT = /^(?:112|1177|90101|114 ?14|116 ?111)$/;
  // Plain text with paragraphs, line breaks and safely built links. Short numbers become
  // links only in our own messages (opts.short), never in what the citizen wrote.
  function richText(text, opts) {
    var short = !!(opts && opts.short);
    var box = h('div', { 'class': 'kc-text' });
    String(text || '').split(/\n{2,}/).forEach(function (para) {
      var p = h('p');
      para.split('\n').forEach(function (line, i) {
        if (i) p.appendChild(h('br'));
        var last = 0, m;
        LINK.lastIndex = 0;
        while ((m = LINK.exec(line))) {
          var raw = m[0].replace(/[.,;:!?)\]]+$/, '');
          var href = null;
          if (SHORT.test(raw)) {
            // Part of a longer number, a word or a web address ("A112", "1177.se")? Not a number to call.
            if (!short || /[\w+\-\/.]/.test(line.charAt(m.index - 1) || ' ') ||
                /^(?:\w|[.\-\/]\w)/.test(line.slice(m.index + raw.length, m.index + raw.length + 2))) {
              LINK.lastIndex = m.index + 1; continue;
            }
            href = 'tel:' + raw.replace(/\D/g, '');
          }
          else if (/^https?:/i.test(raw)) href = safeUrl(raw);
          else if (/^www\./i.test(raw)) href = safeUrl('https://' + raw);
          else if (raw.indexOf('@') > 0) href = 'mailto:' + raw;
          else href = 'tel:' + raw.replace(/[^\d+]/g, '').replace(/^0/, '+46');
          p.appendChild(document.createTextNode(line.slice(last, m.index)));
          p.appendChild(href ? h('a', { href: href, text: raw }) : document.createTextNode(raw));
          last = m.index + raw.length;
          LINK.lastIndex = last;
        }
        p.appendChild(document.createTextNode(line.slice(last)));
      });
      box.appendChild(p);
    });
    return box;
  }

  // ---- API ---------------------------------------------------------------------------------
  function ApiError(status, code, message) { this.status = status; this.code = code; this.message = message; }
  function api(method, path, body, opts) {
    var headers = { Accept: 'application/json' };
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return window.fetch(BASE + path, {
      method: method, headers: headers, credentials: 'omit',
      body: body === undefined ? undefined : JSON.stringify(body), signal: opts && opts.signal
    }).then(function (res) {
      return res.text().then(function (raw) {
        var data = null;
        try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
        if (!res.ok) {
          var err = (data && data.error) || {};
          throw new ApiError(res.status, err.code || 'http_' + res.status, err.message || '');
        }
        return data;
      });
    }, function () { throw new ApiError(0, 'network', ''); });
  }
  function conv(path) { return '/api/conversations/' + encodeURIComponent(state.id) + path; }

  // ---- building the widget ------------------------------------------------------------------
  function build() {
    host = h('div', { id: 'karlstad-chat', 'data-state': 'loading' });
    root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
    var css = h('link', { rel: 'stylesheet', href: ASSETS + 'widget.css' });
    css.addEventListener('load', function () { host.setAttribute('data-state', 'ready'); });
    css.addEventListener('error', function () { host.setAttribute('data-state', 'ready'); });
    root.appendChild(css);

    els.region = h('section', { 'class': 'kc', lang: ui });
    bind(els.region, 'region', 'aria-label');

    els.launcher = h('button', { type: 'button', 'class': 'kc-launcher', 'aria-expanded': 'false', 'aria-controls': 'kc-panel' },
      [icon(ICON.chat), bind(h('span', { 'class': 'kc-launcher-text' }), 'launcher'),
        els.badge = bind(h('span', { 'class': 'kc-badge', hidden: true }), 'launcherNew')]);
    els.launcher.addEventListener('click', function () { if (state.open) close(); else open(true); });

    els.title = bind(h('h2', { id: 'kc-title', 'class': 'kc-title' }), 'title');
    els.close = h('button', { type: 'button', 'class': 'kc-iconbtn kc-close' }, [icon(ICON.close)]);
    bind(els.close, 'close', 'aria-label');
    els.close.addEventListener('click', function () { close(); });

    els.langSelect = h('select', { id: 'kc-lang', 'class': 'kc-select' });
    // Arrow keys on a closed select fire change for every step: wait until the choice settles.
    var langTimer;
    els.langSelect.addEventListener('change', function () {
      clearTimeout(langTimer);
      langTimer = setTimeout(function () { chooseLanguage(els.langSelect.value); }, 600);
    });
    var langLabel = bind(h('label', { 'for': 'kc-lang', 'class': 'kc-langlabel' }), 'language');

    var header = h('div', { 'class': 'kc-header' }, [
      h('div', { 'class': 'kc-heading' }, [els.title, bind(h('p', { 'class': 'kc-subtitle' }), 'subtitle')]),
      els.close,
      h('div', { 'class': 'kc-langrow' }, [langLabel, els.langSelect])
    ]);

    // Live regions stay in the page (empty when quiet) so that new text in them is announced.
    els.banner = h('div', { 'class': 'kc-banner', role: 'status' });
    els.log = h('div', { 'class': 'kc-log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0' });
    bind(els.log, 'log', 'aria-label');
    els.extra = h('div', { 'class': 'kc-extra' });
    els.status = h('div', { 'class': 'kc-status', role: 'status' });
    els.alertText = h('p', { 'class': 'kc-alert-text' });
    els.retry = bind(h('button', { type: 'button', 'class': 'kc-btn kc-retry', hidden: true }), 'retry');
    els.retry.addEventListener('click', function () { retry(); });
    els.alert = h('div', { 'class': 'kc-alert', role: 'alert' }, [els.alertText, els.retry]);

    els.input = h('textarea', { id: 'kc-input', 'class': 'kc-input', rows: '2', maxlength: String(MAX),
      'aria-describedby': 'kc-hint', autocomplete: 'off' });
    els.input.value = saved.draft || '';
    els.input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    });
    els.input.addEventListener('input', function () { save(); });
    els.send = h('button', { type: 'submit', 'class': 'kc-btn kc-send' }, [icon(ICON.send), bind(h('span'), 'send')]);
    els.form = h('form', { 'class': 'kc-compose', novalidate: true }, [
      bind(h('label', { 'for': 'kc-input', 'class': 'kc-label' }), 'input'),
      h('div', { 'class': 'kc-row' }, [els.input, els.send]),
      bind(h('p', { id: 'kc-hint', 'class': 'kc-hint' }), 'hint')
    ]);
    els.form.addEventListener('submit', function (e) { e.preventDefault(); submit(); });

    els.panel = h('div', { id: 'kc-panel', 'class': 'kc-panel', role: 'dialog', 'aria-labelledby': 'kc-title' },
      [header, els.banner, els.log, els.extra, els.status, els.alert, els.form]);
    els.panel.hidden = true;
    els.panel.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' || e.key === 'Esc') { e.preventDefault(); close(); }
    });
    els.region.appendChild(els.panel);
    els.region.appendChild(els.launcher);
    root.appendChild(els.region);
    document.body.appendChild(host);
    fillLanguages([{ code: 'sv', name: 'Svenska', dir: 'ltr' }, { code: 'en', name: 'English', dir: 'ltr' }]);
  }

  function setUi(code) {
    var next = uiLang(code);
    if (next === ui) return;
    ui = next;
    els.region.setAttribute('lang', ui);
    bindings.forEach(function (b) { setBound(b[0], b[1], b[2]); });
    renderHandoff(state.handoff, true);
  }

  // ---- open / close -------------------------------------------------------------------------
  function open(focus) {
    state.open = true; save();
    els.panel.hidden = false;
    els.launcher.setAttribute('aria-expanded', 'true');
    host.setAttribute('data-open', '');
    els.badge.hidden = true;
    if (focus) els.input.focus();
    loadLanguages();
    if (!state.started) start().catch(function () { /* the alert says what happened */ });
  }
  function close() {
    state.open = false; save();
    els.panel.hidden = true;
    els.launcher.setAttribute('aria-expanded', 'false');
    host.removeAttribute('data-open');
    els.launcher.focus();
  }

  // ---- conversation lifecycle --------------------------------------------------------------
  function start() {
    state.started = true;
    if (state.id && state.token) return restore();
    return createConversation();
  }
  function createConversation() {
    if (state.creating) return state.creating;  // opening and a quick first message: one conversation
    // A language chosen in the menu or by the page is sent as the choice; otherwise the
    // browser's languages, and the gateway decides where to start (see START_LANG).
    var body = !state.explicit ? { preferred_languages: BROWSER_LANGS }
      : state.lang && state.lang !== 'sv' ? { language: state.lang } : {};
    state.creating = api('POST', '/api/conversations', body).then(function (data) {
      state.creating = null;
      state.id = data.conversation_id; state.token = data.token;
      setLanguage(data.language);
      save();
      hideAlert();
      (data.messages || []).forEach(function (m) { addMessage(m); });
      return data;
    }, function (err) {
      state.creating = null;
      state.started = false;
      showAlert(t('errStart'), function () { start().catch(function () {}); });
      throw err;
    });
    return state.creating;
  }
  // After a reload: the transcript, without announcing old messages again.
  function restore() {
    els.log.setAttribute('aria-live', 'off');
    return api('GET', conv('/messages')).then(function (data) {
      hideAlert();
      setLanguage(data.language);
      state.restoring = true;  // an earlier page's conversation: continue where it ended
      (data.messages || []).forEach(function (m) { addMessage(m); });
      state.restoring = false;
      updateHandoff(data.handoff, true);
      setTimeout(function () { els.log.setAttribute('aria-live', 'polite'); }, 50);
    }, function (err) {
      els.log.setAttribute('aria-live', 'polite');
      state.started = false;
      if (err.status === 401 || err.status === 403 || err.status === 404) {
        resetConversation();
        return start().then(function () { setStatus(t('restarted')); }, function () {});
      }
      showAlert(err.status === 0 ? t('errNetwork') : t('errStart'), function () { start().catch(function () {}); });
    });
  }
  function resetConversation() {
    stopStream();
    state.id = state.token = null; state.handoff = null; state.seen = {}; state.lastEventId = null;
    while (els.log.firstChild) els.log.removeChild(els.log.firstChild);
    renderHandoff(null);
    save();
  }
  function setLanguage(language) {
    if (!language || !language.code) return;
    state.lang = language.code;
    if (els.langSelect.value !== language.code) {
      if (!els.langSelect.querySelector('option[value="' + language.code.replace(/[^a-z]/g, '') + '"]')) {
        els.langSelect.appendChild(h('option', { value: language.code, lang: language.code, dir: language.dir || null, text: language.name || language.code }));
      }
      els.langSelect.value = language.code;
    }
    setUi(language.code);
    save();
  }

  // ---- languages -------------------------------------------------------------------------------
  function loadLanguages() {
    if (state.languages) return;
    state.languages = 'loading';
    api('GET', '/api/languages').then(function (data) {
      var list = (data && data.languages) || [];
      if (list.length) fillLanguages(list);
      state.languages = list;
    }, function () { state.languages = null; });
  }
  // Languages the assistant answers in first; the others (answers in Swedish and English,
  // a person with an interpreter) in a group that says so.
  function fillLanguages(list) {
    var select = els.langSelect;
    var current = select.value || state.lang;  // keep a choice the user is making right now
    while (select.firstChild) select.removeChild(select.firstChild);
    function option(l) {
      return h('option', { value: l.code, lang: l.code, dir: l.dir || (RTL[l.code] ? 'rtl' : 'ltr'), text: l.name || l.code });
    }
    var full = list.filter(function (l) { return l.available !== false; });
    var limited = list.filter(function (l) { return l.available === false; });
    full.forEach(function (l) { select.appendChild(option(l)); });
    if (limited.length) {
      var group = h('optgroup', { label: 'Begränsat stöd · Limited support' });
      limited.forEach(function (l) { group.appendChild(option(l)); });
      select.appendChild(group);
    }
    if (!list.some(function (l) { return l.code === current; })) select.appendChild(h('option', { value: current, text: current }));
    select.value = current;
  }
  function chooseLanguage(code) {
    state.lang = code; state.explicit = true; save();
    var name = els.langSelect.options[els.langSelect.selectedIndex].textContent;
    setUi(code);
    if (!state.id) return;
    api('POST', conv('/language'), { language: code }).then(function (language) {
      if (els.langSelect.value !== code) return;  // the user has already chosen another one
      setLanguage({ code: code, name: language && language.name, dir: language && language.dir });
      setStatus(t('langNow', name));
    }, function (err) { handleError(err, function () { chooseLanguage(code); }); });
  }

  // ---- sending -------------------------------------------------------------------------------
  function submit(textOverride, title) {
    var text = textOverride != null ? textOverride : els.input.value;
    if (!text.trim() || state.busy) return;
    if (text.length > MAX) { showAlert(t('errTooLong')); return; }
    hideAlert();
    state.busy = true;
    els.send.setAttribute('aria-disabled', 'true');
    var fromInput = textOverride == null;
    var bubble = addMessage({ role: 'citizen', text: title || text, language: state.lang, dir: 'auto' }, true);
    bubble.classList.add('kc-pending');
    if (fromInput) { els.input.value = ''; }
    setStatus(t('typing'), true);
    var ready = state.id ? Promise.resolve() : createConversation();
    ready.then(function () {
      return api('POST', conv('/messages'), { text: text });
    }).then(function (data) {
      bubble.classList.remove('kc-pending');
      if (data.language) {
        bubble.setAttribute('lang', data.language.code);
        bubble.setAttribute('dir', data.language.dir || 'ltr');
        setLanguage(data.language);
      }
      setStatus('');
      (data.messages || []).forEach(function (m) { addMessage(m); });
      updateHandoff(data.handoff);
      save();
    }).catch(function (err) {
      setStatus('');
      // Never lose what was typed: the text goes back into the input.
      if (bubble.parentNode) bubble.parentNode.removeChild(bubble);
      if (fromInput) {
        els.input.value = els.input.value ? text + '\n' + els.input.value : text;
        save();
      }
      if (err && (err.status === 401 || err.status === 403 || err.status === 404) && state.id) {
        resetConversation();
        return createConversation().then(function () {
          showAlert(t('restarted'), function () { submit(textOverride, title); });
        }, function () { /* createConversation shows its own alert */ });
      }
      handleError(err, function () { submit(textOverride, title); });
    }).then(function () {
      state.busy = false;
      els.send.removeAttribute('aria-disabled');
    });
  }
  function retry() {
    var fn = state.retryFn;
    hideAlert();
    if (fn) fn();
    els.input.focus();
  }
  function handleError(err, again) {
    var s = err && err.status;
    if (s === 413) return showAlert(t('errTooLong'));
    if (s === 422 || s === 400) return showAlert(t('errInvalid'));
    if (s === 429) return showAlert(t('errRate'), again);
    if (s === 0) return showAlert(navigator.onLine === false ? t('offline') : t('errNetwork'), again);
    return showAlert(t('errUnavailable'), again);
  }
  function showAlert(text, again) {
    state.retryFn = again || null;
    els.alertText.textContent = text;
    els.retry.hidden = !again;
    els.alert.classList.add('kc-on');
    host.setAttribute('data-error', '');
  }
  function hideAlert() {
    els.alert.classList.remove('kc-on');
    els.retry.hidden = true;
    els.alertText.textContent = '';
    state.retryFn = null;
    host.removeAttribute('data-error');
  }
  var statusTimer;
  function setStatus(text, busy) {
    clearTimeout(statusTimer);
    els.status.textContent = text;
    els.status.classList.toggle('kc-typing', !!busy);
    if (text && !busy) statusTimer = setTimeout(function () { els.status.textContent = ''; }, 8000);
  }

  // ---- messages --------------------------------------------------------------------------------
  function speaker(m) {
    if (m.role === 'citizen') return t('you');
    if (m.role === 'staff') return m.author ? t('staffNamed', m.author) : t('staff');
    return m.role === 'system' ? t('system') : t('bot');
  }
  function addMessage(m, local) {
    if (m.id) {
      if (state.seen[m.id]) return state.seen[m.id];
    }
    var lang = m.language || state.lang;
    var dir = m.dir || (RTL[lang] ? 'rtl' : 'ltr');
    var role = { citizen: 1, staff: 1, system: 1 }[m.role] ? m.role : 'bot';
    var text = m.text;
    if (role === 'citizen' && !local && state.payloads[text]) text = state.payloads[text];
    var safety = !!m.safety && role !== 'citizen';
    var el = h('div', { 'class': 'kc-msg kc-' + role + (safety ? ' kc-safety' : ''), lang: lang, dir: dir,
      'data-id': m.id || null, 'data-safety': safety ? 'true' : null });
    el.appendChild(h('p', { 'class': 'kc-who' + (role === 'staff' || role === 'system' ? '' : ' kc-vh'), lang: ui, dir: 'ltr', text: speaker(m) }));
    el.appendChild(richText(text, { short: role !== 'citizen' }));
    if (role !== 'citizen') el.appendChild(meta(m));
    els.log.appendChild(el);
    if (m.id) state.seen[m.id] = el;
    if (safety) state.safetyShown = true;
    if (safety && !state.restoring) keepInView(el);
    else if (!safetyTop) scrollToEnd();
    return el;
  }
  // The safety information is read first: the conversation scrolls to its beginning (not to
  // the end) once the rest of the same answer and any call-back offer have been added.
  var safetyTop = null;
  function keepInView(el) {
    if (safetyTop) return;
    safetyTop = el;
    setTimeout(function () {
      var first = safetyTop;
      safetyTop = null;
      var r = first.getBoundingClientRect(), box = els.log.getBoundingClientRect();
      var top = Math.max(0, els.log.scrollTop + (r.top - box.top) - 8);
      try { els.log.scrollTo({ top: top, behavior: 'auto' }); } catch (e) { els.log.scrollTop = top; }
    }, 0);
  }
  function meta(m) {
    var box = h('div', { 'class': 'kc-meta', lang: ui, dir: 'ltr' });
    if (m.machine_translated) {
      var label = MT[m.language];
      box.appendChild(label && m.language !== ui
        ? h('p', { 'class': 'kc-mt' }, [h('span', { lang: m.language, dir: m.dir || 'auto', text: label }), ' · ' + t('mt')])
        : h('p', { 'class': 'kc-mt', text: label ? t('mt') : 'Maskinöversatt · Machine translated' }));
    }
    if (m.source && m.source.title) {
      var href = safeUrl(m.source.url);
      box.appendChild(h('p', { 'class': 'kc-source' }, [t('source') + ' ',
        href ? h('a', { href: href, text: m.source.title }) : h('span', { text: m.source.title })]));
    }
    if (m.buttons && m.buttons.length) {
      var group = h('div', { 'class': 'kc-choices', lang: m.language || null, dir: m.dir || null });
      m.buttons.forEach(function (b) {
        state.payloads[b.payload] = b.title;
        var btn = h('button', { type: 'button', 'class': 'kc-chip', text: b.title });
        btn.addEventListener('click', function () { submit(b.payload, b.title); els.input.focus(); });
        group.appendChild(btn);
      });
      box.appendChild(group);
    }
    if (m.basis_id) box.appendChild(actions(m));
    return box;
  }
  function actions(m) {
    var expId = nextId('why');
    var panel = h('div', { id: expId, 'class': 'kc-explain', hidden: true });
    var why = h('button', { type: 'button', 'class': 'kc-link', 'aria-expanded': 'false', 'aria-controls': expId, text: t('why') });
    why.addEventListener('click', function () {
      var show = why.getAttribute('aria-expanded') !== 'true';
      why.setAttribute('aria-expanded', String(show));
      panel.hidden = !show;
      if (show && !panel.firstChild) explain(m, panel);
      if (show) reveal(panel);
    });
    var qId = nextId('q');
    var up = h('button', { type: 'button', 'class': 'kc-fb', 'aria-pressed': 'false' }, [icon(ICON.up), h('span', { text: t('yes') })]);
    var down = h('button', { type: 'button', 'class': 'kc-fb', 'aria-pressed': 'false' }, [icon(ICON.down), h('span', { text: t('no') })]);
    function vote(value, btn, other) {
      btn.setAttribute('aria-pressed', 'true'); other.setAttribute('aria-pressed', 'false');
      api('POST', conv('/feedback'), { basis_id: m.basis_id, value: value }).then(function () {
        setStatus(t('thanks'));
      }, function () {
        btn.setAttribute('aria-pressed', 'false');
        setStatus(t('feedbackFail'));
      });
    }
    up.addEventListener('click', function () { vote('up', up, down); });
    down.addEventListener('click', function () { vote('down', down, up); });
    return h('div', { 'class': 'kc-actions' }, [
      why,
      h('div', { 'class': 'kc-feedback', role: 'group', 'aria-labelledby': qId }, [h('span', { id: qId, text: t('helpful') }), up, down]),
      panel
    ]);
  }
  // "Varför fick jag det här svaret?": the gateway's explanation, or what the message itself says.
  function explain(m, panel) {
    var body = h('div');
    panel.appendChild(body);
    panel.appendChild(downloads());
    api('GET', conv('/basis/' + encodeURIComponent(m.basis_id))).then(function (data) {
      if (!renderExplanations(data, body)) localExplanation(m, body);
      reveal(panel);
    }, function (err) {
      localExplanation(m, body);
      if (err.status !== 404) body.appendChild(h('p', { 'class': 'kc-note', text: t('explainFail') }));
    });
  }
  // {explanations: [{language, dir, machine_translated, title, points: [{key, text}]}]}
  function renderExplanations(data, box) {
    var list = data && (data.explanations || (data.explanation ? [data.explanation] : []));
    if (!list || !list.length) return false;
    list.forEach(function (ex) {
      if (!ex) return;
      var part = h('div', { 'class': 'kc-explain-part', lang: ex.language || null, dir: ex.dir || null });
      if (ex.title) part.appendChild(h('p', { 'class': 'kc-explain-title', text: ex.title }));
      var points = ex.points || [];
      if (typeof ex.text === 'string') points = points.concat([{ text: ex.text }]);
      if (points.length) {
        var ul = h('ul');
        points.forEach(function (p) { ul.appendChild(h('li', {}, [richText(typeof p === 'string' ? p : p.text)])); });
        part.appendChild(ul);
      }
      if (ex.machine_translated) part.appendChild(h('p', { 'class': 'kc-mt', lang: ui, dir: 'ltr', text: t('mt') }));
      box.appendChild(part);
    });
    return !!box.firstChild;
  }
  // The citizen's copy of every basis record in the conversation (GET …/basis), as readable
  // text or as JSON. The request needs the conversation's token, so the file is fetched here
  // and handed to the browser as a download.
  function downloads() {
    var labelId = nextId('dl');
    var box = h('div', { 'class': 'kc-choices kc-download', role: 'group', 'aria-labelledby': labelId },
      [h('span', { id: labelId, text: t('dlTitle') })]);
    [['text', 'dlText'], ['json', 'dlJson']].forEach(function (f) {
      var btn = h('button', { type: 'button', 'class': 'kc-chip', 'data-format': f[0], text: t(f[1]) });
      btn.addEventListener('click', function () { download(f[0], btn); });
      box.appendChild(btn);
    });
    return box;
  }
  function download(format, btn) {
    if (btn.getAttribute('aria-disabled') === 'true') return;
    btn.setAttribute('aria-disabled', 'true');
    window.fetch(BASE + conv('/basis?format=' + format), {
      headers: { Authorization: 'Bearer ' + state.token }, credentials: 'omit', cache: 'no-store'
    }).then(function (res) {
      if (!res.ok) throw new ApiError(res.status, 'download', '');
      var named = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '');
      var name = named ? named[1] : 'ai-underlag-' + state.id + (format === 'json' ? '.json' : '.txt');
      return res.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = h('a', { href: url, download: name, hidden: true });
        els.extra.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(url); if (a.parentNode) a.parentNode.removeChild(a); }, 1000);
        setStatus(t('dlDone'));
      });
    }).catch(function () { setStatus(t('dlFail')); }).then(function () { btn.removeAttribute('aria-disabled'); });
  }
  function localExplanation(m, box) {
    box.appendChild(h('p', { 'class': 'kc-explain-title', text: t('explainTitle') }));
    if (m.source && m.source.title) {
      var href = safeUrl(m.source.url);
      box.appendChild(h('p', {}, [h('strong', { text: t('fromSource') + ': ' }),
        href ? h('a', { href: href, text: m.source.title }) : m.source.title]));
      // Who stands behind the text: only what the content file says (docs/topic-format.md).
      if (m.source.author) box.appendChild(h('p', {}, [h('strong', { text: t('author') + ': ' }), m.source.author]));
      if (m.source.reviewed_by) {
        box.appendChild(h('p', {}, [h('strong', { text: t('reviewedBy') + ': ' }),
          m.source.reviewed_by + (m.source.reviewed ? ', ' + m.source.reviewed : '')]));
      } else if (m.source.author) box.appendChild(h('p', { text: t('notReviewed') }));
      if (m.source.owner) box.appendChild(h('p', {}, [h('strong', { text: t('owner') + ': ' }), m.source.owner]));
    }
    if (m.machine_translated) box.appendChild(h('p', { text: t('mtNote') }));
    box.appendChild(h('p', { text: t('aiNote') }));
  }
  // Scroll the conversation (only it) so that el is in view.
  function reveal(el) {
    setTimeout(function () {
      var r = el.getBoundingClientRect(), box = els.log.getBoundingClientRect();
      if (r.bottom > box.bottom) els.log.scrollTop += Math.min(r.bottom - box.bottom, r.top - box.top);
      else if (r.top < box.top) els.log.scrollTop -= box.top - r.top;
    }, 50);
  }
  function scrollToEnd() {
    var reduce = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    try { els.log.scrollTo({ top: els.log.scrollHeight, behavior: reduce ? 'auto' : 'smooth' }); }
    catch (e) { els.log.scrollTop = els.log.scrollHeight; }
  }

  // ---- handoff -----------------------------------------------------------------------------------
  function updateHandoff(status, quiet) {
    var before = state.handoff && state.handoff.status;
    state.handoff = status || null;
    renderHandoff(status, quiet, before);
    if (status && OPEN_STATES[status.status]) startStream();
    else stopStream();
  }
  function renderHandoff(status, quiet, before) {
    var s = status && status.status;
    host.setAttribute('data-handoff', s || 'none');
    var text = '';
    if (s === 'waiting') text = t('queue') + (status.position ? ' ' + t('queuePos', status.position) : '');
    else if (s === 'active') {
      var name = status.staff_name || status.author || state.lastAuthor;
      text = name ? t('activeNamed', name) : t('active');
    } else if (s === 'after_hours') text = status.callback_requested ? t('cbRequested') : t('afterHours');
    else if (s === 'closed' && (before && OPEN_STATES[before])) text = t('closed');
    if (els.banner.textContent !== text) els.banner.textContent = text;
    if (s && OPEN_STATES[s] && !status.callback_requested) callbackForm(s === 'after_hours');
    else if (els.callback && !els.callbackDone && !els.callbackSending) {
      // Not while our own request is on its way: the stream may say "call-back requested"
      // before the reply arrives, and the citizen must still see the confirmation.
      els.extra.removeChild(els.callback);
      els.callback = els.callbackOpen = null; els.callbackTouched = false;
    }
    void quiet;
  }

  // Phones and large zoom: the panel fills the window (the same breakpoint as widget.css).
  function smallScreen() {
    return !!(window.matchMedia && window.matchMedia('(max-width: 34em), (max-height: 34em)').matches);
  }
  // Call-back: the one way to give the contact centre a phone number (numbers written in the
  // chat are removed before anyone reads them). While a person is on the way it is a button
  // ("Bli uppringd") that opens the form. Outside opening hours the form is open at once,
  // except on small screens and after safety information: there the conversation keeps its
  // room, so the safety information stays readable first.
  function callbackForm(afterHours) {
    var expand = afterHours && !state.safetyShown && !smallScreen();
    if (els.callback) {
      if (expand && !els.callbackTouched && els.callbackOpen) els.callbackOpen(true);
      return;
    }
    var ids = { name: nextId('cb'), phone: nextId('cb'), time: nextId('cb'), phoneErr: nextId('cb'), timeHint: nextId('cb'),
      title: nextId('cb'), form: nextId('cb') };
    function field(id, label, input, extra) {
      return h('div', { 'class': 'kc-field' }, [h('label', { 'for': id, text: label }), extra, input]);
    }
    var name = h('input', { id: ids.name, type: 'text', autocomplete: 'name', maxlength: '100' });
    var phone = h('input', { id: ids.phone, type: 'tel', autocomplete: 'tel', required: true, maxlength: '24' });
    var when = h('input', { id: ids.time, type: 'text', maxlength: '100', 'aria-describedby': ids.timeHint });
    var phoneErr = h('p', { id: ids.phoneErr, 'class': 'kc-fielderr', hidden: true });
    var result = h('p', { 'class': 'kc-cbresult', role: 'status' });
    var send = h('button', { type: 'submit', 'class': 'kc-btn', text: t('cbSend') });
    var toggle = h('button', { type: 'button', id: ids.title, 'class': 'kc-cbtoggle', 'aria-expanded': 'false',
      'aria-controls': ids.form, text: t('cbTitle') });
    var head = h('h3', { 'class': 'kc-cbhead' }, [toggle]);
    var form = h('form', { id: ids.form, 'class': 'kc-callback', novalidate: true, 'aria-labelledby': ids.title, hidden: true }, [
      field(ids.name, t('cbName'), name),
      field(ids.phone, t('cbPhone'), phone, phoneErr),
      field(ids.time, t('cbTime'), when, h('p', { id: ids.timeHint, 'class': 'kc-hint', text: t('cbTimeHint') })),
      send, result
    ]);
    function invalid(input, err, msg) {
      input.setAttribute('aria-invalid', msg ? 'true' : 'false');
      err.textContent = msg || ''; err.hidden = !msg;
      if (msg) input.setAttribute('aria-describedby', err.id); else input.removeAttribute('aria-describedby');
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var okPhone = /^\+?[0-9][0-9 ()-]{4,22}[0-9]$/.test(phone.value.trim());
      invalid(phone, phoneErr, okPhone ? '' : t('cbBadPhone'));
      if (!okPhone) return phone.focus();
      send.setAttribute('aria-disabled', 'true');
      els.callbackSending = true;
      var body = { name: name.value.trim(), phone: phone.value.trim() };
      if (!body.name) delete body.name;
      if (when.value.trim()) body.preferred_time = when.value.trim();
      api('POST', conv('/callback'), body).then(function (data) {
        els.callbackDone = true;
        ((data && data.messages) || []).forEach(function (m) { addMessage(m); });
        if (head.parentNode) head.parentNode.removeChild(head);
        form.removeAttribute('aria-labelledby');
        while (form.firstChild) form.removeChild(form.firstChild);
        form.appendChild(h('p', { 'class': 'kc-cbresult', role: 'status', tabindex: '-1', text: t('cbDone') }));
        form.firstChild.focus();
      }, function () {
        els.callbackSending = false;
        send.removeAttribute('aria-disabled');
        result.textContent = t('cbFail');
      });
    });
    function setOpen(show) {
      form.hidden = !show;
      toggle.setAttribute('aria-expanded', String(show));
    }
    toggle.addEventListener('click', function () {
      els.callbackTouched = true;
      setOpen(form.hidden);
      if (!form.hidden) name.focus();
    });
    els.callbackOpen = setOpen;
    els.callback = h('div', { 'class': 'kc-cbbox' }, [head, form]);
    els.extra.appendChild(els.callback);
    setOpen(expand);
  }

  // ---- live updates: staff replies and handoff changes ----------------------------------------
  // EventSource cannot send an Authorization header, so the stream is read with fetch.
  function startStream() {
    if (state.stream || !state.id) return;
    if (state.noEvents) return startPolling();
    var ctrl = new AbortController();
    state.stream = ctrl;
    var resume = state.lastEventId && /^\d+$/.test(state.lastEventId) ? '?after=' + state.lastEventId : '';
    window.fetch(BASE + conv('/events') + resume, {
      headers: { Authorization: 'Bearer ' + state.token, Accept: 'text/event-stream' },
      credentials: 'omit', cache: 'no-store', signal: ctrl.signal
    }).then(function (res) {
      if (res.status === 404 || res.status === 405) { state.noEvents = true; throw new ApiError(res.status, 'no_events'); }
      if (res.status === 401 || res.status === 403) throw new ApiError(res.status, 'auth');
      if (!res.ok || !res.body) throw new ApiError(res.status, 'stream');
      state.streamFails = 0;
      if (els.banner.getAttribute('data-reconnecting')) { els.banner.removeAttribute('data-reconnecting'); renderHandoff(state.handoff, true); }
      resync();  // whatever arrived before the stream was open (duplicates are skipped by id)
      return readStream(res.body.getReader());
    }).then(function () {
      throw new ApiError(0, 'ended');
    }).catch(function (err) {
      if (state.stream !== ctrl) return;
      state.stream = null;
      if (ctrl.signal.aborted) return;
      if (err && err.code === 'no_events') return startPolling();
      if (err && err.code === 'auth') return;
      if (!(state.handoff && OPEN_STATES[state.handoff.status])) return;
      state.streamFails += 1;
      if (state.streamFails > 1) { els.banner.setAttribute('data-reconnecting', '1'); els.banner.textContent = t('reconnecting'); }
      var delay = Math.min(30000, 1000 * Math.pow(2, state.streamFails - 1));
      clearTimeout(state.retryTimer);
      state.retryTimer = setTimeout(startStream, delay);
    });
  }
  function readStream(reader) {
    var decoder = new TextDecoder();
    var buffer = '';
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, '\n');
        var idx;
        while ((idx = buffer.indexOf('\n\n')) >= 0) {
          dispatch(buffer.slice(0, idx));
          buffer = buffer.slice(idx + 2);
        }
        return pump();
      });
    }
    return pump();
  }
  function dispatch(block) {
    var type = 'message', data = [];
    block.split('\n').forEach(function (line) {
      if (line.indexOf('id:') === 0) state.lastEventId = line.slice(3).trim();
      else if (line.indexOf('event:') === 0) type = line.slice(6).trim();
      else if (line.indexOf('data:') === 0) data.push(line.slice(5).replace(/^ /, ''));
    });
    if (!data.length) return;
    var payload;
    try { payload = JSON.parse(data.join('\n')); } catch (e) { return; }
    if (type === 'message') onLiveMessage(payload);
    else if (type === 'handoff') updateHandoff(payload && payload.handoff !== undefined ? payload.handoff : payload);
  }
  function onLiveMessage(m) {
    if (!m || m.role === 'citizen') return;
    if (m.role === 'staff' && m.author) state.lastAuthor = m.author;
    if (!state.seen[m.id] && !state.open) els.badge.hidden = false;
    addMessage(m);
    if (m.role === 'staff' && state.handoff && state.handoff.status !== 'active') {
      updateHandoff({ status: 'active', reason: state.handoff.reason, author: m.author });
    } else if (m.role === 'staff') renderHandoff(state.handoff, true);
  }
  function stopStream() {
    clearTimeout(state.retryTimer);
    if (state.stream) { var c = state.stream; state.stream = null; c.abort(); }
    if (state.pollTimer) { clearInterval(state.pollTimer); state.pollTimer = null; }
    state.streamFails = 0;
  }
  // Without an event stream (older gateway): ask for the transcript now and then.
  function startPolling() {
    if (state.pollTimer) return;
    state.pollTimer = setInterval(resync, 10000);
  }
  function resync() {
    if (!state.id) return;
    api('GET', conv('/messages')).then(function (data) {
      (data.messages || []).forEach(function (m) {
        if (m.role !== 'citizen' && !state.seen[m.id]) {
          if (m.role === 'staff' && m.author) state.lastAuthor = m.author;
          addMessage(m);
        }
      });
      updateHandoff(data.handoff);
    }, function () { /* the next attempt will try again */ });
  }
  window.addEventListener('online', function () {
    if (state.handoff && OPEN_STATES[state.handoff.status] && !state.stream) {
      clearTimeout(state.retryTimer); state.streamFails = Math.max(state.streamFails, 1); startStream();
    }
    if (state.retryFn) setStatus('');
  });

  // ---- start -------------------------------------------------------------------------------------
  function init() {
    build();
    if (state.open) open(false);
    else if (state.id && state.token) {
      // A conversation from an earlier page in this tab: follow a handoff even while closed.
      start();
    }
    window.KarlstadChat = { open: function () { open(true); }, close: close, version: '1.0.0' };
  }
  window.KarlstadChat = { pending: true };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
