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

  function renderPunchlines(prompt, lines) {
    const setup = $("setup");
    const list = $("lines");
    setup.textContent = prompt ? prompt : "(no setup line)";
    list.replaceChildren();
    for (const line of lines) {
      const item = document.createElement("li");
      const text = document.createElement("span");
      text.className = "line";
      text.textContent = line || "…";
      item.append(text, smallButton("Copy", "Copy this punchline", (b) => share(prompt, line, b, false)));
      if (navigator.share) {
        item.append(smallButton("Share", "Share this punchline", (b) => share(prompt, line, b, true)));
      }
      list.append(item);
    }
    result.hidden = false;
  }

  async function share(prompt, line, button, useShareSheet) {
    const text = (prompt ? prompt + "\n" : "") + line;
    try {
      if (useShareSheet) {
        await navigator.share({ text: text });
        return;
      }
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch (e) {
      button.textContent = useShareSheet ? "Not shared" : "Copy failed";
    }
    window.setTimeout(() => {
      button.textContent = useShareSheet ? "Share" : "Copy";
    }, 1500);
  }

  async function generate() {
    clearError();
    const prompt = $("prompt").value.trim();
    const params = new URLSearchParams({ n: $("n").value, temperature: temperature.value });
    if (prompt) params.set("prompt", prompt);
    drop.disabled = true;
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
      renderPunchlines(prompt, body.punchlines);
      if (body.cold_start) {
        markReady(true, body.timings_ms.load, elapsed);
        callStatus.textContent = "Cold call: the model woke up for this one — " + seconds(elapsed) + " in all.";
      } else {
        if (state.dataset.state !== "ready") markReady(false, 0, elapsed);
        callStatus.textContent = "Warm call: " + Math.round(elapsed) + " ms — fast, the model was awake.";
      }
    } catch (error) {
      stopTicker();
      callStatus.textContent = "";
      if (state.dataset.state !== "ready") setState("failed", "Not reachable", "");
      showError(error.message, generate);
    } finally {
      drop.disabled = false;
      $("results-title").parentElement.setAttribute("aria-busy", "false");
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    generate();
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

  // Wake the model as soon as the page is up, so it is likely awake by the time a setup line is typed.
  warmUp().catch(() => {});
})();
