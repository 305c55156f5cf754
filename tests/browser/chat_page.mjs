// tests/browser/chat_page.mjs -- the chat page (www/) in headless Chromium, driven by
// playwright-core, against a running lexrag behind one web server.
//   node chat_page.mjs chat BASE_URL SCREENSHOT   page, SSE parser, a streamed answer growing
//                                                 before done, references, a second turn, the
//                                                 conversation after a reload, 401 -> API key,
//                                                 HTTP and mid-stream errors
//   node chat_page.mjs degraded BASE_URL SHOT     the service degraded (Redis stopped): the page
//                                                 says so and still answers
//   node chat_page.mjs down BASE_URL SHOT         the workers stopped: a clear error message
// Prints one line per check, "ok<TAB>what" or "not ok<TAB>what<TAB>detail", "#" lines as
// diagnostics, and "end" when it ran to the end; tests/web/test_browser.sh turns them into TAP.
// Exits non-zero when a check failed or a step could not run.
import { chromium } from "playwright-core";

const [mode, base, shot] = process.argv.slice(2);
const WAIT_MS = 60000; // generous: the workers may run under ASan on a busy machine
let failed = 0;

function check(what, cond, detail) {
    if (cond) {
        console.log(`ok\t${what}`);
    } else {
        failed++;
        const d = detail === undefined ? "" : typeof detail === "string" ? detail : JSON.stringify(detail);
        console.log(`not ok\t${what}\t${d.replace(/\s+/g, " ").slice(0, 400)}`);
    }
}
const diag = (s) => console.log(`# ${s}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The last turn: its state, answer text, note, references.
const lastTurn = (page) => page.evaluate(() => {
    const t = document.querySelector("#turns > .turn:last-child");
    if (!t) return null;
    const a = t.querySelector(".answer"), n = t.querySelector(".turn-note");
    return {
        state: a.dataset.state || "", text: a.textContent, busy: a.getAttribute("aria-busy"),
        live: a.getAttribute("aria-live"), note: n.hidden ? "" : n.textContent,
        refs: [...t.querySelectorAll(".refs li")].map((li) => li.querySelector("summary").textContent),
    };
});

// Until the last turn leaves "waiting" and "streaming"; the answer's length sampled meanwhile.
async function waitTurn(page) {
    const lens = [];
    const t0 = Date.now();
    for (;;) {
        const t = await lastTurn(page);
        if (t && t.state === "streaming" && t.text.length > 0 && lens[lens.length - 1] !== t.text.length)
            lens.push(t.text.length);
        if (t && t.state !== "waiting" && t.state !== "streaming")
            return { turn: t, lens };
        if (Date.now() - t0 > WAIT_MS)
            return { turn: t, lens, timeout: true };
        await sleep(10);
    }
}

async function ask(page, question, how) {
    await page.fill("#question", question);
    if (how === "click") await page.click("#send");
    else await page.press("#question", "Enter");
    return waitTurn(page);
}

// The SSE parser of app.js, fed a stream cut at every byte (UTF-8 split too) and one byte at a
// time: the same events every time.
async function parserChecks(page) {
    const r = await page.evaluate(() => {
        const stream = ": ping\r\n\r\nevent: retrieval\r\ndata: {\"a\":1}\r\n\r\n" +
            "event: delta\rdata: {\"content\":\"Pasal 7 ayat (1) — “kutipan” é\"}\r\r" +
            "data: line1\ndata: line2\nid: 7\nretry: 10\n\n" +
            "event: done\ndata:{\"x\":\"\\u00e9\"}\n\n:comment\n\nevent: ignored\n\n" +
            "event: error\ndata: {\"error\":{\"code\":\"timeout\",\"message\":\"m\"}}\n\n";
        const bytes = new TextEncoder().encode(stream);
        const run = (cuts) => {
            const out = [];
            const p = new window.lexrag.SseParser((e, d) => out.push([e, d]), (c) => out.push(["#", c]));
            const dec = new TextDecoder("utf-8");
            let at = 0;
            for (const c of [...cuts, bytes.length]) {
                p.feed(dec.decode(bytes.subarray(at, c), { stream: true }));
                at = c;
            }
            p.feed(dec.decode());
            return JSON.stringify(out);
        };
        const want = run([]);
        const bad = [];
        for (let i = 0; i <= bytes.length; i++) {
            if (run([i]) !== want) bad.push(i);
            if (run([i, i]) !== want) bad.push(`${i}+empty`);
        }
        const one = run([...Array(bytes.length).keys()].slice(1));
        let long = "";
        try {
            new window.lexrag.SseParser(() => {}, null, 100).feed("data: " + "x".repeat(200));
        } catch (e) {
            long = "threw";
        }
        return { want: JSON.parse(want), bad, one: one === want, long };
    });
    check("SSE parser: events, comments, CRLF/CR/LF, multi-line data",
        JSON.stringify(r.want) === JSON.stringify([
            ["#", "ping"], ["retrieval", "{\"a\":1}"],
            ["delta", "{\"content\":\"Pasal 7 ayat (1) — “kutipan” é\"}"],
            ["message", "line1\nline2"], ["done", "{\"x\":\"\\u00e9\"}"], ["#", "comment"],
            ["error", "{\"error\":{\"code\":\"timeout\",\"message\":\"m\"}}"]]), r.want);
    check("SSE parser: the same events with the stream cut at every byte", r.bad.length === 0, r.bad);
    check("SSE parser: the same events fed one byte at a time", r.one);
    check("SSE parser: a line over its limit is refused", r.long === "threw");
}

async function chatMode(page) {
    const chatBodies = [];
    page.on("request", (req) => {
        if (req.url().endsWith("/api/chat") && req.method() === "POST")
            chatBodies.push(JSON.parse(req.postData() || "{}"));
    });
    await page.goto(base + "/", { waitUntil: "load" });
    await page.waitForSelector("body[data-ready=true]", { timeout: WAIT_MS });
    check("the page loads: title, question box with its label",
        /lexrag/.test(await page.title()) &&
        (await page.isVisible("#question")) &&
        (await page.textContent("label[for=question]")).trim() === "Pertanyaan");
    check("the service is not reported degraded", await page.isHidden("#service-status"),
        await page.textContent("#service-status"));
    await parserChecks(page);

    // First question, submitted with Enter: the answer must grow while it streams.
    const q1 = "Berapa lama izin pengambilan air berlaku?";
    const r1 = await ask(page, q1, "enter");
    const t1 = r1.turn;
    diag(`answer lengths seen while streaming: ${r1.lens.join(" ")}`);
    check("the first answer ends with done", t1 && t1.state === "done" && !r1.timeout, t1);
    check(`the answer grows while it streams (${r1.lens.length} distinct lengths before done)`,
        r1.lens.length >= 2 && r1.lens.every((n, i) => i === 0 || n > r1.lens[i - 1]) &&
        t1.text.length >= r1.lens[r1.lens.length - 1], r1.lens);
    check("the answer cites [1] and is announced politely (aria-live, not busy at the end)",
        /\[1\]/.test(t1.text) && t1.live === "polite" && t1.busy === "false", t1);
    check("the references are listed, numbered [1].. with their Pasal",
        t1.refs.length >= 1 && t1.refs.every((s, i) => s.startsWith(`[${i + 1}]`) && /Pasal/.test(s)),
        t1.refs);
    const cid1 = await page.evaluate(() => sessionStorage.getItem("lexrag.conversationId"));
    check("the conversation id is kept (sessionStorage)", /^[0-9a-f-]{36}$/.test(cid1 || ""), cid1);
    check("the first request starts a conversation", chatBodies.length === 1 &&
        chatBodies[0].question === q1 && chatBodies[0].conversation_id === undefined, chatBodies);

    // [1] in the answer opens reference 1: its article text, the whole article once loaded.
    const ref1 = "#turns > .turn:last-child .refs li:nth-child(1)";
    check("reference 1 is closed at first", !(await page.$eval(`${ref1} details`, (d) => d.open)));
    await page.click("#turns > .turn:last-child .answer a.cite[data-ref='1']");
    await page.waitForSelector(`${ref1} .ref-body[data-full=true]`, { timeout: WAIT_MS });
    const art = await page.$eval(ref1, (li) => ({
        open: li.querySelector("details").open,
        visible: li.querySelector(".ref-text").getClientRects().length > 0,
        text: li.querySelector(".ref-text").textContent,
        title: li.querySelector(".ref-title") ? li.querySelector(".ref-title").textContent : "",
    }));
    diag(`reference 1: ${art.title} -- ${art.text.slice(0, 80)}...`);
    check("clicking [1] in the answer opens reference 1 with its document and article text",
        art.open && art.visible && art.text.length > 40 && art.title.length > 0, art);
    check("... focus moves to it", await page.evaluate(() =>
        document.activeElement && document.activeElement.closest(".refs li:nth-child(1)") !== null));
    if (t1.refs.length >= 2) {
        const ref2 = "#turns > .turn:last-child .refs li:nth-child(2)";
        await page.click(`${ref2} summary`);
        check("clicking reference 2 opens it too",
            await page.$eval(ref2, (li) => li.querySelector("details").open &&
                li.querySelector(".ref-text").textContent.length > 0));
    }

    // A second turn continues the conversation; the first stays on the page.
    const q2 = "Berapa iuran pelestarian yang harus dibayar?";
    const r2 = await ask(page, q2, "click");
    check("the second answer ends with done", r2.turn && r2.turn.state === "done", r2.turn);
    check("the second request carries the conversation_id", chatBodies.length === 2 &&
        chatBodies[1].conversation_id === cid1, chatBodies);
    const turns = await page.$$eval("#turns > .turn", (ts) => ts.map((t) => ({
        q: t.querySelector(".question-text").textContent,
        a: t.querySelector(".answer").textContent.length, state: t.dataset.state })));
    check("the earlier turn is still shown above the new one", turns.length === 2 &&
        turns[0].q === q1 && turns[0].a > 0 && turns[0].state === "done" && turns[1].q === q2, turns);
    check("the conversation id stays the same",
        (await page.evaluate(() => sessionStorage.getItem("lexrag.conversationId"))) === cid1);
    await page.screenshot({ path: shot, fullPage: true });
    diag(`screenshot: ${shot}`);

    // A reload shows the conversation again (read back from the service).
    for (let i = 0; i < 100; i++) {
        const n = await page.evaluate(async (u) => {
            const r = await fetch(u);
            return r.ok ? (await r.json()).messages.length : -1;
        }, `${base}/api/conversations/${cid1}`);
        if (n >= 4) break;
        await sleep(100);
    }
    await page.reload({ waitUntil: "load" });
    await page.waitForSelector("body[data-ready=true]", { timeout: WAIT_MS });
    const back = await page.$$eval("#turns > .turn", (ts) => ts.map((t) => ({
        q: t.querySelector(".question-text").textContent, state: t.dataset.state,
        a: t.querySelector(".answer").textContent.length,
        refs: t.querySelectorAll(".refs li").length })));
    check("after a reload the conversation is shown again, with its references",
        back.length === 2 && back[0].q === q1 && back[1].q === q2 &&
        back.every((t) => t.state === "done" && t.a > 0 && t.refs > 0), back);

    // 401: the page asks for a key, then sends the question again with it.
    let authSeen = null, n401 = 0;
    await page.route("**/api/chat", async (route) => {
        if (n401++ === 0)
            return route.fulfill({ status: 401, contentType: "application/json",
                body: JSON.stringify({ error: { code: "unauthorized", message: "an API key is required" } }) });
        authSeen = route.request().headers()["authorization"] || "";
        return route.continue();
    });
    await page.fill("#question", "apa yang dimaksud dengan pasar terapung?");
    await page.press("#question", "Enter");
    await page.waitForSelector("#key-form:not([hidden])", { timeout: WAIT_MS });
    const t401 = await lastTurn(page);
    check("401: the key form appears and the turn says a key is needed",
        t401.state === "error" && /kunci API/.test(t401.note) &&
        (await page.isVisible("#api-key")) && (await page.textContent("label[for=api-key]")) === "Kunci API",
        t401);
    await page.fill("#api-key", "kunci-uji-123");
    await page.press("#api-key", "Enter");
    const r401 = await waitTurn(page);
    check("... with the key, the question is sent again with Authorization: Bearer KEY and answered",
        authSeen === "Bearer kunci-uji-123" && r401.turn.state === "done" && r401.turn.note === "" &&
        (await page.isHidden("#key-form")), { authSeen, turn: r401.turn });
    check("... the key is kept for this tab (sessionStorage)",
        (await page.evaluate(() => sessionStorage.getItem("lexrag.apiKey"))) === "kunci-uji-123");
    await page.unroute("**/api/chat");

    // An HTTP error with the contract's JSON body, and Retry-After.
    await page.route("**/api/chat", (route) => route.fulfill({
        status: 429, contentType: "application/json", headers: { "Retry-After": "7" },
        body: JSON.stringify({ error: { code: "rate_limited", message: "slow down" } }) }));
    const r429 = await ask(page, "pertanyaan yang ditolak", "enter");
    check("an HTTP error shows its code, message and Retry-After",
        r429.turn.state === "error" && /Terlalu banyak permintaan/.test(r429.turn.note) &&
        /rate_limited/.test(r429.turn.note) && /slow down/.test(r429.turn.note) && /7 detik/.test(r429.turn.note),
        r429.turn);
    await page.unroute("**/api/chat");

    // An error event after the stream started: the partial answer stays, the error is shown.
    const refs = [{ n: 1, chunk_id: 1, doc_id: "UU-1-2000", pasal: "1", ayat: null, title: "T", snippet: "S" }];
    await page.route("**/api/chat", (route) => route.fulfill({
        status: 200, contentType: "text/event-stream; charset=utf-8",
        body: ": ping\n\nevent: retrieval\ndata: " +
            JSON.stringify({ conversation_id: cid1, message_id: "00000000-0000-4000-8000-000000000001", references: refs }) +
            "\n\nevent: delta\ndata: {\"content\":\"Jawaban sebagian [1] <b>x</b>\"}\n\n" +
            "event: error\ndata: {\"error\":{\"code\":\"unavailable\",\"message\":\"the chat model failed\"}}\n\n" }));
    const rerr = await ask(page, "pertanyaan yang terputus", "enter");
    check("an error event mid-stream: the partial answer stays and the error is shown",
        rerr.turn.state === "error" && rerr.turn.text === "Jawaban sebagian [1] <b>x</b>" &&
        /the chat model failed/.test(rerr.turn.note) && /tidak lengkap/.test(rerr.turn.note), rerr.turn);
    check("... server text is never markup",
        (await page.$$eval("#turns > .turn:last-child .answer b", (b) => b.length)) === 0);
    await page.unroute("**/api/chat");
}

async function degradedMode(page) {
    await page.goto(base + "/", { waitUntil: "load" });
    let st = { hidden: true, state: "", text: "" };
    for (let i = 0; i < 60; i++) { // the workers notice Redis gone within moments
        await page.waitForSelector("body[data-ready=true]", { timeout: WAIT_MS });
        await sleep(200);
        st = await page.$eval("#service-status", (b) => ({ hidden: b.hidden, state: b.dataset.state || "", text: b.textContent }));
        if (!st.hidden) break;
        await page.reload({ waitUntil: "load" });
    }
    diag(`status banner: ${st.text}`);
    check("degraded: the page says the service runs degraded and names what is down",
        !st.hidden && st.state === "degraded" && /terbatas/.test(st.text) && /cache: down/.test(st.text), st);
    check("... the banner is a status region", (await page.getAttribute("#service-status", "role")) === "status");
    const r = await ask(page, "Berapa lama izin pengambilan air berlaku?", "enter");
    check("... and a question is still answered", r.turn.state === "done" && r.turn.text.length > 0, r.turn);
    await page.screenshot({ path: shot, fullPage: true });
    diag(`screenshot: ${shot}`);
}

async function downMode(page) {
    await page.goto(base + "/", { waitUntil: "load" });
    await page.waitForSelector("body[data-ready=true]", { timeout: WAIT_MS });
    const r = await ask(page, "Berapa lama izin pengambilan air berlaku?", "enter");
    diag(`error shown: ${r.turn && r.turn.note}`);
    check("workers stopped: the question ends with a clear error message",
        r.turn && r.turn.state === "error" && /tidak tersedia|tidak dapat menghubungi/i.test(r.turn.note) &&
        /HTTP 5\d\d/.test(r.turn.note), r.turn);
    const st = await page.$eval("#service-status", (b) => ({ hidden: b.hidden, state: b.dataset.state || "", text: b.textContent }));
    check("... and the status banner says the service is unavailable",
        !st.hidden && st.state === "down" && /tidak tersedia/.test(st.text), st);
    check("... the question box is usable again", !(await page.isDisabled("#send")) && (await page.isHidden("#stop")));
    await page.screenshot({ path: shot, fullPage: true });
    diag(`screenshot: ${shot}`);
}

let browser = null;
try {
    if (!["chat", "degraded", "down"].includes(mode) || !/^https?:\/\//.test(base || "") || !shot)
        throw new Error("usage: node chat_page.mjs chat|degraded|down BASE_URL SCREENSHOT.png");
    browser = await chromium.launch({
        executablePath: process.env.LX_CHROMIUM || "/usr/bin/chromium",
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
        timeout: WAIT_MS,
    });
    diag(`browser: Chromium ${browser.version()}`);
    const ctx = await browser.newContext({ viewport: { width: 1000, height: 900 }, locale: "id-ID" });
    ctx.setDefaultTimeout(WAIT_MS);
    const page = await ctx.newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
        // A failed request (the error cases) is logged by the browser itself; anything else is ours.
        if (m.type() === "error" && !/Failed to load resource/.test(m.text()))
            problems.push(`console: ${m.text()}`);
    });
    if (mode === "chat") await chatMode(page);
    else if (mode === "degraded") await degradedMode(page);
    else await downMode(page);
    check("no script errors or policy violations on the page", problems.length === 0, problems);
} catch (e) {
    check(`the ${mode} steps run to the end`, false, e && e.stack ? e.stack : String(e));
} finally {
    if (browser) await browser.close().catch(() => {});
}
console.log("end");
process.exit(failed ? 1 : 0);
