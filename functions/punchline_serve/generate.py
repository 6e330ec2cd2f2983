"""Sampling punchlines: every concurrent request advances together, one model pass per character.

Each request becomes a Job with its own rows (one per punchline), recurrent carry and random generator.
Whichever waiting request finds no one driving becomes the driver: it runs steps for *all* active jobs
(priming the setup line, then sampling) until its own job is done, then hands over. So a lone request
runs alone, and concurrent ones share each model pass and the Python work around it.
"""

import threading

import numpy as np

from .model import Carry, CharModel

_WORD_END = set(" \t.,!?;:)\"'")


def _sample(logits: np.ndarray, temperatures: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """One character per row, from softmax(logits / temperature), using the uniform draws given."""
    scaled = logits.astype(np.float64) / temperatures[:, None]
    scaled -= scaled.max(axis=1, keepdims=True)
    cumulative = np.cumsum(np.exp(scaled), axis=1)
    picks = (cumulative < (draws * cumulative[:, -1])[:, None]).sum(axis=1)
    return np.minimum(picks, logits.shape[1] - 1)


def finish(chars: list[str], max_chars: int, ended: bool) -> str:
    """Trim a sampled line: whole if it ended itself, else cut back to the last word end."""
    text = "".join(chars)
    if not ended:
        if len(text) > max_chars and text[max_chars] not in _WORD_END:
            cut = max((text.rfind(c, 0, max_chars + 1) for c in " \t"), default=-1)
            text = text[:cut] if cut > 0 else text[:max_chars]
        text = text[:max_chars]
    return " ".join(text.split())


class Job:
    """One request's punchlines in the making."""

    def __init__(self, model: CharModel, prompt: str, n: int, temperature: float, max_chars: int, seed: int,
                 marks: bool = False):
        self.context = model.encode(" ".join(prompt.split())) + [model.newline]
        self.n, self.temperature, self.max_chars = n, temperature, max_chars
        self.rng = np.random.default_rng(seed)
        self.carry: Carry = model.start(1)  # one row while priming; n rows once sampling starts
        self.primed = 0  # setup characters fed so far
        self.setup_state: tuple[np.ndarray, Carry] | None = None  # (logits, carry) right after the setup
        self.logits: np.ndarray | None = None
        self.lines: list[list[str]] = [[] for _ in range(n)]
        self.ended = [False] * n
        self.live = list(range(n))  # rows still being written, in the order of the carry's rows
        # with marks: for each row, (characters written, logits, carry) wherever a word was about to start
        self.marks: list[list[tuple[int, np.ndarray, Carry]]] | None = [[] for _ in range(n)] if marks else None
        self.done = False
        self.error: Exception | None = None

    @property
    def priming(self) -> bool:
        return self.primed < len(self.context)

    def next_ids(self, model: CharModel, picks: np.ndarray | None) -> np.ndarray | None:
        """The ids this job feeds the next pass (its picks, once sampling), or None when it has finished.

        A row whose line is finished leaves the batch (its carry and logits are dropped), so a request's
        later passes only hold the lines still being written.
        """
        if self.priming:
            return np.array([self.context[self.primed]], dtype=np.int32)
        for i, (row, char_id) in enumerate(zip(self.live, picks.tolist())):
            if char_id == model.newline:
                self.ended[row] = True
                continue
            char, line = model.vocabulary[char_id], self.lines[row]
            if self.marks is not None and line and line[-1].isspace() and not char.isspace():
                # copies, so a mark does not keep this whole pass's arrays alive
                self.marks[row].append((len(line), self.logits[i].copy(), self.carry[[i]]))
            line.append(char)
        keep = np.array([not self._finished(row) for row in self.live])
        if not keep.any():
            return None
        if not keep.all():
            self.live = [row for row, kept in zip(self.live, keep) if kept]
            self.carry = self.carry[keep]
        return picks[keep]

    def _finished(self, row: int) -> bool:
        """The row's line ended, or ran one character past max_chars (finish() trims it)."""
        return self.ended[row] or len(self.lines[row]) > self.max_chars

    def take(self, model: CharModel, logits: np.ndarray, carry: Carry) -> None:
        """Keep what the pass returned for this job's rows."""
        self.carry = carry
        if self.priming:
            self.primed += 1
            if self.primed == len(self.context):  # primed: fan out to one row per punchline
                self.setup_state = (logits, carry)
                self.carry = carry.repeat(self.n)
                logits = np.repeat(logits, self.n, axis=0)
                logits[:, model.newline] = -np.inf  # a punchline is never empty
        self.logits = logits

    def state_after(self, row: int, text: str) -> tuple[np.ndarray, Carry] | None:
        """The logits and carry of `row` where its line had written `text` and then a space (whitespace
        compared normalised), if the job kept marks and sampling went through that point; else None."""
        for length, logits, carry in reversed(self.marks[row] if self.marks is not None else []):
            if " ".join("".join(self.lines[row][:length]).split()) == text:
                return logits, carry
        return None

    @property
    def rows(self) -> int:
        return len(self.carry.state)

    def result(self) -> list[tuple[str, bool]]:
        """(punchline, whether it ended on its own rather than at max_chars) for each row."""
        return [(finish(chars, self.max_chars, ended), ended) for chars, ended in zip(self.lines, self.ended)]


class Generator:
    """Runs every concurrent Job of one model together (see the module docstring)."""

    def __init__(self, model: CharModel):
        self.model = model
        self._cond = threading.Condition()
        self._active: list[Job] = []
        self._driving = False

    def punchlines(self, prompt: str, n: int, temperature: float, max_chars: int, seed: int) -> list[str]:
        """n punchlines answering `prompt`; the same inputs and seed give the same lines."""
        return [line for line, _ in self.generate(prompt, n, temperature, max_chars, seed)]

    def generate(self, prompt: str, n: int, temperature: float, max_chars: int,
                 seed: int) -> list[tuple[str, bool]]:
        """Like punchlines(), with whether each line ended on its own (else it was trimmed at max_chars)."""
        return self.run(Job(self.model, prompt, n, temperature, max_chars, seed))

    def run(self, job: Job) -> list[tuple[str, bool]]:
        """Run one job alongside every other in flight; its setup_state is kept for the caller."""
        with self._cond:
            self._active.append(job)
            while not job.done:
                if not self._driving:
                    self._driving = True
                    break
                self._cond.wait()
        if not job.done:
            try:
                while not job.done:
                    self._step()
            except Exception as exc:  # a bug in the step itself: fail every job in flight, keep none
                with self._cond:
                    for active in self._active:
                        active.error, active.done = exc, True
                    self._active.clear()
            finally:
                with self._cond:
                    self._driving = False
                    self._cond.notify_all()
        if job.error is not None:
            raise job.error
        return job.result()

    def _step(self) -> None:
        """One pass for every active job: collect their ids, run the model once, hand back the rows."""
        with self._cond:
            jobs = list(self._active)
        sampling = [job for job in jobs if not job.priming]
        picks: dict[int, np.ndarray] = {}
        if sampling:  # one vectorised draw for every sampling row; each job's own generator gives its draws
            bounds = np.cumsum([0] + [job.rows for job in sampling])
            all_picks = _sample(np.concatenate([job.logits for job in sampling]),
                                np.repeat([job.temperature for job in sampling], np.diff(bounds)),
                                np.concatenate([job.rng.random(job.rows) for job in sampling]))
            picks = {id(job): all_picks[bounds[i]:bounds[i + 1]] for i, job in enumerate(sampling)}
        feeding, ids = [], []
        finished = []
        for job in jobs:
            try:
                job_ids = job.next_ids(self.model, picks.get(id(job)))
            except Exception as exc:  # a job's own failure ends that job only
                job.error = exc
                job_ids = None
            if job_ids is None:
                finished.append(job)
            else:
                feeding.append(job)
                ids.append(job_ids)
        if feeding:
            carry = Carry.concat([j.carry for j in feeding])
            try:
                logits, carry = self.model.step(np.concatenate(ids), carry)
            except Exception as exc:  # the model failed: every job in this pass sees it
                for job in feeding:
                    job.error = exc
                finished.extend(feeding)
            else:
                start = 0
                for job in feeding:
                    rows = slice(start, start + job.rows)
                    start += job.rows
                    job.take(self.model, logits[rows], carry[rows])
        if finished:
            with self._cond:
                for job in finished:
                    job.done = True
                    self._active.remove(job)
                self._cond.notify_all()
