// Punchline page: warm the function up early, show its state honestly, fetch and show punchlines.
// All text from the visitor or the model is inserted with textContent, never as HTML.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("config").textContent);
  const base = config.functionUrl.replace(/\/+$/, "");
  const timeoutMs = config.requestTimeoutS * 1000;
  const LAST_COLD_KEY = "punchline.lastColdStartMs";

  const $ = (id) => document.getElementById(id);
  const state = $("state");
  const stateLabel = $("state-label");
  const stateDetail = $("state-detail");
  const progress = $("wake-progress");
  const form = $("form");
  const drop = $("drop");
  const callStatus = $("call-status");
  const errorBox = $("error");
  const errorText = $("error-text");
  const retry = $("retry");
  const result = $("result");
  const temperature = $("temperature");

  let warming = null; // the in-flight warm-up promise, if any
  let ticker = null;
  let lastAction = null;

  const seconds = (ms) => (ms / 1000).toFixed(1) + " s";

  function rememberedColdMs() {
    try {
      const value = Number(window.localStorage.getItem(LAST_COLD_KEY));
      return value > 0 ? value : null;
    } catch (e) {
      return null;
    }
  }

  function remember(ms) {
    try {
      window.localStorage.setItem(LAST_COLD_KEY, String(Math.round(ms)));
    } catch (e) {
      /* private mode: nothing to keep */
    }
  }

  // What to expect, from figures we measured: this browser's last cold start, else the benchmark.
  function expectation() {
    const last = rememberedColdMs();
    if (last) return { ms: last, text: "last time it took " + seconds(last) };
    if (config.bench) {
      const ms = config.bench.cold_start_s * 1000;
      return { ms: ms, text: "our benchmark measured " + seconds(ms) };
    }
    return null;
  }

  function setState(name, label, detail) {
    state.dataset.state = name;
    stateLabel.textContent = label;
    stateDetail.textContent = detail || "";
  }

  function startTicker(started, render) {
    stopTicker();
    const tick = () => render(performance.now() - started);
    tick();
    ticker = window.setInterval(tick, 100);
  }

  function stopTicker() {
    if (ticker !== null) window.clearInterval(ticker);
    ticker = null;
  }

  class CallError extends Error {
    constructor(message, retryAfterS) {
      super(message);
      this.retryAfterS = retryAfterS;
    }
  }

  // fetch with a timeout; resolves to the JSON body or throws a CallError with a friendly message.
  async function call(path, options) {
    const controller = new AbortController();
    const timer = window.setTimeout(() => controller.abort(), timeoutMs);
    let response;
    try {
      response = await fetch(base + path, Object.assign({ signal: controller.signal, headers: { Accept: "application/json" } }, options));
    } catch (e) {
      if (e.name === "AbortError") {
        throw new CallError("No answer after " + config.requestTimeoutS + " s. The function may be overloaded or still starting; please try again.");
      }
      throw new CallError("Can't reach the punchline function right now. It may be down, or your connection dropped. Please try again in a moment.");
    } finally {
      window.clearTimeout(timer);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    if (response.ok && body) return body;
    const retryAfter = Number(response.headers.get("Retry-After")) || null;
    if (response.status === 503) {
      throw new CallError("The model couldn't be loaded just now (its storage is unavailable). Try again" + (retryAfter ? " in " + retryAfter + " s." : "."), retryAfter);
    }
    if (response.status === 429) {
      throw new CallError("Too many punchlines at once. Take a breath and try again" + (retryAfter ? " in " + retryAfter + " s." : "."), retryAfter);
    }
    if (body && body.error) throw new CallError("The function said: " + body.error);
    throw new CallError("Something went wrong on the server (HTTP " + response.status + "). Please try again.");
  }

  function showError(message, action) {
    lastAction = action;
    errorText.textContent = message;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.hidden = true;
    errorText.textContent = "";
  }

  function markReady(cold, loadMs, elapsedMs) {
    progress.hidden = true;
    if (cold) {
      remember(elapsedMs);
      setState("ready", "Awake", "woke up in " + seconds(elapsedMs) + " (loading the model took " + seconds(loadMs) + ")");
    } else {
      setState("ready", "Awake", "it was already up");
    }
  }

  function warmUp() {
    if (warming) return warming;
    if (state.dataset.state === "ready") return Promise.resolve();
    const started = performance.now();
    const expected = expectation();
    progress.hidden = false;
    if (expected) progress.value = 0;
    else progress.removeAttribute("value"); // indeterminate: we have no measured figure yet
    startTicker(started, (elapsed) => {
      setState("waking", "Waking up…", seconds(elapsed) + (expected ? " — " + expected.text : ""));
      if (expected) progress.value = Math.min(0.95, elapsed / expected.ms);
    });
    warming = call("/warmup", { method: "POST" })
      .then((body) => {
        stopTicker();
        markReady(body.cold_start, body.load_ms || 0, performance.now() - started);
      })
      .catch((error) => {
        stopTicker();
        progress.hidden = true;
        setState("failed", "Not reachable", "");
        showError(error.message, warmUp);
        throw error;
      })
      .finally(() => {
        warming = null;
      });
    return warming;
  }

  function smallButton(label, ariaLabel, onClick) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "small";
    button.textContent = label;
    button.setAttribute("aria-label", ariaLabel);
    button.addEventListener("click", () => onClick(button));
    return button;
  }

  // ---- Links that bring back the exact line -------------------------------------------------------------
  // Same setup, seed, creativity, length and model version give the same lines, so a link carrying them
  // (in the query: readable, and under any browser's URL limit) brings the line back.
  const SEED_MAX = 4294967295;
  const MAX_PROMPT = 200;
  const HISTORY_KEY = "punchline.history";
  const HISTORY_MAX = 20;
  let current = null; // the answer on screen: {prompt, n, temperature, maxChars, seed, version, lines}

  function permalink(answer, index) {
    const query = new URLSearchParams();
    if (answer.prompt) query.set("s", answer.prompt);
    query.set("seed", String(answer.seed));
    query.set("t", answer.temperature.toFixed(1));
    query.set("m", String(answer.maxChars));
    query.set("n", String(answer.n));
    query.set("i", String(index));
    query.set("v", answer.version);
    return window.location.origin + "/?" + query.toString();
  }

  function shareMessage(prompt, line, link) {
    return (prompt ? "\u201c" + prompt + "\u201d\n" : "") + line + "\n" + link;
  }

  // null: no link in this address; {error}: a link that is broken or was changed; else the link's fields.
  function parseLink(search) {
    const query = new URLSearchParams(search);
    const known = ["s", "seed", "t", "m", "n", "i", "v"];
    if (![...query.keys()].some((key) => known.includes(key))) return null;
    const broken = { error: true };
    if ([...query.keys()].some((key) => !known.includes(key) || query.getAll(key).length > 1)) return broken;
    const text = (key) => query.get(key) || "";
    const prompt = text("s");
    const whole = (key, low, high) => {
      const value = text(key);
      if (!/^\d{1,10}$/.test(value)) return null;
      const number = Number(value);
      return number >= low && number <= high ? number : null;
    };
    const seed = whole("seed", 0, SEED_MAX);
    const n = whole("n", 1, 8);
    const index = whole("i", 0, 7);
    const maxChars = whole("m", 8, 200);
    const temperature = /^\d(\.\d)?$/.test(text("t")) ? Number(text("t")) : null;
    const version = /^[0-9a-f]{6,64}$/.test(text("v")) ? text("v") : null;
    if (prompt.length > MAX_PROMPT || seed === null || n === null || index === null || index >= n ||
        maxChars === null || temperature === null || temperature < 0.1 || temperature > 2 || version === null) {
      return broken;
    }
    return { prompt: prompt, seed: seed, n: n, index: index, maxChars: maxChars, temperature: temperature, version: version };
  }

  function readHistory() {
    try {
      const items = JSON.parse(window.localStorage.getItem(HISTORY_KEY) || "[]");
      const prefix = window.location.origin + "/?";
      return Array.isArray(items)
        ? items.filter((h) => h && typeof h.line === "string" && typeof h.link === "string" && h.link.startsWith(prefix))
        : [];
    } catch (e) {
      return [];
    }
  }

  function writeHistory(items) {
    try {
      window.localStorage.setItem(HISTORY_KEY, JSON.stringify(items.slice(0, HISTORY_MAX)));
    } catch (e) {
      /* private mode or full: the history is a nicety */
    }
  }

  function rememberLines(answer) {
    const added = answer.lines.map((line, i) => ({ setup: answer.prompt, line: line, link: permalink(answer, i) }));
    const links = new Set(added.map((h) => h.link));
    writeHistory(added.concat(readHistory().filter((h) => !links.has(h.link))));
    renderHistory();
  }

  function renderHistory() {
    const items = readHistory();
    const list = $("history-list");
    list.replaceChildren();
    for (const item of items) {
      const entry = document.createElement("li");
      const line = document.createElement("span");
      line.className = "line";
      line.textContent = item.line;
      const link = document.createElement("a");
      link.href = item.link;
      link.textContent = "link";
      link.setAttribute("aria-label", "Link to: " + item.line);
      entry.append(line, " ", link);
      list.append(entry);
    }
    $("history").hidden = items.length === 0;
  }

  function smallButtonFor(label, ariaLabel, done, onClick) {
    return smallButton(label, ariaLabel, async (button) => {
      try {
        await onClick();
        button.textContent = done;
      } catch (e) {
        button.textContent = label === "Share" ? "Not shared" : "Copy failed";
      }
      window.setTimeout(() => {
        button.textContent = label;
      }, 1500);
    });
  }

  function renderSetup(prompt) {
    $("setup").textContent = prompt ? prompt : "(no setup line)";
    result.hidden = false;
  }

  function renderPunchlines(answer, highlight) {
    renderSetup(answer.prompt);
    const list = $("lines");
    list.replaceChildren();
    answer.lines.forEach((line, i) => {
      const link = permalink(answer, i);
      const message = shareMessage(answer.prompt, line, link);
      const item = document.createElement("li");
      const text = document.createElement("span");
      text.className = "line";
      text.textContent = line || "…";
      item.append(text,
        smallButtonFor("Copy", "Copy this punchline and its link", "Copied", () => navigator.clipboard.writeText(message)),
        smallButtonFor("Link", "Copy a link to this punchline", "Link copied", () => navigator.clipboard.writeText(link)));
      if (navigator.share) {
        item.append(smallButtonFor("Share", "Share this punchline", "Shared", () => navigator.share({ text: message })));
      }
      if (i === highlight) {
        item.classList.add("shared");
        item.setAttribute("aria-current", "true");
      }
      list.append(item);
    });
    $("another").hidden = false;
  }

  // ask: {prompt, n, temperature, maxChars?, seed?}; link: the shared link being opened, if any.
  async function generate(ask, link) {
    clearError();
    ask = ask || { prompt: $("prompt").value.trim(), n: Number($("n").value), temperature: Number(temperature.value) };
    const params = new URLSearchParams({ n: String(ask.n), temperature: ask.temperature.toFixed(1) });
    if (ask.prompt) params.set("prompt", ask.prompt);
    if (ask.maxChars) params.set("max_chars", String(ask.maxChars));
    if (ask.seed !== undefined) params.set("seed", String(ask.seed));
    drop.disabled = true;
    $("another").disabled = true;
    $("results-title").parentElement.setAttribute("aria-busy", "true");
    const started = performance.now();
    if (warming) {
      try {
        await warming; // one wake-up at a time: wait for the one already under way
      } catch (e) {
        /* the punchline call below tries again */
      }
    }
    const wasReady = state.dataset.state === "ready";
    startTicker(started, (elapsed) => {
      callStatus.textContent = (wasReady ? "Writing… " : "Waking the model and writing… ") + seconds(elapsed);
    });
    try {
      const body = await call("/?" + params.toString(), { method: "GET" });
      stopTicker();
      const elapsed = performance.now() - started;
      current = { prompt: body.prompt, n: body.punchlines.length, temperature: body.temperature,
                  maxChars: body.max_chars, seed: body.seed, version: body.model.version, lines: body.punchlines };
      const sameModel = !link || link.version === current.version;
      renderPunchlines(current, link && sameModel ? link.index : -1);
      rememberLines(current);
      if (body.cold_start) {
        markReady(true, body.timings_ms.load, elapsed);
        callStatus.textContent = "Cold call: the model woke up for this one — " + seconds(elapsed) + " in all.";
      } else {
        if (state.dataset.state !== "ready") markReady(false, 0, elapsed);
        callStatus.textContent = "Warm call: " + Math.round(elapsed) + " ms — fast, the model was awake.";
      }
      const notice = $("link-notice");
      if (link && !sameModel) {
        notice.textContent = "That line came from an earlier model (version " + link.version + "). Today's model (version " +
          current.version + ") answers the same setup with these instead.";
        notice.hidden = false;
      } else if (link) {
        notice.textContent = "The shared punchline is highlighted below.";
        notice.hidden = false;
      } else {
        notice.hidden = true;
      }
    } catch (error) {
      stopTicker();
      callStatus.textContent = "";
      if (state.dataset.state !== "ready") setState("failed", "Not reachable", "");
      showError(error.message, () => generate(ask, link));
    } finally {
      drop.disabled = false;
      $("another").disabled = false;
      $("results-title").parentElement.setAttribute("aria-busy", "false");
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    generate();
  });
  $("another").addEventListener("click", () => {
    if (!current) return;
    generate({ prompt: current.prompt, n: current.n, temperature: current.temperature, maxChars: current.maxChars,
               seed: (current.seed + 1) % (SEED_MAX + 1) });
  });
  $("clear-history").addEventListener("click", () => {
    writeHistory([]);
    renderHistory();
  });
  retry.addEventListener("click", () => {
    clearError();
    const action = lastAction || generate;
    const outcome = action();
    if (outcome && outcome.catch) outcome.catch(() => {});
  });
  temperature.addEventListener("input", () => {
    $("temperature-value").textContent = Number(temperature.value).toFixed(1);
  });

  renderHistory();
  // Wake the model as soon as the page is up, so it is likely awake by the time a setup line is typed.
  warmUp().catch(() => {});

  // A shared link: show its setup at once, then ask for exactly those lines.
  const link = parseLink(window.location.search);
  if (link && link.error) {
    window.history.replaceState(null, "", "/");
    const notice = $("link-notice");
    notice.textContent = "That link is broken or was changed, so there is no punchline to bring back. Here is an empty form.";
    notice.hidden = false;
  } else if (link) {
    $("prompt").value = link.prompt;
    temperature.value = String(link.temperature);
    $("temperature-value").textContent = link.temperature.toFixed(1);
    if (![...$("n").options].some((o) => o.value === String(link.n))) $("n").append(new Option(String(link.n)));
    $("n").value = String(link.n);
    renderSetup(link.prompt);
    generate({ prompt: link.prompt, n: link.n, temperature: link.temperature, maxChars: link.maxChars, seed: link.seed }, link);
  }
})();
