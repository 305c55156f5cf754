/* www/app.js -- the chat page's behaviour, plain JavaScript, no build step.
 *
 * A question is sent to POST /api/chat (docs/http-api.md); the answer comes back as
 * server-sent events -- retrieval, delta..., done, or error -- read with fetch() and a stream
 * reader and parsed here (SseParser: WHATWG event-stream rules, input split anywhere). Later
 * questions carry the conversation_id; the conversation survives a reload (sessionStorage, read
 * back with GET /api/conversations/{id}). Each answer's references are listed under it and open
 * from their [n] in the text; an opened reference fetches its whole article (POST /api/search,
 * citation look-up) when the snippet was cut. GET /api/health says when the service is degraded.
 * A 401 asks for an API key, sent as "Authorization: Bearer KEY" and kept in sessionStorage.
 *
 * Server text only ever reaches the page as textContent, never as markup. Everything read from
 * the network is bounded (the LIMITS below) and checked before use. */
(function () {
    "use strict";

    var LIMITS = {
        questionChars: 2000,      /* the contract's 1..2000 characters */
        apiKeyChars: 256,
        sseLineChars: 1 << 20,    /* one SSE line (a data: line carries a whole event) */
        answerChars: 200000,      /* an answer as it accumulates */
        refs: 100,                /* references of one answer */
        refFieldChars: 2000,      /* doc_id, pasal, title... */
        refTextChars: 100000,     /* an article's text */
        errorBodyChars: 65536,    /* an error response read for its message */
        messages: 200,            /* messages of a conversation read back */
        idleMs: 150000            /* silence on a stream before giving up (server: 120 s) */
    };
    var KEY_STORE = "lexrag.apiKey";
    var CONV_STORE = "lexrag.conversationId";
    var UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    var KEY_RE = /^[\x21-\x7e]+$/; /* visible ASCII: a valid header value */
    var CITE_RE = /\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]/g;

    /* ---- the server-sent events parser ----------------------------------------------------- */

    /* feed(text) as it arrives (any split, even inside a CRLF); onEvent(name, data) per event;
     * onComment(text) per ":" line. A line longer than maxLine throws. */
    function SseParser(onEvent, onComment, maxLine) {
        this.onEvent = onEvent;
        this.onComment = onComment || function () {};
        this.maxLine = maxLine || LIMITS.sseLineChars;
        this.buf = "";
        this.afterCR = false; /* the last chunk ended with CR: a leading LF belongs to it */
        this.event = "";
        this.data = "";
        this.hasData = false;
    }
    SseParser.prototype.feed = function (text) {
        var s = text, start = 0, i, c;
        if (s === "")
            return;
        if (this.afterCR && s.charAt(0) === "\n")
            s = s.slice(1);
        this.afterCR = false;
        s = this.buf + s;
        for (i = 0; i < s.length; i++) {
            c = s.charAt(i);
            if (c !== "\n" && c !== "\r")
                continue;
            this.line(s.slice(start, i));
            if (c === "\r") {
                if (i + 1 < s.length) {
                    if (s.charAt(i + 1) === "\n")
                        i++;
                } else {
                    this.afterCR = true;
                }
            }
            start = i + 1;
        }
        this.buf = s.slice(start);
        if (this.buf.length > this.maxLine)
            throw new Error("an event-stream line is longer than " + this.maxLine + " characters");
    };
    SseParser.prototype.line = function (line) {
        var colon, field, value;
        if (line === "") { /* dispatch */
            if (this.hasData)
                this.onEvent(this.event || "message", this.data);
            this.event = "";
            this.data = "";
            this.hasData = false;
            return;
        }
        if (line.charAt(0) === ":") {
            this.onComment(line.slice(1).replace(/^ /, ""));
            return;
        }
        colon = line.indexOf(":");
        field = colon < 0 ? line : line.slice(0, colon);
        value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") {
            this.event = value;
        } else if (field === "data") {
            this.data = this.hasData ? this.data + "\n" + value : value;
            this.hasData = true;
            if (this.data.length > this.maxLine)
                throw new Error("an event is longer than " + this.maxLine + " characters");
        } /* id, retry and unknown fields: nothing to do for this client */
    };

    /* ---- small helpers ------------------------------------------------------------------- */

    function $(id) {
        return document.getElementById(id);
    }

    function el(tag, cls, text) {
        var e = document.createElement(tag);
        if (cls)
            e.className = cls;
        if (text !== undefined && text !== null)
            e.textContent = text;
        return e;
    }

    /* A string field of server JSON, bounded; "" when absent or not a string. */
    function str(v, max) {
        if (typeof v === "number" && isFinite(v))
            v = String(v);
        if (typeof v !== "string")
            return "";
        return v.length > max ? v.slice(0, max) + "…" : v;
    }

    function chars(s) {
        return Array.from(s).length; /* code points, as the service counts them */
    }

    function storeGet(k) {
        try {
            return window.sessionStorage.getItem(k);
        } catch (e) {
            return null;
        }
    }

    function storeSet(k, v) {
        try {
            if (v === null)
                window.sessionStorage.removeItem(k);
            else
                window.sessionStorage.setItem(k, v);
        } catch (e) { /* storage off: the page still works for this visit */ }
    }

    function validKey(k) {
        return typeof k === "string" && k.length >= 1 && k.length <= LIMITS.apiKeyChars &&
            KEY_RE.test(k);
    }

    /* ---- state ------------------------------------------------------------------------- */

    var state = {
        conversationId: null,
        apiKey: null,
        busy: false,
        controller: null, /* the running request's AbortController */
        turn: null,       /* ... and its turn */
        waitingForKey: null, /* a turn to run again once a key is given */
        turnSeq: 0
    };

    function setConversation(id) {
        state.conversationId = id;
        storeSet(CONV_STORE, id);
    }

    function headers(extra) {
        var h = extra || {};
        if (state.apiKey)
            h.Authorization = "Bearer " + state.apiKey;
        return h;
    }

    /* ---- errors as the user reads them --------------------------------------------------- */

    var CODE_TEXT = {
        invalid_argument: "Permintaan tidak valid",
        invalid_json: "Permintaan tidak valid",
        not_found: "Tidak ditemukan",
        payload_too_large: "Pertanyaan terlalu panjang",
        unauthorized: "Memerlukan kunci API",
        rate_limited: "Terlalu banyak permintaan",
        unavailable: "Layanan sedang tidak tersedia",
        timeout: "Layanan terlalu lama menjawab",
        internal: "Kesalahan pada layanan"
    };

    /* {status, code, message, retryAfter} from a response that is not ok: its JSON error body
     * when it has one (docs/http-api.md), else what the status says. */
    function readError(res) {
        var info = { status: res.status, code: "", message: "", retryAfter: "" };
        var ra = res.headers.get("Retry-After");
        if (ra && /^\d{1,6}$/.test(ra))
            info.retryAfter = ra;
        return res.text().then(function (body) {
            var j;
            if (body.length <= LIMITS.errorBodyChars) {
                try {
                    j = JSON.parse(body);
                } catch (e) {
                    j = null;
                }
            }
            if (j && typeof j === "object" && j.error && typeof j.error === "object") {
                info.code = str(j.error.code, 64);
                info.message = str(j.error.message, 500);
            }
            return info;
        }, function () {
            return info;
        });
    }

    function errorText(info) {
        var head = CODE_TEXT[info.code] || "";
        if (!head) {
            if (info.status === 502 || info.status === 503 || info.status === 504)
                head = "Layanan sedang tidak tersedia";
            else if (info.status >= 500)
                head = "Kesalahan pada layanan";
            else
                head = "Permintaan ditolak";
        }
        var s = head + " (HTTP " + info.status + (info.code ? " " + info.code : "") + ")";
        if (info.message)
            s += ": " + info.message;
        if (info.retryAfter)
            s += ". Coba lagi dalam " + info.retryAfter + " detik.";
        else if (info.status >= 500)
            s += ". Coba lagi sebentar lagi.";
        return s;
    }

    /* ---- the service's health ------------------------------------------------------------ */

    var CHECK_NAMES = {
        postgres: "basis data", redis: "cache", embedder: "embedding",
        generator: "model jawaban", index: "indeks pencarian", retrieval: "pencarian"
    };

    function showStatus(kind, text) {
        var b = $("service-status");
        if (!kind) {
            b.hidden = true;
            b.textContent = "";
            b.removeAttribute("data-state");
            return;
        }
        b.dataset.state = kind;
        b.textContent = text;
        b.hidden = false;
    }

    function checkHealth() {
        return fetch("/api/health", { headers: headers(), cache: "no-store" }).then(function (res) {
            if (res.status === 401) {
                if ($("key-form").hidden)
                    askForKey(state.apiKey ? "Kunci API ditolak. Masukkan kunci yang benar."
                              : "Layanan ini memerlukan kunci API.");
                return;
            }
            return res.text().then(function (body) {
                var j = null, st, down = [], k, c;
                if (body.length <= LIMITS.errorBodyChars) {
                    try {
                        j = JSON.parse(body);
                    } catch (e) { /* not JSON: the web server's own page */ }
                }
                st = j && typeof j.status === "string" ? j.status : "";
                if (res.ok && st === "ok") {
                    showStatus(null);
                    return;
                }
                if (res.ok && st === "degraded") {
                    if (j.checks && typeof j.checks === "object") {
                        for (k in j.checks) {
                            c = j.checks[k];
                            if (Object.prototype.hasOwnProperty.call(j.checks, k) && c &&
                                typeof c === "object" && c.status !== "ok" &&
                                c.status !== "disabled" && down.length < 10)
                                down.push((CHECK_NAMES[k] || str(k, 40)) + ": " +
                                          str(c.status, 40));
                        }
                    }
                    showStatus("degraded", "Layanan berjalan terbatas" +
                        (down.length ? " (" + down.join(", ") + ")" : "") +
                        ". Pertanyaan tetap dijawab, tetapi bisa lebih lambat atau kurang lengkap.");
                    return;
                }
                showStatus("down", "Layanan sedang tidak tersedia (HTTP " + res.status +
                    (st ? ", status " + str(st, 40) : "") + "). Coba lagi sebentar lagi.");
            });
        }, function () {
            showStatus("down", "Layanan tidak dapat dihubungi. Periksa koneksi jaringan.");
        });
    }

    /* ---- the API key ------------------------------------------------------------------- */

    function askForKey(message) {
        $("key-message").textContent = message;
        $("key-form").hidden = false;
        $("api-key").focus();
    }

    function onKeySubmit(ev) {
        ev.preventDefault();
        var k = $("api-key").value.trim();
        if (!validKey(k)) {
            $("key-message").textContent = "Kunci API harus 1 sampai " + LIMITS.apiKeyChars +
                " karakter ASCII tanpa spasi.";
            return;
        }
        state.apiKey = k;
        storeSet(KEY_STORE, k);
        $("api-key").value = "";
        $("key-form").hidden = true;
        var t = state.waitingForKey;
        state.waitingForKey = null;
        if (t && !state.busy)
            runTurn(t);
        else
            checkHealth();
    }

    /* ---- rendering a turn -------------------------------------------------------------- */

    /* A turn: the question, the answer as it grows, a note for errors, the references. */
    function newTurn(question) {
        var id = "t" + (++state.turnSeq);
        var t = {
            id: id, question: question, text: "", refs: [], refEls: {},
            root: el("article", "turn"), answer: el("div", "answer"),
            progress: el("p", "progress", "Mencari pasal yang relevan…"),
            note: el("p", "turn-note"), refsBox: el("section", "refs"), refList: el("ol")
        };
        var q = el("div", "question"), a = el("div", "reply");
        t.root.id = id;
        t.root.setAttribute("aria-label", "Pertanyaan dan jawaban");
        q.appendChild(el("span", "who", "Anda"));
        q.appendChild(el("p", "question-text", question));
        a.appendChild(el("span", "who", "lexrag"));
        t.answer.setAttribute("aria-live", "polite");
        a.appendChild(t.answer);
        t.progress.hidden = true;
        a.appendChild(t.progress);
        t.note.setAttribute("role", "alert");
        t.note.hidden = true;
        a.appendChild(t.note);
        t.refsBox.setAttribute("aria-label", "Rujukan");
        t.refsBox.appendChild(el("h3", null, "Rujukan"));
        t.refsBox.appendChild(t.refList);
        t.refsBox.hidden = true;
        a.appendChild(t.refsBox);
        t.root.appendChild(q);
        t.root.appendChild(a);
        $("turns").appendChild(t.root);
        $("empty-hint").hidden = true;
        return t;
    }

    function setTurnState(t, s) {
        t.root.dataset.state = s;
        t.answer.dataset.state = s;
        t.answer.setAttribute("aria-busy", s === "streaming" || s === "waiting" ? "true" : "false");
        t.progress.hidden = s !== "waiting";
    }

    function note(t, text, kind) {
        t.note.textContent = text;
        t.note.className = "turn-note " + (kind || "error");
        t.note.hidden = !text;
    }

    /* The answer text with its [n] as links to the references; server text as text nodes. */
    function renderAnswer(t) {
        var frag = document.createDocumentFragment(), last = 0, m, nums, i, n, a;
        var s = t.text;
        CITE_RE.lastIndex = 0;
        while ((m = CITE_RE.exec(s)) !== null) {
            nums = m[1].split(/\s*[,;]\s*/);
            if (!nums.every(function (x) { return t.refEls[+x]; }))
                continue;
            frag.appendChild(document.createTextNode(s.slice(last, m.index) + "["));
            for (i = 0; i < nums.length; i++) {
                n = +nums[i];
                if (i > 0)
                    frag.appendChild(document.createTextNode(", "));
                a = el("a", "cite", String(n));
                a.href = "#" + t.id + "-ref-" + n;
                a.dataset.ref = String(n);
                a.setAttribute("aria-label", "rujukan " + n);
                frag.appendChild(a);
            }
            frag.appendChild(document.createTextNode("]"));
            last = m.index + m[0].length;
        }
        frag.appendChild(document.createTextNode(s.slice(last)));
        t.answer.textContent = "";
        t.answer.appendChild(frag);
    }

    function refLabel(r) {
        var s = r.pasal ? "Pasal " + r.pasal : "";
        if (r.ayat)
            s += " ayat (" + r.ayat + ")";
        return s;
    }

    /* The references of an answer, from server JSON (checked field by field). */
    function readRefs(list) {
        var out = [], i, r;
        if (!Array.isArray(list))
            return out;
        for (i = 0; i < list.length && out.length < LIMITS.refs; i++) {
            r = list[i];
            if (!r || typeof r !== "object" || !Number.isInteger(r.n) || r.n < 1 ||
                r.n > LIMITS.refs)
                continue;
            out.push({
                n: r.n,
                chunkId: Number.isInteger(r.chunk_id) ? r.chunk_id : null,
                docId: str(r.doc_id, LIMITS.refFieldChars),
                pasal: str(r.pasal, LIMITS.refFieldChars),
                ayat: str(r.ayat, LIMITS.refFieldChars),
                title: str(r.title, LIMITS.refFieldChars),
                text: str(r.snippet !== undefined ? r.snippet : r.text, LIMITS.refTextChars)
            });
        }
        return out;
    }

    function renderRefs(t, refs) {
        t.refs = refs;
        t.refEls = {};
        t.refList.textContent = "";
        refs.forEach(function (r) {
            var li = el("li", "ref"), d = el("details"), s = el("summary");
            var body = el("div", "ref-body");
            li.id = t.id + "-ref-" + r.n;
            li.value = r.n;
            s.appendChild(el("span", "ref-n", "[" + r.n + "]"));
            s.appendChild(document.createTextNode(" "));
            s.appendChild(el("span", "ref-cite", refLabel(r)));
            if (r.docId) {
                s.appendChild(document.createTextNode(" · "));
                s.appendChild(el("span", "ref-doc", r.docId));
            }
            d.appendChild(s);
            if (r.title)
                body.appendChild(el("p", "ref-title", r.title));
            body.appendChild(el("p", "ref-text", r.text || "(teks tidak tersedia)"));
            d.appendChild(body);
            d.addEventListener("toggle", function () {
                if (d.open)
                    loadArticle(r, body);
            });
            li.appendChild(d);
            t.refList.appendChild(li);
            t.refEls[r.n] = li;
        });
        t.refsBox.hidden = refs.length === 0;
    }

    function openRef(li) {
        var d = li.querySelector("details");
        d.open = true;
        li.scrollIntoView({ block: "nearest" });
        d.querySelector("summary").focus();
    }

    /* The whole article behind a reference (the events carry a snippet): the citation
     * look-up of POST /api/search, kept only when it returns this very chunk. */
    function citationQuery(r) {
        var m = /^([A-Z]+)-([0-9A-Za-z]+)-(\d{4})$/.exec(r.docId);
        var doc = m ? m[1] + " " + m[2] + "/" + m[3] : r.docId;
        return "Pasal " + r.pasal + (r.ayat ? " ayat (" + r.ayat + ")" : "") + " " + doc;
    }

    function loadArticle(r, body) {
        if (r.full || r.loading || r.chunkId === null || !r.pasal || !r.docId)
            return;
        r.loading = true;
        body.classList.add("loading");
        fetch("/api/search", {
            method: "POST",
            headers: headers({ "Content-Type": "application/json" }),
            body: JSON.stringify({
                query: citationQuery(r).slice(0, LIMITS.questionChars), top_k: 20,
                filters: { doc_id: r.docId }
            })
        }).then(function (res) {
            return res.ok ? res.json() : null;
        }).then(function (j) {
            var hit = j && Array.isArray(j.results) ? j.results.filter(function (x) {
                return x && x.chunk_id === r.chunkId && typeof x.text === "string";
            })[0] : null;
            if (hit) {
                r.full = true;
                r.text = str(hit.text, LIMITS.refTextChars);
                body.querySelector(".ref-text").textContent = r.text;
                body.dataset.full = "true";
            }
        }).catch(function () { /* the snippet stays */ }).then(function () {
            r.loading = false;
            body.classList.remove("loading");
        });
    }

    /* ---- asking ------------------------------------------------------------------------ */

    function setBusy(b) {
        state.busy = b;
        $("send").disabled = b;
        $("stop").hidden = !b;
        $("new-conversation").disabled = b;
    }

    function onEvent(t, name, data) {
        var j;
        try {
            j = JSON.parse(data);
        } catch (e) {
            throw new Error("the service sent an event that is not JSON");
        }
        if (!j || typeof j !== "object")
            throw new Error("the service sent an event that is not an object");
        if (name === "retrieval") {
            if (typeof j.conversation_id === "string" && UUID_RE.test(j.conversation_id))
                setConversation(j.conversation_id);
            renderRefs(t, readRefs(j.references));
            if (Array.isArray(j.degraded) && j.degraded.length > 0)
                note(t, "Sebagian pencarian tidak tersedia (" +
                     j.degraded.slice(0, 5).map(function (x) { return str(x, 40); }).join(", ") +
                     "): jawaban bisa kurang lengkap.", "warning");
            setTurnState(t, "streaming");
        } else if (name === "delta") {
            if (typeof j.content !== "string")
                return;
            if (t.text.length + j.content.length > LIMITS.answerChars)
                throw new Error("the answer is longer than " + LIMITS.answerChars + " characters");
            t.text += j.content;
            renderAnswer(t);
        } else if (name === "done") {
            if (typeof j.conversation_id === "string" && UUID_RE.test(j.conversation_id))
                setConversation(j.conversation_id);
            if (typeof j.answer === "string")
                t.text = str(j.answer, LIMITS.answerChars);
            if (Array.isArray(j.references) && t.refs.length === 0)
                renderRefs(t, readRefs(j.references));
            renderAnswer(t);
            t.done = true;
            setTurnState(t, "done");
        } else if (name === "error") {
            var e = j.error && typeof j.error === "object" ? j.error : {};
            t.failed = true;
            setTurnState(t, "error");
            note(t, (CODE_TEXT[str(e.code, 64)] || "Jawaban terhenti karena kesalahan") +
                 (e.message ? ": " + str(e.message, 500) : "") +
                 (t.text ? " (jawaban di atas tidak lengkap)" : "") + ".");
        }
    }

    /* Read the event stream of a response into turn t; resolves when it ends. */
    function readStream(t, res, controller) {
        var reader = res.body.getReader(), dec = new TextDecoder("utf-8");
        var timer = null;
        var parser = new SseParser(function (name, data) {
            if (!t.done && !t.failed)
                onEvent(t, name, data);
        });
        function arm() {
            clearTimeout(timer);
            timer = setTimeout(function () {
                t.idle = true;
                controller.abort();
            }, LIMITS.idleMs);
        }
        function pump() {
            return reader.read().then(function (r) {
                if (r.done) { /* an event cut short by the end is dropped (WHATWG) */
                    parser.feed(dec.decode());
                    return;
                }
                arm();
                parser.feed(dec.decode(r.value, { stream: true }));
                return pump();
            });
        }
        arm();
        return pump().then(function () {
            clearTimeout(timer);
        }, function (e) {
            clearTimeout(timer);
            reader.cancel().catch(function () {});
            throw e;
        });
    }

    function runTurn(t) {
        var body = { question: t.question, stream: true };
        var controller = new AbortController();
        if (state.conversationId)
            body.conversation_id = state.conversationId;
        t.text = "";
        t.done = t.failed = t.idle = t.stopped = false;
        renderAnswer(t);
        renderRefs(t, []);
        note(t, "");
        setTurnState(t, "waiting");
        setBusy(true);
        state.controller = controller;
        state.turn = t;
        return fetch("/api/chat", {
            method: "POST",
            headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
            body: JSON.stringify(body),
            signal: controller.signal,
            cache: "no-store"
        }).then(function (res) {
            if (!res.ok) {
                return readError(res).then(function (info) {
                    t.failed = true;
                    setTurnState(t, "error");
                    if (info.status === 401) {
                        if (state.apiKey) {
                            state.apiKey = null;
                            storeSet(KEY_STORE, null);
                        }
                        state.waitingForKey = t;
                        note(t, "Layanan ini memerlukan kunci API: masukkan kunci di bawah, " +
                             "lalu pertanyaan ini dikirim lagi.");
                        askForKey("Kunci API diperlukan atau ditolak" +
                                  (info.message ? ": " + info.message : "") + ".");
                        return;
                    }
                    if (info.status === 404 && body.conversation_id) {
                        setConversation(null);
                        note(t, "Percakapan sebelumnya tidak ditemukan lagi di layanan. " +
                             "Kirim pertanyaan ini lagi untuk memulai percakapan baru.");
                        return;
                    }
                    note(t, errorText(info));
                });
            }
            var ct = res.headers.get("Content-Type") || "";
            if (ct.indexOf("text/event-stream") !== 0 || !res.body)
                throw new Error("the service answered with " + (ct || "no content type") +
                                ", not an event stream");
            return readStream(t, res, controller).then(function () {
                if (!t.done && !t.failed) {
                    t.failed = true;
                    setTurnState(t, "error");
                    note(t, "Jawaban terputus sebelum selesai" +
                         (t.text ? " (jawaban di atas tidak lengkap)" : "") + ". Coba lagi.");
                }
            });
        }).catch(function (e) {
            if (t.done || (t.failed && !t.idle))
                return;
            t.failed = true;
            if (controller.signal.aborted && t.stopped) {
                setTurnState(t, "stopped");
                note(t, "Dihentikan" + (t.text ? " (jawaban di atas tidak lengkap)" : "") + ".",
                     "warning");
                return;
            }
            setTurnState(t, "error");
            if (t.idle)
                note(t, "Layanan tidak mengirim apa pun selama " + LIMITS.idleMs / 1000 +
                     " detik; permintaan dihentikan. Coba lagi.");
            else if (e instanceof TypeError)
                note(t, "Tidak dapat menghubungi layanan (jaringan terputus atau layanan " +
                     "mati). Coba lagi sebentar lagi.");
            else
                note(t, "Kesalahan saat membaca jawaban: " + str(e && e.message, 300) + ".");
        }).then(function () {
            if (state.controller === controller) {
                state.controller = null;
                state.turn = null;
            }
            setBusy(false);
            if (t.failed)
                checkHealth();
            $("question").focus();
        });
    }

    function ask(question) {
        var t = newTurn(question);
        t.root.scrollIntoView({ block: "start" });
        return runTurn(t);
    }

    function questionError(text) {
        var e = $("question-error");
        e.textContent = text;
        e.hidden = !text;
        $("question").setAttribute("aria-invalid", text ? "true" : "false");
    }

    function onAskSubmit(ev) {
        ev.preventDefault();
        if (state.busy)
            return;
        var q = $("question").value.trim(), n = chars(q);
        if (n < 1) {
            questionError("Tulis pertanyaan terlebih dahulu.");
            return;
        }
        if (n > LIMITS.questionChars) {
            questionError("Pertanyaan terlalu panjang: " + n + " karakter, paling banyak " +
                          LIMITS.questionChars + ".");
            return;
        }
        questionError("");
        $("question").value = "";
        ask(q);
    }

    function onQuestionKey(ev) {
        if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
            ev.preventDefault();
            $("ask-form").requestSubmit();
        }
    }

    function onStop() {
        if (!state.controller)
            return;
        state.turn.stopped = true;
        state.controller.abort();
    }

    /* ---- a conversation read back ------------------------------------------------------- */

    function restore(id) {
        return fetch("/api/conversations/" + encodeURIComponent(id), {
            headers: headers(), cache: "no-store"
        }).then(function (res) {
            if (res.status === 404) {
                setConversation(null);
                return;
            }
            if (!res.ok)
                return; /* kept: it may come back */
            return res.json().then(function (j) {
                var msgs = j && Array.isArray(j.messages) ? j.messages : [];
                var i, m, t = null;
                msgs = msgs.slice(-LIMITS.messages);
                for (i = 0; i < msgs.length; i++) {
                    m = msgs[i];
                    if (!m || typeof m !== "object" || typeof m.content !== "string")
                        continue;
                    if (m.role === "user") {
                        t = newTurn(str(m.content, LIMITS.questionChars));
                        setTurnState(t, "waiting");
                    } else if (m.role === "assistant" && t) {
                        renderRefs(t, readRefs(m.references));
                        t.text = str(m.content, LIMITS.answerChars);
                        renderAnswer(t);
                        t.done = true;
                        setTurnState(t, "done");
                        if (m.status === "interrupted" || m.status === "failed")
                            note(t, "Jawaban ini terputus sebelum selesai.", "warning");
                        t = null;
                    }
                }
                if (t) { /* a question whose answer is not stored (yet) */
                    setTurnState(t, "error");
                    note(t, "Jawaban untuk pertanyaan ini tidak tersimpan.", "warning");
                }
            });
        }).catch(function () { /* nothing shown: the next question still continues it */ });
    }

    function onNewConversation() {
        if (state.busy)
            return;
        setConversation(null);
        $("turns").textContent = "";
        $("empty-hint").hidden = false;
        $("question").focus();
    }

    /* ---- start ------------------------------------------------------------------------- */

    function start() {
        var k = storeGet(KEY_STORE), c = storeGet(CONV_STORE);
        state.apiKey = validKey(k) ? k : null;
        state.conversationId = c && UUID_RE.test(c) ? c : null;
        $("ask-form").addEventListener("submit", onAskSubmit);
        $("question").addEventListener("keydown", onQuestionKey);
        $("key-form").addEventListener("submit", onKeySubmit);
        $("stop").addEventListener("click", onStop);
        $("new-conversation").addEventListener("click", onNewConversation);
        $("turns").addEventListener("click", function (ev) {
            var a = ev.target.closest ? ev.target.closest("a.cite") : null, li;
            if (!a)
                return;
            li = document.getElementById(a.getAttribute("href").slice(1));
            if (li) {
                ev.preventDefault();
                openRef(li);
            }
        });
        checkHealth();
        (state.conversationId ? restore(state.conversationId) : Promise.resolve())
            .then(function () {
                document.body.dataset.ready = "true";
            });
        $("question").focus();
    }

    window.lexrag = { SseParser: SseParser, LIMITS: LIMITS };
    if (document.readyState === "loading")
        document.addEventListener("DOMContentLoaded", start);
    else
        start();
})();
